"""Gitea push webhooks: ``X-Gitea-Signature``, ``X-Gitea-Delivery``, ``X-Gitea-Event``."""

from __future__ import annotations

from scorer.ingest.forges.base import (
    Account,
    ForgeWebhooks,
    Payload,
    PushPayload,
    equal_digest,
    hmac_sha256,
)


class _GiteaRepository(Payload):
    full_name: str
    clone_url: str
    html_url: str = ""
    ssh_url: str = ""


class _GiteaPush(PushPayload):
    repository: _GiteaRepository
    pusher: Account

    def location(self) -> tuple[str, tuple[str, ...]]:
        repo = self.repository
        return repo.full_name, (repo.clone_url, repo.html_url, repo.ssh_url)

    def pusher_login(self) -> str:
        return self.pusher.login


class GiteaWebhooks(ForgeWebhooks):
    name = "gitea"
    label = "Gitea"
    signature_header = "X-Gitea-Signature"
    event_header = "X-Gitea-Event"
    delivery_headers = ("X-Gitea-Delivery",)
    push_events = frozenset({"push"})
    payload = _GiteaPush

    def signed(self, signature: str, body: bytes, secret: str) -> bool:
        return equal_digest(signature, hmac_sha256(secret, body))
