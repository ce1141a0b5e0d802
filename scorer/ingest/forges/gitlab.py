"""GitLab push webhooks: ``X-Gitlab-Token``, ``Idempotency-Key`` (else the event UUID),
``X-Gitlab-Event: Push Hook``."""

from __future__ import annotations

from typing import Literal

from scorer.ingest.forges.base import (
    ForgeWebhooks,
    Login,
    Payload,
    PushPayload,
    equal_digest,
)


class _GitLabProject(Payload):
    path_with_namespace: str
    git_http_url: str
    git_ssh_url: str = ""
    web_url: str = ""


class _GitLabPush(PushPayload):
    object_kind: Literal["push", "tag_push"]
    user_username: Login
    project: _GitLabProject

    def location(self) -> tuple[str, tuple[str, ...]]:
        project = self.project
        return project.path_with_namespace, (project.git_http_url, project.git_ssh_url, project.web_url)

    def pusher_login(self) -> str:
        return self.user_username


class GitLabWebhooks(ForgeWebhooks):
    name = "gitlab"
    label = "GitLab"
    signature_header = "X-Gitlab-Token"
    event_header = "X-Gitlab-Event"
    delivery_headers = ("Idempotency-Key", "X-Gitlab-Event-UUID")
    push_events = frozenset({"Push Hook", "Tag Push Hook"})
    payload = _GitLabPush

    def signed(self, signature: str, body: bytes, secret: str) -> bool:
        return equal_digest(signature, secret)  # GitLab sends the secret itself, over TLS
