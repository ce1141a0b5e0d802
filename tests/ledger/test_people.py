"""What people search reads from the ledger: scored work with its notebooks' imports (parsed once
per submission), grants and ranks; closed code, invalidated work and hidden profiles left out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import nbformat
from ledger_helpers import END, START, Ledger, run_result, sha

from scorer.ledger import store
from scorer.ledger.credentials import NewCredential, store_imported
from scorer.ledger.invalidations import invalidate
from scorer.ledger.models import Submission
from scorer.ledger.people import PeopleIndex
from scorer.ledger.profiles import save_fields
from scorer.ledger.rewards import CompensationReason, Grant, compensate, record_grant
from scorer.profiles.search import Query, search
from scorer.profiles.skills import merged_table

OPEN = END  # p1's code opens 30 days before its end
CLOSED = END - timedelta(days=31)


def notebook(*cells: str) -> bytes:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    return nbformat.writes(nb).encode()


def scored(ledger: Ledger, username: str, accuracy: float, code: bytes, phase: str = "p1") -> int:
    submission_id = ledger.enqueue(username, phase=phase)
    assert ledger.claim(submission_id)
    result = replace(
        run_result({"accuracy": accuracy, "loss": 1.0}, {"accuracy": accuracy, "loss": 1.0}),
        executed_notebook=code,
    )
    with ledger.sessions.begin() as session:
        assert store.record_result(session, submission_id, result)
    return submission_id


def grant(person: str, submission_id: int, rewarder: str, amount: str = "1") -> Grant:
    return Grant(
        "higgs",
        "p1",
        person,
        rewarder,
        0,
        f"{rewarder}:{person}:{submission_id}",
        Decimal(amount),
        "points",
        {},
        submission_id=submission_id,
        commit_sha=sha(1),
    )


def test_skills_from_the_ledger(sessions, ledger) -> None:
    clustering = notebook("from sklearn.cluster import DBSCAN", "DBSCAN().fit(x)")
    alice = scored(ledger, "alice", 0.9, clustering)
    bob = scored(ledger, "bob", 0.8, notebook("import numpy as np", "np.zeros(3)"))
    with sessions.begin() as session:
        fast = record_grant(session, grant("bob", bob, "limited-hardware")).reward.id
    people = PeopleIndex(merged_table())
    with sessions() as session:
        index = people.index(session, now=OPEN)
    assert set(index.people) == {"alice", "bob"}
    (evidence,) = index.people["alice"].skills["clustering"].evidence
    assert (evidence.kind, evidence.submission_id, evidence.phase_id, evidence.detail) == (
        "code",
        alice,
        "p1",
        "sklearn.cluster",
    )
    assert index.people["alice"].skills["rank:higgs"].percentile == 100.0
    assert [e.reward_id for e in index.people["bob"].skills["fast"].evidence] == [fast]
    rows = search(index, Query({"clustering": 2, "numpy": 1})).rows
    assert [row.person for row in rows] == ["alice", "bob"]


def test_closed_code_shows_no_skills_until_it_opens(sessions, ledger) -> None:
    scored(ledger, "alice", 0.9, notebook("import torch"))
    people = PeopleIndex(merged_table())
    with sessions() as session:
        assert "deep-learning" not in people.index(session, now=CLOSED).people["alice"].skills
        assert "deep-learning" in people.index(session, now=OPEN).people["alice"].skills


def test_imports_are_parsed_once_per_submission_and_the_index_kept_per_state(sessions, ledger) -> None:
    first = scored(ledger, "alice", 0.9, notebook("import torch"))
    people = PeopleIndex(merged_table())
    with sessions() as session:
        index = people.index(session, now=OPEN)
        assert people.index(session, now=OPEN) is index  # nothing changed
    with sessions.begin() as session:  # were a notebook read again, this would show
        session.get(Submission, first).executed_notebook = notebook("import numba")
    with sessions() as session:
        assert people.index(session, now=OPEN) is index  # no event, no reward: the same state
    scored(ledger, "bob", 0.5, notebook("import numba"))
    with sessions() as session:
        index = people.index(session, now=OPEN)
    assert set(index.people["alice"].skills) >= {"deep-learning"}
    assert "performance-optimisation" not in index.people["alice"].skills
    assert "performance-optimisation" in index.people["bob"].skills


def test_hidden_profiles_invalidated_work_and_taken_back_grants_are_left_out(sessions, ledger) -> None:
    alice = scored(ledger, "alice", 0.9, notebook("import torch"))
    scored(ledger, "bob", 0.8, notebook("import torch"))
    scored(ledger, "carol", 0.7, notebook("import pandas"))
    with sessions.begin() as session:
        taken = record_grant(session, grant("carol", alice, "pareto-front")).reward.id
        compensate(session, taken, CompensationReason.RESCORE)
        save_fields(session, "bob", display_name=None, affiliation=None, orcid=None, links=[], hidden=True)
        invalidate(session, alice, "olga", "exploit")
    people = PeopleIndex(merged_table())
    with sessions() as session:
        index = people.index(session, now=OPEN)
    assert set(index.people) == {"alice", "carol"}
    assert index.people["alice"].skills == {}
    assert "fast" not in index.people["carol"].skills
    assert search(index, Query({"deep-learning": 1})).rows == ()


def test_imported_credentials_count_marked_with_their_issuer(sessions, ledger) -> None:
    scored(ledger, "alice", 0.9, notebook("import numpy"))
    people = PeopleIndex(merged_table())
    with sessions() as session:
        assert "clustering" not in people.index(session, now=OPEN).people["alice"].skills
    credential = NewCredential(
        issuer="https://other.example/services/coop",
        jti="urn:uuid:1",
        issued_to="alice@other",
        kind="achievement",
        name="Clustering badge",
        skills=("clustering",),
        evidence_url="https://other.example/services/coop/api/submissions/7",
        payload={},
        token="header.payload.signature",
        issued_at=START,
        expires_at=END + timedelta(days=365),
    )
    with sessions.begin() as session:
        store_imported(session, "alice", [credential])
    with sessions() as session:
        (evidence,) = people.index(session, now=OPEN).people["alice"].skills["clustering"].evidence
        assert (evidence.kind, evidence.detail) == ("imported", "https://other.example/services/coop")
        expired = people.index(session, now=END + timedelta(days=366))  # no ledger change: time alone
        assert "clustering" not in expired.people["alice"].skills
