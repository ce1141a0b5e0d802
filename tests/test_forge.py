"""Forge webhooks, pure: signatures, delivery ids, events and the documented push payloads.

Signatures are computed here with ``hmac`` from the forges' documented recipes, independently
of :mod:`scorer.ingest.forges`; payloads are the examples in ``tests/payloads/`` (see its README).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from coop_client.git import ZERO_SHA
from scorer.challenge.spec import Forge
from scorer.exceptions import CoopError, MalformedDelivery, SignatureMismatch
from scorer.ingest.forges import FORGES
from scorer.ingest.forges.base import hub_user
from scorer.ingest.forges.gitea import GiteaWebhooks
from scorer.ingest.forges.github import GitHubWebhooks
from scorer.ingest.forges.gitlab import GitLabWebhooks
from scorer.registry import Registry

PAYLOADS = Path(__file__).with_name("payloads")
SECRET = "It's a Secret to Everybody"


def body_of(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def github_headers(body: bytes, secret: str = SECRET, event: str = "push") -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }


def gitlab_headers(secret: str = SECRET, event: str = "Push Hook") -> dict[str, str]:
    return {
        "X-Gitlab-Event": event,
        "X-Gitlab-Token": secret,
        "X-Gitlab-Event-UUID": "13792a34-cac6-4bda-95a8-c58d4cdf7a3b",
        "X-Gitlab-Instance": "https://gitlab.example.com",
    }


def gitea_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Gitea-Event": "push",
        "X-Gitea-Delivery": "f6266f16-1bf3-46a5-9ea4-602e06ead473",
        "X-Gitea-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def test_the_registry_holds_the_three_forges_and_names_the_known_ones_for_an_unknown_one():
    forges = Registry("forge", FORGES)
    assert forges.names() == ["gitea", "github", "gitlab"]
    assert forges.get("github") is GitHubWebhooks and forges.get("GitLab") is GitLabWebhooks
    with pytest.raises(CoopError, match=r"unknown forge 'bitbucket' \(known: gitea, github, gitlab\)"):
        forges.get("bitbucket")


def test_a_github_signature_of_the_raw_body_picks_the_challenge_whose_secret_made_it():
    body = body_of("github-push.json")
    headers = github_headers(body)
    secrets = {"other": "not this one", "curve": SECRET, "empty": ""}
    assert GitHubWebhooks().signers(headers, body, secrets) == ["curve"]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("wrong secret", "matches the secret of no challenge hosted on GitHub"),
        ("tampered body", "matches the secret of no challenge hosted on GitHub"),
        ("no header", "has no X-Hub-Signature-256 header"),
        ("sha1 only", "has no X-Hub-Signature-256 header"),
        ("hex without prefix", "matches the secret of no challenge hosted on GitHub"),
    ],
)
def test_a_github_delivery_not_signed_with_a_known_secret_is_refused(change, why):
    body = body_of("github-push.json")
    headers = github_headers(body, secret="guessed" if change == "wrong secret" else SECRET)
    if change == "tampered body":
        body = body.replace(b'"forced": false', b'"forced": true')
    if change in {"no header", "sha1 only"}:
        del headers["X-Hub-Signature-256"]
    if change == "sha1 only":  # the legacy header is not enough
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    if change == "hex without prefix":
        headers["X-Hub-Signature-256"] = headers["X-Hub-Signature-256"].removeprefix("sha256=")
    with pytest.raises(SignatureMismatch, match=why):
        GitHubWebhooks().signers(headers, body, {"curve": SECRET})


def test_gitlab_sends_the_secret_itself_and_gitea_an_unprefixed_hmac():
    gitlab, gitea = GitLabWebhooks(), GiteaWebhooks()
    body = body_of("gitlab-push.json")
    assert gitlab.signers(gitlab_headers(), body, {"curve": SECRET}) == ["curve"]
    with pytest.raises(SignatureMismatch, match="X-Gitlab-Token of this delivery matches"):
        gitlab.signers(gitlab_headers(secret=SECRET + " "), body, {"curve": SECRET + "!"})
    with pytest.raises(SignatureMismatch, match="no X-Gitlab-Token header"):
        gitlab.signers({"X-Gitlab-Event": "Push Hook"}, body, {"curve": SECRET})
    body = body_of("gitea-push.json")
    assert gitea.signers(gitea_headers(body), body, {"curve": SECRET}) == ["curve"]
    with pytest.raises(SignatureMismatch):
        gitea.signers(gitea_headers(body), body + b" ", {"curve": SECRET})
    with pytest.raises(SignatureMismatch):
        gitea.signers(gitea_headers(body, secret="other"), body, {"curve": SECRET})


def test_header_names_are_case_insensitive_like_http():
    body = body_of("gitea-push.json")
    lowered = {k.lower(): v for k, v in gitea_headers(body).items()}
    assert GiteaWebhooks().signers(lowered, body, {"curve": SECRET}) == ["curve"]
    assert GiteaWebhooks().push_event(lowered, body).delivery_id == "f6266f16-1bf3-46a5-9ea4-602e06ead473"


def test_the_documented_github_push_payload():
    body = body_of("github-push.json")
    push = GitHubWebhooks().push_event(github_headers(body), body)
    assert push.forge == "github"
    assert push.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert (push.full_name, push.ref) == ("coop-lab/curve", "refs/heads/main")
    assert push.before == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    assert push.after == push.commits[-1] == "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
    assert push.pusher == "Codertocat"  # sender.login: the account, not the committer "GitHub"
    assert "https://github.com/coop-lab/curve.git" in push.urls and not push.deleted


def test_the_documented_gitlab_push_payload_and_its_delivery_id():
    body = body_of("gitlab-push.json")
    headers = gitlab_headers()
    push = GitLabWebhooks().push_event(headers, body)
    assert (push.forge, push.full_name, push.pusher) == ("gitlab", "coop-lab/curve", "jsmith")
    assert push.commits == (
        "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
        "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    )
    assert push.delivery_id == "13792a34-cac6-4bda-95a8-c58d4cdf7a3b"
    # GitLab keeps Idempotency-Key across its retries, so it wins over the event UUID
    retried = {**headers, "Idempotency-Key": "0fa4d5fe-ccbb-4a5f-a2e5-1b1f1c7b0a55"}
    assert GitLabWebhooks().push_event(retried, body).delivery_id == "0fa4d5fe-ccbb-4a5f-a2e5-1b1f1c7b0a55"
    assert GitLabWebhooks().kind("Tag Push Hook") == "push"
    assert GitLabWebhooks().kind("Merge Request Hook") == "other"


def test_the_documented_gitea_push_payload():
    body = body_of("gitea-push.json")
    push = GiteaWebhooks().push_event(gitea_headers(body), body)
    assert (push.forge, push.full_name, push.ref, push.pusher) == (
        "gitea",
        "coop-lab/curve",
        "refs/heads/develop",
        "gitea",
    )
    assert push.after == "bffeb74224043ba2feb48d137756c8a9331c449a"


def test_events_are_pushes_pings_or_other():
    github = GitHubWebhooks()
    assert [github.kind(e) for e in ("push", "ping", "issues", "Push")] == ["push", "ping", "other", "other"]
    assert GiteaWebhooks().kind("ping") == "other"  # Gitea's test delivery is a push
    with pytest.raises(MalformedDelivery, match="no X-GitHub-Event header"):
        github.event({"X-GitHub-Delivery": "x"})


def test_a_deleted_branch_is_a_push_to_zero():
    data = json.loads(body_of("github-push.json"))
    data.update(after=ZERO_SHA, deleted=True, commits=[], head_commit=None)
    body = json.dumps(data).encode()
    assert GitHubWebhooks().push_event(github_headers(body), body).deleted


_DELETE = object()


def _github_payload(**changes: object) -> bytes:
    """The GitHub example with ``a__b=value`` set (or deleted with ``_DELETE``)."""
    data = json.loads(body_of("github-push.json"))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for part in parents:
            target = target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"payload=%7B%22ref%22%3A", "the GitHub payload is not JSON .*content type to application/json"),
        (b"\xff\xfe{}", "the GitHub payload is not JSON"),
        (b"[1, 2]", "the GitHub payload is not a JSON object"),
        (_github_payload(after=_DELETE), r"not a GitHub push payload: after: Field required"),
        (_github_payload(after=123), r"after: Input should be a valid string"),
        (_github_payload(after="HEAD"), r"after: String should match pattern"),
        (_github_payload(ref="main"), r"ref: String should match pattern"),
        (_github_payload(ref="refs/pull/7/head"), r"ref: String should match pattern"),
        (_github_payload(commits="none"), r"commits: Input should be a valid list"),
        (_github_payload(commits=[{"message": "x"}]), r"commits\.0\.id: Field required"),
        (_github_payload(sender=_DELETE), r"sender: Field required"),
        (_github_payload(sender__login="two words"), r"sender\.login: String should match pattern"),
        (_github_payload(repository__clone_url=None), r"repository\.clone_url: Input should be a valid str"),
    ],
)
def test_a_malformed_payload_is_refused_with_what_is_wrong(body, message):
    with pytest.raises(MalformedDelivery, match=message):
        GitHubWebhooks().push_event(github_headers(body), body)


def test_every_problem_of_a_payload_is_named_at_once():
    body = json.dumps({"object_kind": "push", "ref": "refs/heads/main", "before": ZERO_SHA}).encode()
    with pytest.raises(MalformedDelivery) as refused:
        GitLabWebhooks().push_event(gitlab_headers(), body)
    for field in ("after", "commits", "user_username", "project"):
        assert f"{field}: Field required" in refused.value.user_message


def test_a_delivery_id_is_required_and_bounded():
    body = body_of("github-push.json")
    headers = github_headers(body)
    del headers["X-GitHub-Delivery"]
    with pytest.raises(MalformedDelivery, match="no X-GitHub-Delivery header"):
        GitHubWebhooks().push_event(headers, body)
    with pytest.raises(MalformedDelivery, match="no Idempotency-Key or X-Gitlab-Event-UUID header"):
        GitLabWebhooks().push_event({"X-Gitlab-Token": SECRET}, body_of("gitlab-push.json"))
    with pytest.raises(MalformedDelivery, match="at most 128 printable characters"):
        GitHubWebhooks().push_event({**headers, "X-GitHub-Delivery": "x" * 129}, body)


def test_a_push_names_its_repository_by_full_name_or_by_clone_url():
    body = body_of("github-push.json")
    push = GitHubWebhooks().push_event(github_headers(body), body)
    assert push.is_for("https://elsewhere.example/x.git", "Coop-Lab/Curve")
    assert not push.is_for("https://github.com/coop-lab/curve.git", "coop-lab/other")
    assert push.is_for("https://GitHub.com/coop-lab/curve/")
    assert push.is_for("git@github.com:coop-lab/curve.git")
    assert not push.is_for("https://github.com/coop-lab/curve-2.git")
    local = push.model_copy(update={"urls": ("/srv/forge/curve.git",)})
    assert local.is_for("file:///srv/forge/curve.git") and local.is_for("/srv/forge/curve")


def test_a_forge_login_is_the_same_hub_user_unless_the_map_says_otherwise():
    logins = {"github:Octocat": "alice", "gitlab:jsmith": "john"}
    assert hub_user("github", "octocat", logins) == "alice"  # keys compared case-insensitively
    assert hub_user("gitlab", "jsmith", logins) == "john"
    assert hub_user("gitea", "jsmith", logins) == "jsmith"  # another forge: another account
    assert hub_user("github", "Codertocat", logins) == "codertocat"  # as the hub normalises it


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"kind": "bitbucket", "repository": "https://bitbucket.org/a/b.git"}, "kind"),
        ({"kind": "github", "repository": "git@github.com:coop-lab/curve.git"}, "repository"),
        ({"kind": "github", "repository": "relative/curve.git"}, "repository"),
        ({"kind": "github", "repository": "https://github.com/a/b.git", "secret": "no"}, "secret"),
    ],
)
def test_the_forge_section_of_challenge_yaml_names_a_known_forge_a_fetchable_url_and_no_secret(
    section, problem
):
    with pytest.raises(ValidationError) as refused:
        Forge.model_validate(section)
    assert [e["loc"][0] for e in refused.value.errors()] == [problem]
    assert Forge.model_validate({"kind": "gitea", "repository": "file:///srv/curve.git"}).full_name is None
