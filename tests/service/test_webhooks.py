"""Forge mode for real: signed push webhooks to uvicorn on loopback, a bare repository as the forge.

One scorer hosts three challenges, one per forge. Each challenge's ``forge.repository`` is a bare
repository on disk standing in for GitHub, GitLab or Gitea: people push to it with the git CLI,
then the test delivers that forge's push payload (``tests/payloads/``, with the push's ref, SHAs,
repository and pusher) signed as the forge signs it. GitHub and Gitea are matched by full name,
GitLab by clone URL (a ``file://`` URL in the payload, a path in the challenge). Scoring is not
run: the dispatcher is not started, so queued submissions stay queued.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nbformat
import pytest
import yaml
from sqlalchemy import func, select

from coop_client.git import ZERO_SHA
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ingest import spool
from scorer.ledger.commits import credited
from scorer.ledger.models import ChallengeRow, CommitRow, Person, Submission, WebhookDelivery
from scorer.service.app import create_app
from scorer.service.routes import webhooks
from tests.conftest import ChallengeFixture, git, make_challenge
from tests.service.conftest import PREFIX, TOKENS, running

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
KINDS = ("github", "gitlab", "gitea")
SECRETS = {f"curve-{kind}": f"{kind}-webhook-secret" for kind in KINDS}
#: Who pushes as whom on each forge; the scorer maps them back to hub users.
LOGINS = {
    "github": {"alice": "Alice-GH", "bob": "Bob"},  # Alice-GH: mapped below; Bob: "bob" by default
    "gitlab": {"alice": "alice", "bob": "bob"},
    "gitea": {"alice": "Alice", "bob": "bob-on-gitea"},
}
FORGE_LOGINS = {"github:alice-gh": "alice", "gitea:Bob-On-Gitea": "bob"}


@dataclass(frozen=True)
class Pushed:
    ref: str
    before: str
    after: str


@dataclass
class Forge:
    kind: str
    fixture: ChallengeFixture

    @property
    def challenge_id(self) -> str:
        return self.fixture.challenge_id

    @property
    def repository(self) -> Path:
        return self.fixture.bare

    def push(self, user: str, files: dict[str, str], *, author: str | None = None) -> Pushed:
        """Commit ``files`` on a new branch of the organiser's ``main`` and push it to the forge."""
        clone, ref = self.fixture.clone, f"refs/heads/{user}/{uuid.uuid4().hex[:8]}"
        git(clone, "checkout", "-q", "-B", ref.removeprefix("refs/heads/"), "origin/main")
        for relative, content in files.items():
            (clone / relative).parent.mkdir(parents=True, exist_ok=True)
            (clone / relative).write_text(content)
        git(clone, "add", "--all")
        git(clone, "commit", "-q", "-m", f"{user}: {', '.join(files)}", user=author or user)
        git(clone, "push", "-q", "origin", f"HEAD:{ref}", user=user)
        return Pushed(ref, ZERO_SHA, git(clone, "rev-parse", "HEAD"))

    def payload(self, pushed: Pushed, login: str) -> bytes:
        """This forge's documented push payload, describing ``pushed`` by ``login``."""
        data = json.loads((PAYLOADS / f"{self.kind}-push.json").read_text())
        commit = {**data["commits"][-1], "id": pushed.after}
        data.update(ref=pushed.ref, before=pushed.before, after=pushed.after, commits=[commit])
        if self.kind == "github":
            data["repository"].update(full_name="coop-lab/curve-github", clone_url=str(self.repository))
            data["head_commit"] = commit
            data["sender"]["login"] = data["pusher"]["name"] = login
        elif self.kind == "gitlab":
            data["project"]["git_http_url"] = self.repository.as_uri()
            data.update(checkout_sha=pushed.after, user_username=login, total_commits_count=1)
        else:
            data["repository"].update(full_name="coop-lab/curve-gitea", clone_url=self.repository.as_uri())
            data["head_commit"] = commit
            data["pusher"].update(login=login, username=login)
            data["sender"].update(login=login, username=login)
        return json.dumps(data, indent=2).encode()


def signed(kind: str, body: bytes, *, secret: str, event: str | None = None, delivery: str = "") -> dict:
    """The headers ``kind`` sends with ``body`` (as its documentation shows them)."""
    delivery = delivery or str(uuid.uuid4())
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if kind == "github":
        return {
            "User-Agent": "GitHub-Hookshot/044aadd",
            "Content-Type": "application/json",
            "X-GitHub-Event": event or "push",
            "X-GitHub-Delivery": delivery,
            "X-GitHub-Hook-ID": "292430182",
            "X-Hub-Signature-256": f"sha256={digest}",
        }
    if kind == "gitlab":
        return {
            "User-Agent": "GitLab/17.5.0",
            "Content-Type": "application/json",
            "X-Gitlab-Event": event or "Push Hook",
            "X-Gitlab-Token": secret,
            "X-Gitlab-Event-UUID": delivery,
            "X-Gitlab-Instance": "https://gitlab.example.com",
        }
    return {
        "Content-Type": "application/json",
        "X-Gitea-Event": event or "push",
        "X-Gitea-Delivery": delivery,
        "X-Gitea-Signature": digest,
        "X-GitHub-Event": event or "push",  # Gitea sends GitHub's and Gogs' names too
        "X-GitHub-Delivery": delivery,
        "X-Gogs-Event": event or "push",
        # Gitea's optional "Authorization Header": the forge's, not a hub token
        "Authorization": "Bearer set-in-the-gitea-webhook-form",
    }


@dataclass
class Scorer:
    api: CoopAPI
    base: str  # http://127.0.0.1:<port>/services/coop
    forges: dict[str, Forge]

    def deliver(self, kind: str, body: bytes, headers: dict) -> httpx.Response:
        return httpx.post(f"{self.base}/webhooks/{kind}", content=body, headers=headers, timeout=60)

    def push_and_deliver(self, kind: str, user: str, files: dict[str, str], **given: str) -> httpx.Response:
        forge = self.forges[kind]
        body = forge.payload(forge.push(user, files, **given), LOGINS[kind][user])
        return self.deliver(kind, body, signed(kind, body, secret=SECRETS[forge.challenge_id]))

    def stored(self) -> tuple[int, int, int]:
        """How many deliveries, commits and submissions the ledger holds."""
        with self.api.sessions() as session:
            return tuple(
                session.scalar(select(func.count()).select_from(table))
                for table in (WebhookDelivery, CommitRow, Submission)
            )

    def submissions(self, forge: Forge, sha: str) -> list[dict]:
        found = httpx.get(
            f"{self.base}/api/submissions", params={"challenge": forge.challenge_id, "commit": sha}
        )
        assert found.status_code == 200, found.text
        return found.json()


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scorer]:
    root = tmp_path_factory.mktemp("webhooks").resolve()
    forges = {}
    for kind in KINDS:
        section = {"kind": kind, "repository": str(root / kind / "challenge.git")}  # make_challenge's bare
        if kind != "gitlab":
            section["full_name"] = f"coop-lab/curve-{kind}"
        fixture = make_challenge(
            root / kind, name=f"Curve {kind}", edit={"forge": section, "phases.0.submissions": {}}
        )
        forges[kind] = Forge(kind, fixture)
    settings = ScorerSettings(home=str(root / "scorer"), webhook_secrets=SECRETS, forge_logins=FORGE_LOGINS)
    api = CoopAPI(settings)
    try:
        for forge in forges.values():
            api.register(str(forge.repository))
        with pytest.MonkeyPatch.context() as patch, running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            patch.setattr(webhooks, "ACK_WAIT", 120.0)  # answers say what each delivery led to
            yield Scorer(api, url + PREFIX.rstrip("/"), forges)
    finally:
        api.close()


def notebook(scorer: Scorer, kind: str) -> str:
    return nbformat.writes(scorer.forges[kind].fixture.baseline)


@pytest.mark.parametrize("kind", KINDS)
def test_a_signed_push_is_queued_for_the_hub_user_of_each_forge_login(scorer: Scorer, kind: str) -> None:
    forge = scorer.forges[kind]
    for user in ("alice", "bob"):
        path = f"solutions/{user}/fit.ipynb"
        response = scorer.push_and_deliver(kind, user, {path: notebook(scorer, kind)})
        assert response.status_code == 202, response.text
        receipt = response.json()
        assert (receipt["status"], receipt["forge"], receipt["challenge"]) == (
            "accepted",
            kind,
            forge.challenge_id,
        )
        assert receipt["pusher"] == user
        [sha] = receipt["commits"]
        [number] = receipt["submissions"]
        assert f"submission {number} queued: {path} (phase phase-1)" in receipt["messages"][0]
        assert f"{scorer.base}/api/submissions/{number}" in receipt["messages"][0]
        [listed] = scorer.submissions(forge, sha)
        assert (listed["id"], listed["person"], listed["status"], listed["notebook"]) == (
            number,
            user,
            "queued",
            path,
        )
        with scorer.api.sessions() as session:
            row = session.get_one(CommitRow, (forge.challenge_id, sha))
            assert session.get_one(Person, row.pusher_id).username == user
            assert row.ref.startswith(f"refs/heads/{user}/") and set(row.notebooks) == {path}
            delivery = session.get_one(WebhookDelivery, (kind, receipt["delivery"]))
            assert (delivery.challenge_id, delivery.event) == (forge.challenge_id, "push")
            assert delivery.outcome["submissions"] == [number]
    # the scorer reads these commits from the forge: the challenge's repo_url is the forge's URL
    with scorer.api.sessions() as session:
        assert session.get_one(ChallengeRow, forge.challenge_id).repo_url == str(forge.repository)


def test_the_forge_login_that_pushed_is_credited_never_the_author_line(scorer: Scorer) -> None:
    forge = scorer.forges["github"]
    path = "solutions/alice/forged.ipynb"
    response = scorer.push_and_deliver("github", "alice", {path: notebook(scorer, "github")}, author="bob")
    assert response.status_code == 202, response.text
    [sha] = response.json()["commits"]
    assert [s["person"] for s in scorer.submissions(forge, sha)] == ["alice"]
    with scorer.api.sessions() as session:
        assert session.get_one(CommitRow, (forge.challenge_id, sha)).author_name == "bob"
        assert credited(session, forge.challenge_id, sha) == ["alice"]


def test_forge_commits_are_held_to_the_path_rules_of_a_hub_push(scorer: Scorer) -> None:
    """The forge's branch protection is all that guards its repository: a commit that changes
    someone else's solutions or an organiser file is recorded, but not scored as the pusher's."""
    forge = scorer.forges["gitea"]
    theirs = {"solutions/bob/fit.ipynb": notebook(scorer, "gitea")}
    organisers = {"solutions/alice/fit2.ipynb": notebook(scorer, "gitea"), "scoring.py": "print('mine')\n"}
    for files, why in ((theirs, "is in bob's folder"), (organisers, "scoring.py is owned by the organiser")):
        response = scorer.push_and_deliver("gitea", "alice", files)
        assert response.status_code == 202, response.text
        receipt = response.json()
        [sha] = receipt["commits"]
        assert receipt["submissions"] == [] and scorer.submissions(forge, sha) == []
        assert any(f"commit {sha[:12]} not scored as alice's" in m and why in m for m in receipt["messages"])
        with scorer.api.sessions() as session:
            assert session.get(CommitRow, (forge.challenge_id, sha)) is not None


def test_a_delivery_is_answered_before_it_is_taken_and_survives_the_service(
    scorer: Scorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer comes once the delivery is checked and spooled (a forge gives up after ~10 s);
    what it led to is recorded with it, and a spooled delivery is taken after a restart."""
    forge = scorer.forges["github"]
    monkeypatch.setattr(webhooks, "ACK_WAIT", 0.0)
    body = forge.payload(
        forge.push("alice", {"solutions/alice/quick.ipynb": notebook(scorer, "github")}), "Alice-GH"
    )
    headers = signed("github", body, secret=SECRETS[forge.challenge_id])
    answered = scorer.deliver("github", body, headers)
    assert answered.status_code == 202, answered.text
    receipt = answered.json()
    assert (receipt["status"], receipt["challenge"], receipt["commits"]) == (
        "accepted",
        forge.challenge_id,
        [],
    )
    deadline = time.monotonic() + 120
    while (again := scorer.deliver("github", body, headers)).status_code != 200:
        assert time.monotonic() < deadline, again.text
        time.sleep(0.1)
    [sha] = again.json()["commits"]
    [submission] = scorer.submissions(forge, sha)
    assert again.json()["submissions"] == [submission["id"]]
    # a delivery spooled by a service that died before taking it: taken by the next one's loop
    body = forge.payload(
        forge.push("alice", {"solutions/alice/later.ipynb": notebook(scorer, "github")}), "Alice-GH"
    )
    headers = signed("github", body, secret=SECRETS[forge.challenge_id])
    home = scorer.api.settings.home_path
    entry = spool.spool_delivery(home, "github", headers, body, scorer.base, datetime.now(UTC))
    assert spool.drain(scorer.api, older_than=0) == 1 and not entry.exists()
    replay = scorer.deliver("github", body, headers)
    assert replay.status_code == 200 and len(replay.json()["submissions"]) == 1, replay.text


@pytest.mark.parametrize("kind", KINDS)
def test_a_bad_or_missing_signature_is_refused_and_stores_nothing(scorer: Scorer, kind: str) -> None:
    forge = scorer.forges[kind]
    pushed = forge.push("alice", {"solutions/alice/unsigned.ipynb": notebook(scorer, kind)})
    body = forge.payload(pushed, LOGINS[kind]["alice"])
    good = signed(kind, body, secret=SECRETS[forge.challenge_id])
    header = {"github": "X-Hub-Signature-256", "gitlab": "X-Gitlab-Token", "gitea": "X-Gitea-Signature"}[kind]
    other = "curve-gitea" if kind == "github" else "curve-github"
    before = scorer.stored()
    attempts = {
        "wrong secret": (body, signed(kind, body, secret="a guess")),
        "another forge's challenge's secret": (body, signed(kind, body, secret=SECRETS[other])),
        "tampered body": (body.replace(pushed.ref.encode(), b"refs/heads/main"), good),
        "missing header": (body, {k: v for k, v in good.items() if k != header}),
    }
    for what, (sent, headers) in attempts.items():
        if kind == "gitlab" and what == "tampered body":
            continue  # GitLab's token does not cover the body
        response = scorer.deliver(kind, sent, headers)
        assert response.status_code == 401, (what, response.text)
        assert header in response.json()["error"], (what, response.text)
    assert scorer.stored() == before
    assert scorer.submissions(forge, pushed.after) == []


def test_pings_and_other_events_are_answered_and_ignored(scorer: Scorer) -> None:
    forge = scorer.forges["github"]
    secret = SECRETS[forge.challenge_id]
    before = scorer.stored()
    ping = (PAYLOADS / "github-ping.json").read_bytes()
    response = scorer.deliver("github", ping, signed("github", ping, secret=secret, event="ping"))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "ignored" and "ping" in response.json()["reason"]
    pushed = forge.push("alice", {"solutions/alice/issue.ipynb": notebook(scorer, "github")})
    body = forge.payload(pushed, "Alice-GH")
    delivery = str(uuid.uuid4())
    for event in ("issues", "pull_request"):
        response = scorer.deliver(
            "github", body, signed("github", body, secret=secret, event=event, delivery=delivery)
        )
        assert response.status_code == 202, response.text
        assert response.json() == {
            "status": "ignored",
            "forge": "github",
            "reason": f"'{event}' events are not taken",
            "delivery": None,
            "challenge": None,
            "pusher": None,
            "commits": [],
            "submissions": [],
            "messages": [],
        }
    gitlab = scorer.forges["gitlab"]
    body = (PAYLOADS / "gitlab-push.json").read_bytes()
    headers = signed("gitlab", body, secret=SECRETS[gitlab.challenge_id], event="Merge Request Hook")
    assert scorer.deliver("gitlab", body, headers).json()["status"] == "ignored"
    assert scorer.stored() == before


def test_a_signed_push_to_another_repository_is_ignored(scorer: Scorer) -> None:
    """An organisation-wide webhook shares one secret across repositories."""
    forge = scorer.forges["gitea"]
    pushed = forge.push("alice", {"solutions/alice/elsewhere.ipynb": notebook(scorer, "gitea")})
    data = json.loads(forge.payload(pushed, "Alice"))
    data["repository"]["full_name"] = "coop-lab/lab-notes"
    body = json.dumps(data).encode()
    before = scorer.stored()
    response = scorer.deliver("gitea", body, signed("gitea", body, secret=SECRETS[forge.challenge_id]))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "ignored"
    assert "coop-lab/lab-notes is not the repository of a challenge" in response.json()["reason"]
    assert scorer.stored() == before


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ("form encoded", 400, "the GitHub payload is not JSON .* content type to application/json"),
        ("no after", 400, "not a GitHub push payload: after: Field required"),
        ("after is a number", 400, "after: Input should be a valid string"),
        ("sender is a string", 400, "sender: Input should be a valid dictionary"),
        ("not a branch", 400, "ref: String should match pattern"),
        ("no delivery id", 400, "the delivery has no X-GitHub-Delivery header"),
        ("no event", 400, "the delivery has no X-GitHub-Event header"),
        ("a gone commit", 502, "cannot fetch commit 0123456789ab from the forge now"),
    ],
)
def test_a_malformed_delivery_is_refused_with_what_is_wrong(
    scorer: Scorer, change: str, status: int, message: str
) -> None:
    forge = scorer.forges["github"]
    pushed = forge.push("bob", {"solutions/bob/malformed.ipynb": notebook(scorer, "github")})
    data = json.loads(forge.payload(pushed, "Bob"))
    edits = {
        "no after": lambda d: d.pop("after"),
        "after is a number": lambda d: d.update(after=12345),
        "sender is a string": lambda d: d.update(sender="Bob"),
        "not a branch": lambda d: d.update(ref="refs/pull/3/head"),
        "a gone commit": lambda d: d.update(after="0123456789abcdef" * 2 + "01234567"),
    }
    if change in edits:
        edits[change](data)
    body = b"payload=" + json.dumps(data).encode() if change == "form encoded" else json.dumps(data).encode()
    headers = signed("github", body, secret=SECRETS[forge.challenge_id])
    headers.pop({"no delivery id": "X-GitHub-Delivery", "no event": "X-GitHub-Event"}.get(change, ""), None)
    before = scorer.stored()
    response = scorer.deliver("github", body, headers)
    assert response.status_code == status, response.text
    assert response.json().keys() == {"error", "code"}
    assert re.search(message, response.json()["error"]), response.text
    assert scorer.stored() == before


def test_a_replayed_delivery_creates_nothing_and_says_so(scorer: Scorer) -> None:
    forge = scorer.forges["gitlab"]
    pushed = forge.push("alice", {"solutions/alice/replayed.ipynb": notebook(scorer, "gitlab")})
    body = forge.payload(pushed, "alice")
    headers = signed("gitlab", body, secret=SECRETS[forge.challenge_id])
    first = scorer.deliver("gitlab", body, headers)
    assert first.status_code == 202, first.text
    assert len(first.json()["submissions"]) == 1
    after_first = scorer.stored()
    again = scorer.deliver("gitlab", body, headers)
    assert again.status_code == 200, again.text
    replay = again.json()
    assert replay["status"] == "already processed"
    assert f"delivery {headers['X-Gitlab-Event-UUID']} was processed at" in replay["reason"]
    assert replay["submissions"] == first.json()["submissions"]  # what it led to, created once
    assert scorer.stored() == after_first
    assert len(scorer.submissions(forge, pushed.after)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_commits_under_a_new_delivery_id_are_not_queued_twice(scorer: Scorer, kind: str) -> None:
    forge = scorer.forges[kind]
    pushed = forge.push("bob", {"solutions/bob/twice.ipynb": notebook(scorer, kind)})
    body = forge.payload(pushed, LOGINS[kind]["bob"])
    secret = SECRETS[forge.challenge_id]
    assert scorer.deliver(kind, body, signed(kind, body, secret=secret)).status_code == 202
    deliveries, commits, submissions = scorer.stored()
    again = scorer.deliver(kind, body, signed(kind, body, secret=secret))  # a new delivery id
    assert again.status_code == 202, again.text
    assert (again.json()["status"], again.json()["commits"], again.json()["submissions"]) == (
        "accepted",
        [],
        [],
    )
    assert scorer.stored() == (deliveries + 1, commits, submissions)
    # the same commit pushed to a second branch (by someone else) brings nothing new either
    git(forge.fixture.clone, "push", "-q", "origin", f"{pushed.after}:refs/heads/alice/copy-{kind}")
    copy = forge.payload(
        Pushed(f"refs/heads/alice/copy-{kind}", ZERO_SHA, pushed.after), LOGINS[kind]["alice"]
    )
    response = scorer.deliver(kind, copy, signed(kind, copy, secret=secret))
    assert response.status_code == 202 and response.json()["submissions"] == [], response.text
    assert [s["person"] for s in scorer.submissions(forge, pushed.after)] == ["bob"]


def test_a_push_to_the_organiser_branch_reads_the_new_spec_from_the_forge(scorer: Scorer) -> None:
    forge = scorer.forges["gitea"]
    clone = forge.fixture.clone
    git(clone, "checkout", "-q", "-B", "main", "origin/main")
    spec = yaml.safe_load((clone / "challenge.yaml").read_text())
    spec["title"] = "Curve, now on Gitea"
    (clone / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    git(clone, "commit", "-q", "-am", "Retitle")
    before = git(clone, "rev-parse", "origin/main")
    git(clone, "push", "-q", "origin", "HEAD:refs/heads/main")
    pushed = Pushed("refs/heads/main", before, git(clone, "rev-parse", "HEAD"))
    body = forge.payload(pushed, "olga")
    response = scorer.deliver("gitea", body, signed("gitea", body, secret=SECRETS[forge.challenge_id]))
    assert response.status_code == 202, response.text
    assert response.json()["commits"] == [pushed.after] and response.json()["submissions"] == []
    shown = httpx.get(f"{scorer.base}/api/challenges/{forge.challenge_id}").json()
    assert shown["title"] == "Curve, now on Gitea"


def test_a_deleted_branch_is_accepted_and_queues_nothing(scorer: Scorer) -> None:
    forge = scorer.forges["github"]
    pushed = forge.push("bob", {"solutions/bob/short-lived.ipynb": notebook(scorer, "github")})
    secret = SECRETS[forge.challenge_id]
    body = forge.payload(pushed, "Bob")
    assert scorer.deliver("github", body, signed("github", body, secret=secret)).status_code == 202
    git(forge.fixture.clone, "push", "-q", "origin", f":{pushed.ref}")
    data = json.loads(forge.payload(Pushed(pushed.ref, pushed.after, ZERO_SHA), "Bob"))
    data.update(deleted=True, commits=[], head_commit=None)
    body = json.dumps(data).encode()
    before = scorer.stored()
    response = scorer.deliver("github", body, signed("github", body, secret=secret))
    assert response.status_code == 202, response.text
    assert (response.json()["status"], response.json()["commits"]) == ("accepted", [])
    assert scorer.stored()[1:] == before[1:]


def test_the_webhook_route_is_documented_and_unknown_forges_are_404(scorer: Scorer) -> None:
    document = httpx.get(f"{scorer.base}/openapi.json").json()
    route = document["paths"]["/services/coop/webhooks/{forge}"]["post"]
    assert {"200", "202", "400", "401", "404", "502"} <= set(route["responses"])
    assert route["requestBody"]["content"]["application/json"]["schema"] == {"type": "object"}
    response = httpx.post(f"{scorer.base}/webhooks/bitbucket", content=b"{}")
    assert response.status_code == 404
    assert response.json() == {
        "error": "unknown forge 'bitbucket' (known: gitea, github, gitlab)",
        "code": "unknown-plugin",
    }
    assert httpx.get(f"{scorer.base}/webhooks/github").status_code == 405


def test_secrets_may_live_in_a_file_read_on_every_delivery(scorer: Scorer, tmp_path: Path) -> None:
    forge = scorer.forges["github"]
    pushed = forge.push("alice", {"solutions/alice/rotated.ipynb": notebook(scorer, "github")})
    body = forge.payload(pushed, "Alice-GH")
    secrets_file = tmp_path / "webhook-secrets.yaml"
    settings = scorer.api.settings
    settings.webhook_secrets_file = str(secrets_file)
    try:
        before = scorer.stored()
        missing = scorer.deliver("github", body, signed("github", body, secret="rotated"))
        assert missing.status_code == 503, missing.text
        assert missing.json() == {
            "error": "the scorer cannot check webhook signatures now (its secrets file is unreadable)",
            "code": "webhook-settings-error",
        }
        secrets_file.write_text("curve-github: rotated\n")  # wins over the configured secret
        old = scorer.deliver("github", body, signed("github", body, secret=SECRETS[forge.challenge_id]))
        assert old.status_code == 401, old.text
        assert scorer.stored() == before
        new = scorer.deliver("github", body, signed("github", body, secret="rotated"))
        assert new.status_code == 202, new.text
        assert len(new.json()["submissions"]) == 1
    finally:
        settings.webhook_secrets_file = ""


def test_forge_challenges_are_not_served_over_git(scorer: Scorer) -> None:
    from scorer.cli.serve import serve_registered

    problems = serve_registered(scorer.api)
    for kind, forge in scorer.forges.items():
        assert problems[forge.challenge_id].startswith(f"hosted on {kind} ("), problems
        assert not (scorer.api.settings.home_path / "git" / f"{forge.challenge_id}.git").exists()
