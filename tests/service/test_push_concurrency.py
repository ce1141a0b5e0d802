"""Many pushes at once: real ``git push`` processes over smart HTTP against uvicorn on loopback.

Five participants each push ten commits as ten pushes, all fifty started together: every one
becomes exactly one submission credited to its pusher, and each push's ``remote:`` output
names it. A person over ``per_day: 1`` who pushes twice at the same moment gets one queued and
one rejected with the next slot: the limit check and the insert it guards are atomic per person
(:mod:`scorer.ledger.locks`). Both run on SQLite and on PostgreSQL. The hooks' start-up spreads
real pushes apart by more than the few milliseconds a race needs, so the lock itself is proven
deterministically in ``tests/test_limits.py``; here the whole path is.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import nbformat
import pytest

from scorer.facade import CoopAPI
from scorer.ingest.limits import format_time
from scorer.ingest.served import serve_repository
from scorer.ledger import queries
from scorer.ledger.commits import credited
from scorer.service.app import create_app
from scorer.service.auth import SUBMIT, Identity, StaticTokens
from tests.conftest import make_challenge
from tests.pg import schema_url
from tests.service.conftest import PREFIX, running
from tests.service.test_git_http import Served, clone, run_git
from tests.service.test_push_to_score import QUEUED, REJECTED, RUN_LIMITS

PEOPLE = ("alice", "bob", "carol", "dave", "erin")
TOKENS = StaticTokens({f"{name}-token": Identity(name, frozenset({SUBMIT})) for name in PEOPLE})
PUSHES_EACH = 10
#: Fifty pushes share two cores here: each waits its turn for the hooks' CPU, not for a lock.
PUSH_TIMEOUT = 600
NOTEBOOK = "fit.ipynb"

T = TypeVar("T")


@dataclass
class Pushing:
    served: Served
    api: CoopAPI
    baseline: nbformat.NotebookNode

    def work(self, root: Path, user: str, tries: int) -> list[str]:
        """A clone of ``user``'s with ``tries`` sibling commits on the organiser's branch, each
        changing their notebook (so each push brings exactly one new commit); their SHAs."""
        work = clone(self.served, root / user, user, f"{user}-token")
        shas = []
        for n in range(tries):
            run_git(work, "checkout", "-q", "--detach", "origin/main", home=self.served.home)
            notebook = copy.deepcopy(self.baseline)
            notebook.cells[3].source += f"\n# {user}, try {n}"
            path = work / "solutions" / user / NOTEBOOK
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, path)
            run_git(work, "add", "--all", home=self.served.home)
            run_git(work, "commit", "-q", "-m", f"try {n}", home=self.served.home, user=user)
            shas.append(run_git(work, "rev-parse", "HEAD", home=self.served.home).stdout.strip())
        return shas

    def push(self, root: Path, user: str, sha: str, branch: str) -> str:
        """Push ``sha`` to ``refs/heads/<user>/<branch>`` by URL (no local ref is written, so one
        clone pushes many times at once); the client's output, where ``remote:`` lines go."""
        url = self.served.url(user, f"{user}-token")
        done = run_git(
            root / user,
            "push",
            url,
            f"{sha}:refs/heads/{user}/{branch}",
            home=self.served.home,
            timeout=PUSH_TIMEOUT,
        )
        return done.stderr

    def submissions(self) -> list[queries.SubmissionView]:
        with self.api.sessions() as session:
            return queries.submissions(session, challenge_id=self.served.challenge_id, limit=None)


def at_once(call: Callable[..., T], arguments: list[tuple]) -> list[T]:
    """``call(*args)`` for every ``args`` in its own thread, all released together; the results."""
    barrier = threading.Barrier(len(arguments))

    def run(args: tuple) -> T:
        barrier.wait()
        return call(*args)

    with ThreadPoolExecutor(len(arguments)) as pool:
        return list(pool.map(run, arguments))


@contextmanager
def serve(root: Path, submissions: dict, db_url: str | None) -> Iterator[Pushing]:
    fixture = make_challenge(root, edit={"phases.0.limits": RUN_LIMITS, "phases.0.submissions": submissions})
    if db_url is not None:
        fixture.settings.db_url = db_url
    api = fixture.api()
    try:
        if db_url is not None:
            api.prepare(str(fixture.bare), seed=7)
        repo = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
        (root / "client-home").mkdir()
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            served = Served(url + PREFIX.rstrip("/"), repo, fixture.challenge_id, root / "client-home")
            yield Pushing(served, api, fixture.baseline)
    finally:
        api.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` for the default SQLite ledger, else a fresh PostgreSQL schema's URL."""
    if request.param == "sqlite":
        yield None
        return
    with schema_url("pushes") as url:
        yield url


@pytest.mark.slow
def test_fifty_pushes_from_five_people_at_once_each_become_one_submission(
    database: str | None, tmp_path: Path
) -> None:
    with serve(tmp_path / "served", {}, database) as pushing:
        shas = {user: pushing.work(tmp_path, user, PUSHES_EACH) for user in PEOPLE}
        launches = [(user, n, sha) for user in PEOPLE for n, sha in enumerate(shas[user])]
        outputs = at_once(pushing.push, [(tmp_path, user, sha, f"try-{n}") for user, n, sha in launches])
        announced = {}
        for (user, _n, sha), out in zip(launches, outputs, strict=True):
            found = QUEUED.findall(out)
            assert len(found) == 1, f"{user}'s push of {sha[:10]} should name one submission:\n{out}"
            [(number, notebook, phase, _url)] = found
            assert (notebook, phase) == (f"solutions/{user}/{NOTEBOOK}", "phase-1")
            announced[int(number)] = (sha, user)
        ledger = pushing.submissions()
        assert len(ledger) == len(launches) == 50
        assert {v.id: (v.commit_sha, v.username) for v in ledger} == announced
        assert len({(v.commit_sha, v.notebook_path) for v in ledger}) == 50
        assert {v.status for v in ledger} == {"queued"}
        with pushing.api.sessions() as session:
            for view in ledger:
                assert credited(session, pushing.served.challenge_id, view.commit_sha) == [view.username]


@pytest.mark.slow
def test_two_pushes_at_the_same_moment_over_a_daily_limit_queue_exactly_one(
    database: str | None, tmp_path: Path
) -> None:
    with serve(tmp_path / "served", {"per_day": 1}, database) as pushing:
        for user in PEOPLE:  # five rounds: per_day 1 leaves each person one race to run
            shas = pushing.work(tmp_path, user, 2)
            outputs = at_once(
                pushing.push, [(tmp_path, user, sha, f"race-{n}") for n, sha in enumerate(shas)]
            )
            queued = [QUEUED.findall(out) for out in outputs]
            rejected = [REJECTED.findall(out) for out in outputs]
            assert sorted(len(q) for q in queued) == [0, 1], outputs
            assert sorted(len(r) for r in rejected) == [0, 1], outputs
            [(number, reason, slot)] = rejected[0] or rejected[1]
            mine = {v.status: v for v in pushing.submissions() if v.username == user}
            assert sorted(mine) == ["queued", "rejected"]
            assert {v.commit_sha for v in mine.values()} == set(shas)
            assert mine["rejected"].id == int(number) and reason == "limit of 1 per day reached"
            day = mine["rejected"].created_at.astimezone(UTC).date()
            assert slot == format_time(datetime.combine(day + timedelta(days=1), time(), UTC))
