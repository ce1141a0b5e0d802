"""The read side: leaderboards, and who may see private scores and closed code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_helpers import END, START, challenge_spec

from scorer.exceptions import (
    CodeHidden,
    CoopError,
    LedgerError,
    PrivateScoresHidden,
    UnknownLeaderboard,
    UnknownPhase,
    UnknownSubmission,
)
from scorer.ledger import queries, store

BEFORE_END = END - timedelta(days=1)
AFTER_END = END + timedelta(seconds=1)


def board(sessions, ledger, key="main", **kwargs):
    kwargs.setdefault("now", AFTER_END)
    with sessions() as session:
        return queries.leaderboard(session, ledger.challenge, "p1", key, **kwargs)


def standings(view):
    return [(row.rank, row.person, row.columns["accuracy"]) for row in view.rows]


def test_best_and_last_representatives(sessions, ledger):
    ledger.submit("alice", 0.80)
    ledger.submit("bob", 0.90)
    ledger.submit("alice", 0.70)
    assert standings(board(sessions, ledger, "main")) == [(1, "bob", 0.9), (2, "alice", 0.8)]
    assert standings(board(sessions, ledger, "latest")) == [(1, "bob", 0.9), (2, "alice", 0.7)]


def test_best_ties_keep_the_earlier_submission_and_use_tie_breaks(sessions, ledger):
    first = ledger.submit("alice", 0.8, loss=0.5)
    ledger.submit("alice", 0.8, loss=0.5)
    better_loss = ledger.submit("bob", 0.8, loss=0.4)
    ledger.submit("bob", 0.8, loss=0.6)
    rows = board(sessions, ledger).rows
    assert [(r.person, r.submission_id) for r in rows] == [("bob", better_loss), ("alice", first)]


def test_private_board_hidden_before_the_end(sessions, ledger):
    ledger.submit("alice", 0.8)
    with pytest.raises(PrivateScoresHidden) as raised:
        board(sessions, ledger, split="private", now=BEFORE_END)
    assert isinstance(raised.value, CoopError)
    assert "2024-06-01T00:00+00:00" in raised.value.user_message
    view = board(sessions, ledger, split="private", now=AFTER_END)
    assert view.private and view.split == "private"
    organiser = board(sessions, ledger, split="private", now=BEFORE_END, viewer_is_organiser=True)
    assert standings(organiser) == standings(view)


def test_private_never_visible_except_to_organisers(sessions, ledger):
    ledger.submit("alice", 0.8, phase="p2", at=END + timedelta(days=1))
    later = END + timedelta(days=3650)
    with sessions() as session:
        with pytest.raises(PrivateScoresHidden, match="only shown to the organisers"):
            queries.leaderboard(session, ledger.challenge, "p2", "main", split="private", now=later)
        view = queries.leaderboard(
            session,
            ledger.challenge,
            "p2",
            "main",
            split="private",
            now=later,
            viewer_is_organiser=True,
        )
    assert standings(view) == [(1, "alice", 0.8)]


def test_private_ranks_the_publicly_chosen_submissions_with_rank_changes(sessions, ledger):
    """HiggsML: the public leader overfitted and drops on the private board."""
    ledger.submit("alice", 0.95, 0.60)  # best public, poor private
    ledger.submit("alice", 0.90, 0.99)  # not alice's representative: her public best is 0.95
    ledger.submit("bob", 0.85, 0.84)
    ledger.submit("carol", 0.80, 0.83)
    public = board(sessions, ledger)
    private = board(sessions, ledger, split="private")
    assert standings(public) == [(1, "alice", 0.95), (2, "bob", 0.85), (3, "carol", 0.80)]
    assert standings(private) == [(1, "bob", 0.84), (2, "carol", 0.83), (3, "alice", 0.60)]
    assert private.rank_changes == {"bob": 1, "carol": 1, "alice": -2}
    assert public.rank_changes is None


def test_hidden_columns_only_for_organisers(sessions, ledger):
    ledger.submit("alice", 0.8)
    public = board(sessions, ledger)
    assert [c.key for c in public.columns] == ["accuracy", "loss"]
    assert set(public.rows[0].columns) == {"accuracy", "loss"}
    organiser = board(sessions, ledger, viewer_is_organiser=True)
    assert organiser.rows[0].columns["time"] == 2.0


def test_empty_board_and_unknown_names(sessions, ledger):
    assert board(sessions, ledger).rows == []
    with sessions() as session:
        for args, error in (
            (("p9", "main"), UnknownPhase),
            (("p2", "latest"), UnknownLeaderboard),
        ):
            with pytest.raises(error):
                queries.leaderboard(session, ledger.challenge, *args, now=AFTER_END)
        with pytest.raises(LedgerError, match="unknown split"):
            queries.leaderboard(session, ledger.challenge, "p1", "main", split="x", now=END)
        with pytest.raises(UnknownSubmission):
            queries.submission(session, 12345)


def test_scores_follow_the_same_rule(sessions, ledger):
    submission_id = ledger.submit("alice", 0.8, 0.6)
    with sessions() as session:
        public_only = queries.scores(session, submission_id, include_private=False)
        assert public_only.public == {"accuracy": 0.8, "loss": 1.0}
        assert public_only.private is None
        with pytest.raises(PrivateScoresHidden):
            queries.scores(session, submission_id, include_private=True, now=BEFORE_END)
        after = queries.scores(session, submission_id, include_private=True, now=AFTER_END)
        assert after.private == {"accuracy": 0.6, "loss": 1.0}
        organiser = queries.scores(
            session, submission_id, include_private=True, viewer_is_organiser=True, now=START
        )
        assert organiser.private == after.private


def test_executed_notebook_follows_open_code(sessions, ledger):
    submission_id = ledger.submit("alice", 0.8)
    opens = END - timedelta(days=30)
    with sessions() as session:
        for viewer, organiser in (("alice", False), (None, True)):
            notebook = queries.executed_notebook(
                session, submission_id, viewer=viewer, viewer_is_organiser=organiser, now=START
            )
            assert notebook == b'{"cells": []}'
        with pytest.raises(CodeHidden, match="2024-05-02"):
            queries.executed_notebook(session, submission_id, viewer="bob", now=START)
        assert queries.executed_notebook(session, submission_id, viewer=None, now=opens)


def test_leaderboard_follows_the_stored_spec_after_a_change(sessions, ledger):
    """A spec change (a new primary) takes effect once the entries are rebuilt."""
    ledger.submit("alice", 0.9, loss=0.9)
    ledger.submit("alice", 0.5, loss=0.1)
    ledger.submit("bob", 0.8, loss=0.5)
    spec = challenge_spec().model_dump(mode="json")
    spec["leaderboards"][0]["primary"] = "loss"
    spec["leaderboards"][0]["tie_break"] = []
    changed = type(ledger.challenge).model_validate(spec)
    with sessions.begin() as session:
        store.upsert_challenge(session, changed, "https://git.example.org/higgs.git")
        store.rebuild_leaderboard_entries(session, changed.id, "p1")
    with sessions() as session:
        view = queries.leaderboard(session, changed, "p1", "main", now=AFTER_END)
    assert [(r.person, r.columns["loss"]) for r in view.rows] == [("alice", 0.1), ("bob", 0.5)]


def test_leaderboard_values_and_times_round_trip_exactly(sessions, ledger):
    tricky = [1e-300, 0.1, 5e300, 1 / 3, 0.9152472940914589, 2.5e-8]
    at = START + timedelta(seconds=1, microseconds=120_000)
    for n, value in enumerate(tricky):
        ledger.submit(f"p{n}", value, -value, at=at + timedelta(days=n))
    public = board(sessions, ledger, viewer_is_organiser=True)
    private = board(sessions, ledger, split="private")
    assert sorted(row.columns["accuracy"] for row in public.rows) == sorted(tricky)
    assert sorted(row.columns["accuracy"] for row in private.rows) == sorted(-v for v in tricky)
    assert {row.submitted_at for row in public.rows} == {at + timedelta(days=n) for n in range(len(tricky))}
    assert all(row.submitted_at.utcoffset() == timedelta(0) for row in private.rows)


def test_cached_views_follow_every_change(sessions, ledger):
    ledger.submit("alice", 0.5)
    first = board(sessions, ledger)
    assert board(sessions, ledger) is first  # unchanged: served from the cache
    assert board(sessions, ledger, cached=False) is not first
    assert board(sessions, ledger, cached=False).rows == first.rows
    failed = ledger.enqueue("alice")
    with sessions.begin() as session:
        store.record_failure(session, failed, "exception", "boom")  # no entry changes
    assert board(sessions, ledger) is first
    ledger.submit("alice", 0.4)  # changes the `latest` board: every board of the phase misses
    assert board(sessions, ledger) is not first
    ledger.submit("bob", 0.9)
    second = board(sessions, ledger)
    assert standings(second) == [(1, "bob", 0.9), (2, "alice", 0.5)]
    with sessions.begin() as session:
        store.rebuild_leaderboard_entries(session, "higgs", "p1")
    assert board(sessions, ledger) is not second
    changed = ledger.challenge.model_copy(update={"title": "renamed"})
    with sessions() as session:
        other = queries.leaderboard(session, changed, "p1", "main", now=AFTER_END)
    assert other is not board(sessions, ledger)


def test_the_cache_never_bypasses_the_private_rule(sessions, ledger):
    ledger.submit("alice", 0.8)
    organiser = board(sessions, ledger, split="private", now=BEFORE_END, viewer_is_organiser=True)
    assert organiser.rows
    with pytest.raises(PrivateScoresHidden):
        board(sessions, ledger, split="private", now=BEFORE_END)
    public = board(sessions, ledger, now=BEFORE_END)
    assert [c.key for c in public.columns] == ["accuracy", "loss"]  # not the organiser's view


def test_a_naive_visibility_time_is_taken_as_utc(sessions, ledger):
    spec = challenge_spec().model_dump(mode="json")
    spec["phases"][0]["test_split"] = {"private_visible": "2024-07-01T00:00:00"}
    challenge = type(ledger.challenge).model_validate(spec)
    ledger.submit("alice", 0.8)
    with sessions() as session:
        with pytest.raises(PrivateScoresHidden, match="2024-07-01T00:00"):
            queries.leaderboard(session, challenge, "p1", "main", split="private", now=AFTER_END)
        later = END + timedelta(days=31)
        view = queries.leaderboard(session, challenge, "p1", "main", split="private", now=later)
    assert standings(view) == [(1, "alice", 0.8)]
