"""Credit for measured score gains on the commit graph (a pure core; git only in
:mod:`scorer.credit.history`).

:mod:`~scorer.credit.graph` holds the graph (one node per scored solution version, git parents and
copy parents), :mod:`~scorer.credit.ladder` the credit (best-so-far with the metric's noise
threshold, increments split among verified people, exact Shapley splits at merges, descendants-only
updates), :mod:`~scorer.credit.audit` a sampled Shapley audit of it. The ledger, the service and
the CLI read credit from here.
"""
