"""A hidden person's skills (SQLite and PostgreSQL): left out of the index and the search, yet
computed for their own profile, each percentile among the skill's visible holders plus them."""

from __future__ import annotations

from ledger_helpers import END, challenge_spec

from scorer.ledger import store
from scorer.ledger.people import PeopleIndex
from scorer.ledger.profiles import save_fields
from scorer.profiles.search import Query, search
from scorer.profiles.skills import merged_table


def hide(sessions, name: str) -> None:
    with sessions.begin() as session:
        save_fields(session, name, display_name=None, affiliation=None, orcid=None, links=[], hidden=True)


def test_a_hidden_persons_percentile_is_among_the_visible_holders_plus_them(sessions, ledger) -> None:
    """``tracking`` (a tag of the challenge) weighs 1 + the best rank's quality: carol first
    (2.0), alice second of three (1.5), bob last (1.0)."""
    with sessions.begin() as session:
        store.upsert_challenge(
            session, challenge_spec(tags={"skills": ["tracking"]}), "https://git.example.org/h"
        )
    for name, accuracy in [("alice", 0.9), ("bob", 0.8), ("carol", 0.95)]:
        ledger.submit(name, accuracy)
    hide(sessions, "carol")
    people = PeopleIndex(merged_table())
    with sessions() as session:
        index = people.index(session, now=END)
        carol = people.person(session, "carol", now=END)
        alice = people.person(session, "alice", now=END)
        assert people.index(session, now=END) is index  # carol's skills changed nothing
    assert set(index.people) == {"alice", "bob"}
    assert {p: s.percentile for p, s in index.holders["tracking"].items()} == {"alice": 100.0, "bob": 50.0}
    assert alice is index.people["alice"]
    tracking = carol.skills["tracking"]
    assert (tracking.raw, tracking.percentile) == (2.0, 100.0)  # above both visible holders
    assert [(e.kind, e.detail) for e in tracking.evidence] == [
        ("challenge", "scored work; rank 1 of 3 (p1, private, main)")
    ]
    assert carol.skills["rank:higgs"].percentile == 100.0
    assert [row.person for row in search(index, Query({"tracking": 1})).rows] == ["alice", "bob"]


def test_a_hidden_person_below_every_visible_holder(sessions, ledger) -> None:
    with sessions.begin() as session:
        store.upsert_challenge(
            session, challenge_spec(tags={"skills": ["tracking"]}), "https://git.example.org/h"
        )
    for name, accuracy in [("alice", 0.9), ("bob", 0.8), ("carol", 0.7)]:
        ledger.submit(name, accuracy)
    hide(sessions, "carol")
    people = PeopleIndex(merged_table())
    with sessions() as session:
        carol = people.person(session, "carol", now=END)
        nobody = people.person(session, "dora", now=END)
    assert nobody.skills == {}
    tracking = carol.skills["tracking"]
    assert (tracking.raw, round(tracking.percentile, 3)) == (1.0, 33.333)  # one of three: herself
