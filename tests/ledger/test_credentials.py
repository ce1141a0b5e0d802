"""Imported credentials and link codes in the ledger (SQLite and PostgreSQL): once per issuer
and jti even when two imports race, a link code linked once, skills for search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scorer.exceptions import CredentialReplayed
from scorer.ledger import credentials
from scorer.ledger.credentials import NewCredential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
A = "https://a.example.org/services/coop"


def credential(jti: str, skills: tuple[str, ...] = ("clustering",)) -> NewCredential:
    return NewCredential(
        issuer=A, jti=jti, issued_to="alice", kind="achievement", name="score-threshold in Higgs",
        skills=skills, evidence_url=f"{A}/api/submissions/1", payload={"jti": jti}, token="x.y.z",
        issued_at=NOW, expires_at=NOW + timedelta(days=30),
    )  # fmt: skip


def test_stored_once_per_issuer_and_jti_and_listed_with_skills(sessions):
    with sessions.begin() as session:
        [stored] = credentials.store_imported(session, "alice", [credential("urn:uuid:1")], now=NOW)
        assert (stored.issuer, stored.person, stored.skills) == (A, "alice", ("clustering",))
    with sessions.begin() as session, pytest.raises(CredentialReplayed):
        # what a racing import finds at its insert: the pair is there already
        credentials.store_imported(session, "bob", [credential("urn:uuid:1")], now=NOW)
    with sessions() as session:
        assert credentials.imported_already(session, [(A, "urn:uuid:1"), (A, "urn:uuid:2")]) == {
            (A, "urn:uuid:1")
        }
        assert [c.jti for c in credentials.imported_credentials(session, "alice")] == ["urn:uuid:1"]
        assert credentials.imported_credentials(session, "bob") == []
        assert credentials.imported_skills(session, now=NOW) == [("alice", A, "clustering")]
        later = NOW + timedelta(days=30)  # expired: it no longer counts in search
        assert credentials.imported_skills(session, now=later) == []
        assert credentials.expired_count(session, now=later) == 1


def test_a_link_code_links_one_login(sessions):
    with sessions.begin() as session:
        credentials.add_link_code(session, "alice", "h" * 64, NOW)
        assert credentials.link_code(session, "nope") is None
        credentials.bind_link(session, "h" * 64, A, "alice")
        credentials.bind_link(session, "h" * 64, A, "mallory")  # linked already: kept
    with sessions() as session:
        link = credentials.link_code(session, "h" * 64)
    assert (link.person, link.expires_at, link.issuer, link.issued_to) == ("alice", NOW, A, "alice")
