"""Rewards. Rewarders are plugins (the entry-point group ``coop.rewarders``, built-ins
included) with a params model and a pure decision over ledger views, live (a submission scored,
public scores) or at settlement (the phase ends, private scores); the reward ledger (in
:mod:`scorer.ledger`) grants each proposed grant exactly once by its idempotency key. Routes go
in :mod:`scorer.service.routes`."""
