"""Credit for measured score gains on the commit graph (a pure core; git and the ledger only in
:mod:`scorer.credit.history` and :mod:`scorer.credit.phase`).

:mod:`~scorer.credit.graph` holds the graph (one node per scored solution version, git parents and
copy parents), :mod:`~scorer.credit.ladder` the credit (best-so-far with the metric's noise
threshold, increments split among verified people, exact Shapley splits at merges, descendants-only
updates), :mod:`~scorer.credit.audit` a sampled Shapley audit of it, :mod:`~scorer.credit.copies`
copies found by winnowed fingerprints, :mod:`~scorer.credit.contribution` the contribution graph as
data. :mod:`~scorer.credit.phase` reads a phase from the ledger and git and keeps its ladders up to
date; the facade, the service, the CLI and the ``credit-share`` rewarder read credit there.
"""
