"""GitHub push webhooks: ``X-Hub-Signature-256``, ``X-GitHub-Delivery``, ``X-GitHub-Event``."""

from __future__ import annotations

from scorer.ingest.forges.base import (
    Account,
    ForgeWebhooks,
    Payload,
    PushPayload,
    equal_digest,
    hmac_sha256,
)


class _GitHubRepository(Payload):
    full_name: str
    clone_url: str
    html_url: str = ""
    ssh_url: str = ""
    git_url: str = ""


class _GitHubPush(PushPayload):
    repository: _GitHubRepository
    sender: Account  # the account that pushed (``pusher`` holds its git name and email)

    def location(self) -> tuple[str, tuple[str, ...]]:
        repo = self.repository
        return repo.full_name, (repo.clone_url, repo.html_url, repo.ssh_url, repo.git_url)

    def pusher_login(self) -> str:
        return self.sender.login


class GitHubWebhooks(ForgeWebhooks):
    name = "github"
    label = "GitHub"
    signature_header = "X-Hub-Signature-256"
    event_header = "X-GitHub-Event"
    delivery_headers = ("X-GitHub-Delivery",)
    push_events = frozenset({"push"})
    ping_events = frozenset({"ping"})
    payload = _GitHubPush

    def signed(self, signature: str, body: bytes, secret: str) -> bool:
        return equal_digest(signature, "sha256=" + hmac_sha256(secret, body))
