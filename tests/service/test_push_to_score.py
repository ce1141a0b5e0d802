"""Push-to-score: a real ``git push`` over HTTP to uvicorn on loopback becomes submissions.

The post-receive hook records every new commit with its pusher (from the token, never the
author line) and queues each added or changed solution notebook in the current phase, credited
to the pusher; over a phase limit the push is accepted and the submission recorded as rejected.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import nbformat
import pytest

from scorer.facade import CoopAPI
from scorer.ingest.limits import format_time
from scorer.ingest.served import serve_repository
from scorer.ledger import queries
from scorer.ledger.commits import credited
from scorer.ledger.models import ChallengeRow, CommitRow, Person
from scorer.scoring.worker import score_submission
from scorer.service.app import create_app
from tests.conftest import make_challenge
from tests.service.conftest import PREFIX, TOKENS, running
from tests.service.test_git_http import Served, clone, commit, run_git

QUEUED = re.compile(r"remote: submission (\d+) queued: (\S+) \(phase ([\w-]+)\) — status: (\S+)")
REJECTED = re.compile(r"remote: submission (\d+) not scored: (.*); next slot (\S+Z)")
RUN_LIMITS = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}


@dataclass
class Pushing:
    served: Served
    api: CoopAPI
    baseline: str  # the phase's baseline notebook, as text

    def push(self, work: Path, ref: str) -> str:
        """Push ``HEAD`` to ``ref``; the client's output (where ``remote:`` lines go)."""
        return run_git(work, "push", "origin", f"HEAD:{ref}", home=self.served.home).stderr

    def submissions(self, sha: str) -> list[queries.SubmissionView]:
        with self.api.sessions() as session:
            return queries.submissions(session, challenge_id=self.served.challenge_id, commit=sha)


def serve(root: Path, submissions: dict) -> Iterator[Pushing]:
    fixture = make_challenge(root, edit={"phases.0.limits": RUN_LIMITS, "phases.0.submissions": submissions})
    repo = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    api = fixture.api()
    client_home = root / "client-home"
    client_home.mkdir()
    try:
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            served = Served(url + PREFIX.rstrip("/"), repo, fixture.challenge_id, client_home)
            yield Pushing(served, api, nbformat.writes(fixture.baseline))
    finally:
        api.close()


@pytest.fixture(scope="module")
def pushing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushing]:
    yield from serve(tmp_path_factory.mktemp("push"), {})


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushing]:
    yield from serve(tmp_path_factory.mktemp("push-limited"), {"min_interval": 3600})


def test_alice_pushes_the_baseline_and_it_is_queued_for_her(pushing: Pushing, tmp_path: Path) -> None:
    served = pushing.served
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    sha = commit(work, served, "alice", {"solutions/alice/x.ipynb": pushing.baseline})
    out = pushing.push(work, "refs/heads/alice/x")
    [(number, notebook, phase, status_url)] = QUEUED.findall(out)
    assert (notebook, phase) == ("solutions/alice/x.ipynb", "phase-1")
    assert status_url == f"{served.base}/api/submissions/{number}"
    [view] = pushing.submissions(sha)
    assert (view.id, view.username, view.status, view.commit_sha) == (int(number), "alice", "queued", sha)
    with pushing.api.sessions() as session:
        row = session.get_one(CommitRow, (served.challenge_id, sha))
        assert session.get_one(Person, row.pusher_id).username == "alice"
        assert row.ref == "refs/heads/alice/x"
        assert set(row.notebooks) == {"solutions/alice/x.ipynb"}
        # the scorer now reads this challenge's commits from the served repository
        assert session.get_one(ChallengeRow, served.challenge_id).repo_url == str(served.repo.resolve())
    shown = httpx.get(status_url, auth=("alice", "alice-token"))
    assert shown.status_code == 200 and shown.json()["status"] == "queued", shown.text


def test_a_forged_author_line_does_not_change_who_is_credited(pushing: Pushing, tmp_path: Path) -> None:
    served = pushing.served
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    sha = commit(work, served, "bob", {"solutions/alice/forged.ipynb": pushing.baseline})  # author: bob
    assert run_git(work, "log", "-1", "--format=%an", home=served.home).stdout.strip() == "bob"
    out = pushing.push(work, "refs/heads/alice/forged")
    assert len(QUEUED.findall(out)) == 1, out
    [view] = pushing.submissions(sha)
    assert view.username == "alice"
    with pushing.api.sessions() as session:
        assert credited(session, served.challenge_id, sha) == ["alice"]
        assert session.get_one(CommitRow, (served.challenge_id, sha)).author_name == "bob"


def test_pushing_a_known_commit_again_creates_nothing(pushing: Pushing, tmp_path: Path) -> None:
    served = pushing.served
    alice = clone(served, tmp_path / "alice", "alice", "alice-token")
    sha = commit(alice, served, "alice", {"solutions/alice/again.ipynb": pushing.baseline})
    assert len(QUEUED.findall(pushing.push(alice, "refs/heads/alice/again"))) == 1
    out = pushing.push(alice, "refs/heads/alice/again-2")
    assert "submission" not in out, out
    # bob fetches alice's commit and pushes it to his own branch: still alice's, nothing queued
    bob = clone(served, tmp_path / "bob", "bob", "bob-token")
    run_git(bob, "fetch", "-q", "origin", "refs/heads/alice/again", home=served.home)
    run_git(bob, "checkout", "-q", sha, home=served.home)
    out = run_git(bob, "push", "origin", "HEAD:refs/heads/bob/copied", home=served.home).stderr
    assert "submission" not in out, out
    assert [v.username for v in pushing.submissions(sha)] == ["alice"]
    with pushing.api.sessions() as session:
        assert credited(session, served.challenge_id, sha) == ["alice"]


def test_a_push_without_a_notebook_records_the_commit_and_queues_nothing(
    pushing: Pushing, tmp_path: Path
) -> None:
    served = pushing.served
    work = clone(served, tmp_path / "bob", "bob", "bob-token")
    sha = commit(work, served, "bob", {"solutions/bob/notes.md": "ideas"})
    out = pushing.push(work, "refs/heads/bob/notes")
    assert "submission" not in out, out
    assert pushing.submissions(sha) == []
    with pushing.api.sessions() as session:
        row = session.get_one(CommitRow, (served.challenge_id, sha))
        assert session.get_one(Person, row.pusher_id).username == "bob"
        assert row.notebooks == {}


def test_every_new_commit_of_a_push_is_recorded_and_each_notebook_queued(
    pushing: Pushing, tmp_path: Path
) -> None:
    served = pushing.served
    work = clone(served, tmp_path / "bob", "bob", "bob-token")
    first = commit(work, served, "bob", {"solutions/bob/a.ipynb": pushing.baseline})
    second = commit(
        work, served, "bob", {"solutions/bob/b.ipynb": pushing.baseline, "solutions/bob/c.md": "c"}
    )
    out = pushing.push(work, "refs/heads/bob/two")
    assert [n for _i, n, _p, _u in QUEUED.findall(out)] == ["solutions/bob/a.ipynb", "solutions/bob/b.ipynb"]
    assert [v.notebook_path for v in pushing.submissions(first)] == ["solutions/bob/a.ipynb"]
    assert [v.notebook_path for v in pushing.submissions(second)] == ["solutions/bob/b.ipynb"]


def test_over_the_minimum_interval_the_push_is_accepted_and_the_submission_rejected(
    limited: Pushing, tmp_path: Path
) -> None:
    served = limited.served
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    outputs, shas = [], []
    for i in range(5):
        shas.append(commit(work, served, "alice", {f"solutions/alice/try{i}.ipynb": limited.baseline}))
        outputs.append(limited.push(work, "refs/heads/alice/tries"))
    assert len(QUEUED.findall(outputs[0])) == 1, outputs[0]
    [(first_id, _nb, _ph, _url)] = QUEUED.findall(outputs[0])
    first = limited.submissions(shas[0])[0]
    for out, sha in zip(outputs[1:], shas[1:], strict=True):
        [(number, reason, slot)] = REJECTED.findall(out)
        assert reason == "at most one submission every 1 h", out
        assert slot == format_time(first.created_at + timedelta(hours=1))
        [view] = limited.submissions(sha)
        assert (view.id, view.status, view.username) == (int(number), "rejected", "alice")
        assert f"next slot {slot}" in (view.failure_reason or "")
    assert first.id == int(first_id) and first.status == "queued"
    shared = run_git(work, "ls-remote", "origin", home=served.home).stdout
    assert f"{shas[-1]}\trefs/heads/alice/tries" in shared  # the code is shared all the same


@pytest.mark.needs("bwrap")
def test_a_pushed_submission_is_scored_from_the_served_repository(pushing: Pushing, tmp_path: Path) -> None:
    served = pushing.served
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    sha = commit(work, served, "alice", {"solutions/alice/scored.ipynb": pushing.baseline})
    [(number, _nb, _ph, _url)] = QUEUED.findall(pushing.push(work, "refs/heads/alice/scored"))
    assert score_submission(int(number), pushing.api.settings.to_dict()) == "scored"
    view, scores = pushing.api.submission(int(number), organiser=True)
    assert view.commit_sha == sha and view.status == "scored"
    assert scores.public


@pytest.mark.needs("bwrap")
def test_the_service_scores_what_is_pushed(tmp_path: Path) -> None:
    """Push → queued → the service's dispatcher → Dask → scored, with nobody running a command."""
    from scorer.dispatch.background import BackgroundDispatcher

    for pushing in serve(tmp_path / "service", {}):
        pushing.api.settings.n_workers = 1
        dispatcher = BackgroundDispatcher(pushing.api, interval=0.2)
        dispatcher.start()
        try:
            served = pushing.served
            work = clone(served, tmp_path / "alice", "alice", "alice-token")
            commit(work, served, "alice", {"solutions/alice/x.ipynb": pushing.baseline})
            status_url = QUEUED.search(pushing.push(work, "refs/heads/alice/x"))[4]
            deadline = time.monotonic() + 180
            status = "queued"
            while status in {"queued", "running"} and time.monotonic() < deadline:
                time.sleep(0.5)
                status = httpx.get(status_url).json()["status"]
            assert status == "scored"
            assert httpx.get(status_url).json()["public"]["rmse"] > 0
        finally:
            dispatcher.stop()
