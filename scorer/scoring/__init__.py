"""One submission scored: sanitize, run in the sandbox, collect predictions, score, record."""
