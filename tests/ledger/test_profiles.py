"""Profiles in the ledger (SQLite and PostgreSQL): fields with their defaults, saved and replaced,
the phases a person joined, their submissions paged newest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ledger_helpers import END, START, sha

from scorer.exceptions import UnknownPerson
from scorer.ingest.attribution import CommitFacts, Person
from scorer.ledger import profiles, queries
from scorer.ledger.commits import add_alias, record_commits


def test_an_unknown_person_has_no_profile(sessions):
    with sessions() as session, pytest.raises(UnknownPerson, match="nobody"):
        profiles.fields(session, "nobody")


def test_fields_default_to_the_hub_name_until_edited(sessions, ledger):
    ledger.submit("alice", 0.5)
    with sessions() as session:
        found = profiles.fields(session, "alice")
    assert found == profiles.ProfileFields("alice", "alice")


def test_saving_replaces_every_field_and_creates_the_person(sessions):
    with sessions.begin() as session:
        saved = profiles.save_fields(
            session,
            "carol",
            display_name="Carol <b>C</b>",
            affiliation="CERN",
            orcid="0000-0002-1825-0097",
            links=["https://example.org/carol"],
            hidden=True,
            now=START,
        )
    assert saved.updated_at == START
    with sessions.begin() as session:
        profiles.save_fields(
            session, "carol", display_name=None, affiliation=None, orcid=None, links=[], hidden=False, now=END
        )
    with sessions() as session:
        found = profiles.fields(session, "carol")
    assert found == profiles.ProfileFields("carol", "carol", None, None, [], False, END)


def test_fields_as_saved(sessions):
    links = ["https://example.org/a", "http://example.org/b"]
    with sessions.begin() as session:
        profiles.save_fields(
            session,
            "dan",
            display_name="Dan",
            affiliation="Lab",
            orcid=None,
            links=links,
            hidden=True,
            now=START,
        )
    with sessions() as session:
        assert profiles.fields(session, "dan") == profiles.ProfileFields(
            "dan", "Dan", "Lab", None, links, True, START
        )


def test_joined_phases_and_counts(sessions, ledger):
    assert ledger.submit("alice", 0.5, at=START + timedelta(days=1))
    ledger.submit("alice", 0.6, at=START + timedelta(days=2))
    ledger.submit("alice", 0.7, phase="p2", at=END + timedelta(days=1))
    ledger.submit("bob", 0.7)
    with sessions() as session:
        joined = profiles.joined_phases(session, "alice")
        assert profiles.submission_count(session, "alice") == 3
        assert profiles.submission_count(session, "nobody") == 0
    assert [(j.challenge_id, j.phase_id, j.submissions) for j in joined] == [
        ("higgs", "p1", 2),
        ("higgs", "p2", 1),
    ]
    assert joined[0].first_at == START + timedelta(days=1)
    assert joined[0].last_at == START + timedelta(days=2)


def test_submissions_page_newest_first(sessions, ledger):
    ids = [ledger.submit("alice", 0.1 * n) for n in range(5)]
    ledger.submit("bob", 0.9)
    with sessions() as session:
        first = queries.submissions(session, username="alice", limit=2)
        rest = queries.submissions(session, username="alice", limit=2, offset=2)
        last = queries.submissions(session, username="alice", limit=2, offset=4)
    assert [s.id for s in first + rest + last] == ids[::-1]


def test_the_phases_a_verified_co_author_shares_exactly_by_email(sessions, ledger):
    """A commit's trailers name ``a_l@x.example`` and ``ünï@x.example``: their verified owners
    share its phase; ``l@x.example``, only a part of a named email, does not (nor does a commit
    never submitted give anyone a phase)."""
    ledger.submit("bob", 0.5)  # the commit sha(1) in p1
    ledger.submit("bob", 0.6, phase="p2")  # sha(2) in p2, no trailer
    who = Person("Bob", "bob@x.example")
    named = (Person("A", "a_l@x.example"), Person("U", "ünï@x.example"))
    with sessions.begin() as session:
        for person, email in [("ann", "a_l@x.example"), ("uma", "ünï@x.example"), ("lee", "l@x.example")]:
            add_alias(session, person, email)
        commits = [
            CommitFacts(sha(1), (), who, who, 1_700_000_000, "tuned", named),
            CommitFacts(sha(9), (), who, who, 1_700_000_000, "unsubmitted", (Person("L", "l@x.example"),)),
        ]
        record_commits(session, "higgs", pusher="bob", ref="refs/heads/bob/main", commits=commits)
    with sessions() as session:
        found = {name: profiles.coauthored_phases(session, name) for name in ["ann", "uma", "lee", "bob"]}
    assert found == {"ann": [("higgs", "p1")], "uma": [("higgs", "p1")], "lee": [], "bob": []}
