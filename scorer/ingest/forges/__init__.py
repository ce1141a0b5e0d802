"""Forge webhooks as pure functions, one module per forge; :data:`FORGES` is their registry
(built-ins, then the ``coop.forges`` entry points). What all forges share is in :mod:`.base`."""

from __future__ import annotations

from scorer.ingest.forges.base import ForgeWebhooks
from scorer.ingest.forges.gitea import GiteaWebhooks
from scorer.ingest.forges.github import GitHubWebhooks
from scorer.ingest.forges.gitlab import GitLabWebhooks
from scorer.registry import Registry

FORGES: Registry[ForgeWebhooks] = Registry("forge", "coop.forges")
for _forge in (GitHubWebhooks(), GitLabWebhooks(), GiteaWebhooks()):
    FORGES.register(_forge.name, _forge)
