"""GitHub push webhooks: ``X-Hub-Signature-256``, ``X-GitHub-Delivery``, ``X-GitHub-Event``."""

from __future__ import annotations

from scorer.ingest.forges.base import (
    ForgeWebhooks,
    _Account,
    _equal,
    _hmac_sha256,
    _Payload,
    _Push,
)


class _GitHubRepository(_Payload):
    full_name: str
    clone_url: str
    html_url: str = ""
    ssh_url: str = ""
    git_url: str = ""


class _GitHubPush(_Push):
    repository: _GitHubRepository
    sender: _Account  # the account that pushed (``pusher`` holds its git name and email)

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
        return _equal(signature, "sha256=" + _hmac_sha256(secret, body))
