"""Commits becoming submissions: the challenge repository, attribution, push policy, hooks,
push-to-score, submission limits and forges."""
