"""The profile's pure core: who may see a profile, ranks with the private move, the commits that
earned credit, achievements (compensated grants leave), pages."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from coop_client.models import ProfileIn
from scorer.credit.contribution import GraphNode
from scorer.ledger.credit_views import ScoredVersion
from scorer.ledger.models import Moment, RewardKind
from scorer.ledger.profiles import ProfileFields
from scorer.ledger.rewards import RewardView
from scorer.profiles.profile import (
    MAX_PAGE,
    BoardStanding,
    CreditCommit,
    Rank,
    SubmissionPage,
    achievements,
    credit_commits,
    may_view,
    page_window,
    ranks,
    strongest_skills,
)
from scorer.profiles.skills import PersonSkills, Skill
from scorer.ranking.leaderboard import RankedRow

T = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hidden", "viewer", "organiser", "shown"),
    [
        (False, None, False, True),
        (False, "bob", False, True),
        (True, None, False, False),
        (True, "bob", False, False),
        (True, "alice", False, True),
        (True, "olga", True, True),
    ],
)
def test_who_may_view(hidden, viewer, organiser, shown):
    fields = ProfileFields("alice", "Alice", hidden=hidden)
    assert may_view(fields, viewer=viewer, organiser=organiser) is shown


def row(rank, person, submission):
    return RankedRow(rank, person, submission, T, {"accuracy": 1.0 / rank})


def test_ranks_public_and_private_with_the_move():
    public = [row(1, "bob", 2), row(2, "alice", 1), row(3, "carol", 3)]
    private = [row(1, "alice", 1), row(2, "bob", 2), row(3, "carol", 3)]
    boards = [
        BoardStanding("higgs", "p1", "main", public, private, {"alice": 1, "bob": -1, "carol": 0}),
        BoardStanding("higgs", "p2", "main", [row(1, "bob", 9)]),
    ]
    assert ranks("alice", boards) == [
        Rank("higgs", "p1", "main", "public", 2, 3),
        Rank("higgs", "p1", "main", "private", 1, 3, 1),
    ]
    assert ranks("bob", boards)[-1] == Rank("higgs", "p2", "main", "public", 1, 1)
    assert ranks("dan", boards) == []


def node(submission, commit, increment, credit):
    version = ScoredVersion(submission, "alice", commit, "solutions/alice/main.ipynb", T)
    return GraphNode(f"{commit}:nb", version, tuple(credit), T, 0.5, 0.5, increment, credit, ())


def test_credit_commits_are_those_that_credited_the_person():
    nodes = [
        node(1, "a" * 40, 0.1, {"alice": 0.1}),
        node(2, "b" * 40, 0.0, {"alice": 0.0}),
        node(3, "c" * 40, 0.2, {"alice": 0.05, "bob": 0.15}),
        node(4, "d" * 40, 0.3, {"bob": 0.3}),
    ]
    assert credit_commits("alice", "accuracy", nodes) == [
        CreditCommit("a" * 40, "solutions/alice/main.ipynb", 1, "accuracy", 0.1, 0.1),
        CreditCommit("c" * 40, "solutions/alice/main.ipynb", 3, "accuracy", 0.2, 0.05),
    ]


def reward(rid, rewarder, kind=RewardKind.GRANT, compensates=None):
    amount = Decimal(-10 if kind == RewardKind.COMPENSATION else 10)
    return RewardView(
        rid,
        kind,
        compensates,
        T,
        "higgs",
        "p1",
        "alice",
        rewarder,
        0,
        Moment.LIVE,
        "s",
        amount,
        "points",
        1,
        None,
    )


def test_achievements_are_grants_of_achievement_rewarders_not_taken_back():
    history = [
        reward(1, "score-threshold"),
        reward(2, "new-record"),
        reward(3, "beat-baseline"),
        reward(4, "beat-baseline", RewardKind.COMPENSATION, compensates=3),
        reward(5, "limited-hardware"),
        reward(6, "organiser-check"),
    ]
    assert [r.id for r in achievements(history)] == [1, 5, 6]


def test_page_window_and_next_offset():
    assert page_window(-5, 0) == (0, 1)
    assert page_window(10, 10**6) == (10, MAX_PAGE)
    assert SubmissionPage("alice", 0, 0, []).next_offset is None
    page = SubmissionPage("alice", 5, 2, [object(), object()])  # type: ignore[list-item]
    assert page.next_offset == 4
    assert SubmissionPage("alice", 5, 4, [object()]).next_offset is None  # type: ignore[list-item]
    assert SubmissionPage("alice", 5, 9, []).next_offset is None


def test_the_edit_model_bounds_fields_and_links():
    change = ProfileIn(display_name="  ", affiliation=" CERN ", links=["https://example.org/x", "http://a.b"])
    assert (change.display_name, change.affiliation) == (None, "CERN")
    for links in (["javascript:alert(1)"], ["mailto:a@example.org"], ["//example.org"], ["https://"]):
        with pytest.raises(ValidationError, match="a link must be an http"):
            ProfileIn(links=links)
    with pytest.raises(ValidationError, match="at most 100 characters"):
        ProfileIn(display_name="x" * 101)
    with pytest.raises(ValidationError, match="Extra inputs"):
        ProfileIn.model_validate({"person": "alice"})


def test_strongest_skills_first():
    def skill(name, percentile):
        return Skill(name, 1.0, percentile, ())

    found = PersonSkills(
        "alice",
        {s.name: s for s in (skill("b", 50), skill("a", 50), skill("c", 90))},
        frozenset(),
        frozenset(),
        None,
    )
    assert [s.name for s in strongest_skills(found)] == ["c", "a", "b"]
    assert strongest_skills(None) == []
