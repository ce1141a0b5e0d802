"""Rewards (next: issue 10). Rewarders are plugins (an entry-point group, like executors and
sandboxes) that read a scored submission and its phase's rewarder settings and propose rewards;
the pure core decides, and the reward ledger (in :mod:`scorer.ledger`) grants each exactly once.
Achievements are named, versioned rewards. Routes go in :mod:`scorer.service.routes`."""
