"""A commit a submission limit refused stays scoreable once the slot is free: through the API
(``POST /api/submissions/{id}/resubmit``), ``coop resubmit``, or an empty commit pushed.

Pushes go over HTTP to uvicorn on loopback (an hour between submissions); the moment the slot
opens is given to the ingest functions as ``now`` (a commit put into the served repository
without its hook, then handed to :func:`on_push` as the hook would)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from scorer.cli import app
from scorer.ingest.limits import LimitReached, format_time
from scorer.ingest.push import NotWaiting, NotYourSubmission, empty_commits, on_push, resubmit
from scorer.ledger import queries
from tests.service.test_git_http import clone, commit, run_git
from tests.service.test_push_to_score import QUEUED, REJECTED, Pushing, serve

STILL = re.compile(r"remote: submission (\d+) still waits: (.*); next slot (\S+Z)")


@pytest.fixture
def hourly(tmp_path: Path) -> Iterator[Pushing]:
    yield from serve(tmp_path / "served", {"min_interval": 3600})


@pytest.fixture
def briefly(tmp_path: Path) -> Iterator[Pushing]:
    """Twenty seconds between submissions: long enough for two pushes, short enough to wait out."""
    yield from serve(tmp_path / "served", {"min_interval": 20})


def refused_after_one(hourly: Pushing, where: Path, user: str) -> tuple[Path, int, int]:
    """``user`` submits, then pushes an edit within the hour: the clone, the first submission
    and the refused one."""
    served = hourly.served
    work = clone(served, where, user, f"{user}-token")
    commit(work, served, user, {f"solutions/{user}/nb.ipynb": hourly.baseline})
    [(first, *_rest)] = QUEUED.findall(hourly.push(work, f"refs/heads/{user}/work"))
    commit(work, served, user, {f"solutions/{user}/nb.ipynb": hourly.baseline.replace("degree", "degree ")})
    [(second, _reason, _slot)] = REJECTED.findall(hourly.push(work, f"refs/heads/{user}/work"))
    return work, int(first), int(second)


def view(hourly: Pushing, submission: int) -> queries.SubmissionView:
    with hourly.api.sessions() as session:
        return queries.submission(session, submission)


def test_the_api_resubmits_a_refused_commit_only_once_the_slot_is_free(
    hourly: Pushing, tmp_path: Path
) -> None:
    _work, first, refused = refused_after_one(hourly, tmp_path / "alice", "alice")
    url = f"{hourly.served.base}/api/submissions/{refused}/resubmit"
    early = httpx.post(url, auth=("alice", "alice-token"))
    opens = view(hourly, first).created_at + timedelta(hours=1)
    assert early.status_code == 429, early.text
    assert early.json() == {
        "error": f"not scored: at most one submission every 1 h; next slot {format_time(opens)}",
        "code": "limit-reached",
    }
    assert httpx.post(url, auth=("bob", "bob-token")).status_code == 403
    assert httpx.post(url).status_code == 401
    assert httpx.post(
        f"{hourly.served.base}/api/submissions/{first}/resubmit", auth=("alice", "alice-token")
    ).json() == {
        "error": f"submission {first} was not refused over a limit (it is queued): nothing to resubmit",
        "code": "not-waiting",
    }
    with pytest.raises(NotYourSubmission):
        resubmit(hourly.api, refused, caller="bob", now=opens)

    line = resubmit(hourly.api, refused, caller="alice", now=opens)  # the slot is free
    again = view(hourly, line.submission_id or 0)
    before = view(hourly, refused)
    assert (again.status, again.commit_sha, again.notebook_path, again.username) == (
        "queued",
        before.commit_sha,
        before.notebook_path,
        "alice",
    )
    with pytest.raises(NotWaiting, match=f"submission {refused} was not refused|not your newest"):
        resubmit(hourly.api, refused, caller="alice", now=opens + timedelta(hours=2))


def test_an_empty_commit_pushed_asks_for_the_refused_commit_to_be_scored(
    hourly: Pushing, tmp_path: Path
) -> None:
    served = hourly.served
    work, first, refused = refused_after_one(hourly, tmp_path / "alice", "alice")
    run_git(work, "commit", "-q", "--allow-empty", "-m", "score it", home=served.home, user="alice")
    out = hourly.push(work, "refs/heads/alice/work")  # still within the hour
    opens = view(hourly, first).created_at + timedelta(hours=1)
    assert STILL.findall(out) == [(str(refused), "at most one submission every 1 h", format_time(opens))]

    # after the slot: another empty commit, taken into the served repository as a push would
    old = run_git(served.repo, "rev-parse", "refs/heads/alice/work", home=served.home).stdout.strip()
    run_git(work, "commit", "-q", "--allow-empty", "-m", "score it now", home=served.home, user="alice")
    new = run_git(work, "rev-parse", "HEAD", home=served.home).stdout.strip()
    run_git(served.repo, "fetch", "-q", str(work), f"{new}:refs/heads/alice/work", home=served.home)
    lines = on_push(hourly.api, served.repo, "alice", [(old, new, "refs/heads/alice/work")], now=opens)
    [line] = [str(x) for x in lines]
    assert QUEUED.match(f"remote: {line}"), line
    assert line.endswith(f"the commit {view(hourly, refused).commit_sha[:10]} of submission {refused}")
    again = view(hourly, lines[0].submission_id or 0)
    assert (again.status, again.commit_sha) == ("queued", view(hourly, refused).commit_sha)


def test_an_empty_commit_with_nothing_refused_says_so(hourly: Pushing, tmp_path: Path) -> None:
    served = hourly.served
    work = clone(served, tmp_path / "bob", "bob", "bob-token")
    run_git(work, "commit", "-q", "--allow-empty", "-m", "nothing", home=served.home, user="bob")
    out = hourly.push(work, "refs/heads/bob/work")
    assert "changes nothing and no refused submission of yours waits" in out, out


def test_coop_resubmit_over_a_limit_says_the_next_slot(hourly: Pushing, tmp_path: Path) -> None:
    _work, first, refused = refused_after_one(hourly, tmp_path / "alice", "alice")
    home = hourly.api.settings.home
    done = CliRunner().invoke(app, ["--home", home, "resubmit", str(refused)])
    opens = view(hourly, first).created_at + timedelta(hours=1)
    assert done.exit_code != 0
    assert f"next slot {format_time(opens)}" in " ".join(done.output.split())  # as rich wrapped it
    with pytest.raises(LimitReached):
        resubmit(hourly.api, refused, caller=None)


def test_only_a_commit_with_one_parent_and_its_tree_counts_as_empty(tmp_path: Path) -> None:
    def git(*args: str) -> str:
        return run_git(tmp_path, *args, home=tmp_path).stdout.strip()

    git("init", "-q", "-b", "main")
    (tmp_path / "a.txt").write_text("a")
    git("add", "a.txt")
    git("commit", "-q", "-m", "root")
    root = git("rev-parse", "HEAD")
    git("commit", "-q", "--allow-empty", "-m", "empty")
    empty = git("rev-parse", "HEAD")
    git("checkout", "-q", "-b", "side", root)
    (tmp_path / "b.txt").write_text("b")
    git("add", "b.txt")
    git("commit", "-q", "-m", "side")
    git("checkout", "-q", "main")
    git("merge", "-q", "-s", "ours", "--no-edit", "side")  # a merge that keeps main's tree
    merge = git("rev-parse", "HEAD")
    assert empty_commits(tmp_path / ".git", [root, empty, merge]) == {empty}


@pytest.mark.slow  # waits out the slot, then scores
def test_coop_resubmit_scores_the_refused_commit_once_the_slot_is_free(
    briefly: Pushing, tmp_path: Path
) -> None:
    _work, first, refused = refused_after_one(briefly, tmp_path / "alice", "alice")
    opens = view(briefly, first).created_at + timedelta(seconds=20)
    time.sleep(max(0.0, (opens - datetime.now(UTC)).total_seconds()) + 1)
    done = CliRunner().invoke(app, ["--home", briefly.api.settings.home, "resubmit", str(refused)])
    assert done.exit_code == 0, done.output
    [(number, *_rest)] = QUEUED.findall(f"remote: {done.output.splitlines()[0]}")
    again = view(briefly, int(number))
    assert (again.status, again.commit_sha) == ("scored", view(briefly, refused).commit_sha)
