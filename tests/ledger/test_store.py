"""The write side: enqueue, claim, record exactly once, failures, rejections, orphans."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from ledger_helpers import START, run_result, sha
from sqlalchemy import func, select

from scorer.exceptions import (
    AppendOnlyViolation,
    CoopError,
    FailureClass,
    InvalidCommit,
    UnknownChallenge,
    UnknownPhase,
)
from scorer.ledger import queries, store
from scorer.ledger.models import Score, Submission, SubmissionEvent, SubmissionStatus


def transitions(sessions, submission_id):
    with sessions() as session:
        return [(e.status_from, e.status_to) for e in queries.events(session, submission_id)]


def test_enqueue_creates_a_queued_submission_and_an_event(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    with sessions() as session:
        view = queries.submission(session, submission_id)
    assert view.status == SubmissionStatus.QUEUED
    assert view.username == "alice"
    assert view.attempts == 0
    assert view.parameters == {"seed": 1}
    assert transitions(sessions, submission_id) == [(None, SubmissionStatus.QUEUED)]


def test_claim_record_exactly_once(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    assert ledger.claim(submission_id, "worker-1")
    assert ledger.record(submission_id, {"accuracy": 0.8, "loss": 0.3}, {"accuracy": 0.7})
    assert not ledger.record(submission_id, {"accuracy": 0.1, "loss": 9.0}, {"accuracy": 0.1})
    assert not ledger.claim(submission_id, "worker-2")
    with sessions() as session:
        view = queries.submission(session, submission_id)
        stored = session.execute(
            select(Score.split, Score.metric, Score.value).where(Score.submission_id == submission_id)
        ).all()
        notebook = session.get_one(Submission, submission_id).executed_notebook
    assert view.status == SubmissionStatus.SCORED
    assert view.attempts == 1
    assert view.worker == "worker-1"
    assert view.run_time == 2.0 and view.peak_memory == 128.0
    assert (view.input_hash, view.scorer_version, view.environment_hash) == (
        "in-1",
        "0.1.0",
        "env-1",
    )
    assert notebook == b'{"cells": []}'
    assert sorted(stored) == [
        ("private", "accuracy", 0.7),
        ("public", "accuracy", 0.8),
        ("public", "loss", 0.3),
    ]
    assert transitions(sessions, submission_id) == [
        (None, SubmissionStatus.QUEUED),
        (SubmissionStatus.QUEUED, SubmissionStatus.RUNNING),
        (SubmissionStatus.RUNNING, SubmissionStatus.SCORED),
    ]


def test_record_without_claim_is_accepted_once(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    assert ledger.record(submission_id, {"accuracy": 0.8}, {"accuracy": 0.8})
    assert not ledger.record(submission_id, {"accuracy": 0.8}, {"accuracy": 0.8})
    assert transitions(sessions, submission_id)[-1] == (
        SubmissionStatus.QUEUED,
        SubmissionStatus.SCORED,
    )


def test_a_second_claim_while_running_counts_an_attempt(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    assert ledger.claim(submission_id, "w1")
    assert ledger.claim(submission_id, "w2")
    with sessions() as session:
        view = queries.submission(session, submission_id)
    assert (view.status, view.attempts, view.worker) == (SubmissionStatus.RUNNING, 2, "w2")
    assert transitions(sessions, submission_id)[-1] == (
        SubmissionStatus.RUNNING,
        SubmissionStatus.RUNNING,
    )


def test_record_failure_exactly_once(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    ledger.claim(submission_id)
    with sessions.begin() as session:
        assert store.record_failure(
            session,
            submission_id,
            FailureClass.TIMEOUT,
            "cell 3 ran longer than 300 s",
            provenance={"scorer_version": "0.1.0"},
        )
    with sessions.begin() as session:
        assert not store.record_failure(session, submission_id, "exception", "again")
        assert not store.record_result(session, submission_id, run_result({"accuracy": 1}, {}))
    with sessions() as session:
        view = queries.submission(session, submission_id)
        count = session.scalar(select(func.count()).select_from(Score))
    assert view.status == SubmissionStatus.FAILED
    assert view.failure_class == "timeout"
    assert view.failure_reason == "cell 3 ran longer than 300 s"
    assert view.scorer_version == "0.1.0"
    assert count == 0


def test_reject_is_a_policy_refusal(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    with sessions.begin() as session:
        assert store.reject(session, submission_id, "per_day", "5 submissions per day")
        assert not store.reject(session, submission_id, "per_day", "5 submissions per day")
        assert not store.claim(session, submission_id, "w1")
    with sessions() as session:
        view = queries.submission(session, submission_id)
        last = queries.events(session, submission_id)[-1]
    assert (view.status, view.failure_class) == (SubmissionStatus.REJECTED, "policy")
    assert last.detail == {"code": "per_day", "reason": "5 submissions per day"}


def test_requeue_orphans_requeues_running_and_keeps_queued(sessions, ledger):
    queued = ledger.enqueue("alice")
    running = ledger.enqueue("bob")
    ledger.claim(running)
    scored = ledger.submit("carol", 0.5)
    with sessions.begin() as session:
        assert store.requeue_orphans(session) == [queued, running]
    with sessions() as session:
        assert queries.submission(session, running).status == SubmissionStatus.QUEUED
        assert queries.submission(session, scored).status == SubmissionStatus.SCORED
    assert transitions(sessions, running)[-1] == (
        SubmissionStatus.RUNNING,
        SubmissionStatus.QUEUED,
    )
    assert ledger.claim(running)
    with sessions() as session:
        assert queries.submission(session, running).attempts == 2


def test_non_finite_scores_are_stored_as_null(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    assert ledger.record(submission_id, {"accuracy": math.nan, "loss": math.inf}, {})
    with sessions() as session:
        values = session.execute(select(Score.value).where(Score.submission_id == submission_id)).scalars()
        assert list(values) == [None, None]


def test_enqueue_refuses_bad_input(sessions, challenge):
    arguments = {
        "challenge_id": challenge.id,
        "phase_id": "p1",
        "commit_sha": sha(1),
        "notebook_path": "solutions/alice/a.ipynb",
        "username": "alice",
        "parameters": {},
    }
    with sessions() as session:
        for change, error in (
            ({"commit_sha": "abc123"}, InvalidCommit),
            ({"challenge_id": "nope"}, UnknownChallenge),
            ({"phase_id": "p9"}, UnknownPhase),
        ):
            with pytest.raises(error) as raised:
                store.enqueue(session, **{**arguments, **change})
            assert isinstance(raised.value, CoopError)
        upper = store.enqueue(session, **{**arguments, "commit_sha": sha(255).upper()})
        assert upper.commit_sha == sha(255)


def test_person_is_created_once(sessions):
    with sessions.begin() as session:
        first = store.person(session, "alice", display_name="Alice A.")
    with sessions.begin() as session:
        again = store.person(session, "alice")
    assert first.id == again.id
    assert again.display_name == "Alice A."


def test_upsert_challenge_tracks_spec_changes(sessions, challenge):
    with sessions.begin() as session:
        before = store.upsert_challenge(session, challenge, "https://git.example.org/higgs.git")
        digest, updated = before.spec_hash, before.updated_at
    with sessions.begin() as session:
        same = store.upsert_challenge(session, challenge, "https://git.example.org/higgs.git")
        assert (same.spec_hash, same.updated_at) == (digest, updated)
    changed = challenge.model_copy(update={"title": "Higgs boson, take two"})
    with sessions.begin() as session:
        row = store.upsert_challenge(session, changed, "https://git.example.org/higgs.git")
        assert row.spec_hash != digest and row.title == "Higgs boson, take two"
    with sessions() as session:
        assert queries.load_challenge(session, challenge.id).title == "Higgs boson, take two"


def test_submissions_filters(sessions, ledger):
    a1 = ledger.submit("alice", 0.5)
    b1 = ledger.submit("bob", 0.6)
    a2 = ledger.enqueue("alice")
    with sessions() as session:
        commit = queries.submission(session, b1).commit_sha
        listed = queries.submissions

        def ids(**kwargs):
            return [view.id for view in listed(session, **kwargs)]

        assert ids() == [a2, b1, a1]
        assert ids(username="alice") == [a2, a1]
        assert ids(status="queued") == [a2]
        assert ids(status=["scored"], challenge_id="higgs", phase_id="p1") == [b1, a1]
        assert ids(commit=commit) == [b1]
        assert ids(commit=commit[:38].upper()) == [a2, b1, a1]  # shas 1, 2, 3 share 38 digits
        assert ids(limit=1) == [a2]
        assert ids(phase_id="p2") == []


def test_events_refuse_orm_changes(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    with sessions() as session:
        event = session.execute(
            select(SubmissionEvent).where(SubmissionEvent.submission_id == submission_id)
        ).scalar_one()
        event.detail = {"forged": True}
        with pytest.raises(AppendOnlyViolation):
            session.flush()
        session.rollback()
        session.delete(session.merge(event, load=True))
        with pytest.raises(AppendOnlyViolation):
            session.flush()


def test_provenance_is_stored_as_plain_json(sessions, ledger):
    submission_id = ledger.enqueue("alice")
    provenance = {"inputs": Path("/data/p1"), "at": START, "ratio": math.nan, "scorer_version": "9" * 80}
    result = replace(run_result({"accuracy": 0.5}, {}), provenance=provenance)
    with sessions.begin() as session:
        assert store.record_result(session, submission_id, result)
    with sessions() as session:
        view = queries.submission(session, submission_id)
    assert view.provenance == {
        "inputs": "/data/p1",
        "at": str(START),
        "ratio": None,
        "scorer_version": "9" * 80,
    }
    assert view.scorer_version == "9" * 64
