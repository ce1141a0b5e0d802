"""Exactly once: racing judges of one submission (threads, real database) leave one row per
grant; the Dask task dispatched three times, and two workers running it at once (PostgreSQL),
grant once; live rewards that break never fail the scoring."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import db, rewards
from scorer.ledger.db import make_engine, session_factory, upgrade
from scorer.rewards import granting
from scorer.scoring.verdict import live_rewards
from scorer.scoring.worker import score_submission
from tests.conftest import ChallengeFixture, make_challenge
from tests.pg import schema_url
from tests.rewards.world import World

RACERS = 4
RMSE_OK = 0.2  # the template's score-threshold on rmse
REWARDERS = [
    {"type": "score-threshold", "amount": 10, "threshold": RMSE_OK, "params": {"metric": "rmse"}},
    {"type": "explodes", "amount": 1},
    {"type": "new-record", "amount": 5, "params": {"metric": "rmse"}},
]


def race(target: Callable[[int], Any], count: int = RACERS) -> list[Any]:
    """``target(i)`` in ``count`` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def test_racing_judges_leave_one_row_per_grant(world: World):
    world.submit("bob", 0.70)
    alice = world.queue("alice")
    world.score(alice, 0.85)
    outcomes = race(lambda _i: world.grant(alice))
    rows = [r for r in world.history() if r.submission_id == alice]
    assert sorted(r.scope for r in rows) == ["person/alice", "person/alice", f"submission/{alice}"]
    assert Counter(r.rewarder_index for r in rows) == {0: 1, 1: 1, 3: 1}
    assert sum(len(o.created) for o in outcomes) == 3  # each added by exactly one racer
    assert all(len(o.rewards) == 3 for o in outcomes)  # and every racer found all three


def scaffolded(root: Path, db_url: str | None = None) -> ChallengeFixture:
    limits = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}
    fixture = make_challenge(root, edit={"phases.0.limits": limits, "phases.0.rewarders": REWARDERS})
    if db_url is not None:  # the same challenge, its ledger on another database
        fixture.settings = ScorerSettings(home=fixture.settings.home, db_url=db_url, n_workers=1, retries=0)
        api = CoopAPI(fixture.settings)
        try:
            api.prepare(str(fixture.bare), seed=7)
        finally:
            api.close()
    return fixture


def queued(fixture: ChallengeFixture) -> int:
    sha = fixture.solution('test["y"] = np.polyval(np.polyfit(train.x, train.y, 3), test.x)', user="alice")
    api = fixture.api()
    try:
        [item] = api.enqueue_commit(str(fixture.bare), sha)
    finally:
        api.close()
    return item.submission_id


def ledger_rows(fixture: ChallengeFixture) -> tuple[list[rewards.RewardView], list[rewards.FailureView]]:
    api = fixture.api()
    try:
        with api.sessions() as session:
            return (
                rewards.history(session, fixture.challenge_id),
                rewards.rewarder_failures(session, fixture.challenge_id, "phase-1"),
            )
    finally:
        api.close()


@pytest.mark.needs("bwrap")
def test_the_task_dispatched_three_times_grants_once(tmp_path: Path, explodes: None):
    fixture = scaffolded(tmp_path)
    submission = queued(fixture)
    outcomes = [score_submission(submission, fixture.settings.to_dict()) for _ in range(3)]
    assert outcomes == ["scored", "skipped", "skipped"]
    history, failures = ledger_rows(fixture)
    assert [(r.rewarder_type, r.scope) for r in history] == [
        ("score-threshold", "person/alice"),
        ("new-record", f"submission/{submission}"),
    ]
    assert history[0].evidence["split"] == "public"
    assert {(f.rewarder_type, f.submission_id) for f in failures} == {("explodes", submission)}


@pytest.mark.postgres
@pytest.mark.needs("bwrap")
def test_two_workers_racing_on_postgresql_grant_once(tmp_path: Path, explodes: None):
    with schema_url("race") as url:
        upgrade(url)
        fixture = scaffolded(tmp_path, url)
        submission = queued(fixture)
        outcomes = race(lambda _i: score_submission(submission, fixture.settings.to_dict()), count=2)
        assert sorted(outcomes) == ["scored", "skipped"]
        history, _failures = ledger_rows(fixture)
        assert Counter(r.scope for r in history) == {"person/alice": 1, f"submission/{submission}": 1}


@pytest.mark.needs("bwrap")
def test_live_rewards_that_break_never_fail_the_scoring(
    tmp_path: Path, explodes: None, caplog: pytest.LogCaptureFixture
):
    fixture = scaffolded(tmp_path)
    submission = queued(fixture)
    engine = make_engine(fixture.settings.db_url)
    with engine.begin() as connection:  # the reward ledger is gone: granting raises
        connection.execute(text("DROP TABLE rewarder_failures"))
        connection.execute(text("DROP TABLE rewards"))
    engine.dispose()
    assert score_submission(submission, fixture.settings.to_dict()) == "scored"
    api = fixture.api()
    try:
        view, scores = api.submission(submission, organiser=True)
    finally:
        api.close()
    assert view.status.value == "scored" and scores.public["rmse"] < RMSE_OK
    assert f"submission {submission}: live rewards failed; the score stands" in caplog.text


def test_a_live_reward_step_whose_connection_was_lost_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """A server restart cuts the connection mid-grant: the step runs again (granting finds what
    it did), so the reward is not lost; any other error is logged once and the score stands."""
    calls: list[str] = []

    def cut_once(session: object, **_kwargs: object) -> None:
        calls.append("grant")
        if len(calls) == 1:
            raise DBAPIError(
                "UPDATE rewards", {}, Exception("server closed the connection"), connection_invalidated=True
            )

    def broken(session: object, **_kwargs: object) -> None:
        calls.append("queue")
        raise DBAPIError("INSERT", {}, Exception("duplicate key"))

    monkeypatch.setattr(granting, "grant_live", cut_once)
    monkeypatch.setattr(granting, "queue_reproduction", broken)
    monkeypatch.setattr(db.time, "sleep", lambda _s: None)
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        live_rewards(session_factory(engine), 7, trusted=None)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    assert calls == ["grant", "grant", "queue"]  # the lost connection retried; the other error not
    assert "submission 7: live rewards lost its database connection; again" in caplog.text
    assert "submission 7: queueing a re-run failed; the score stands" in caplog.text
