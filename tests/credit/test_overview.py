"""The contribution graph at a zoom (pure): each version when few enough are in the window, else
groups by person and time bucket; the best so far; the versions that earned the most."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scorer.credit.graph import Commit, CommitGraph
from scorer.credit.ladder import Ladder, Metric, compute
from scorer.credit.overview import OTHERS, group, leading_people, most_earned, overview
from scorer.ledger.credit_views import ScoredVersion

T0 = 1_780_000_000  # seconds since the epoch
START = datetime.fromtimestamp(T0, UTC)


def phase(
    steps: list[tuple[str, float | None]], direction: str = "minimize"
) -> tuple[Ladder, dict[str, ScoredVersion]]:
    """A chain of versions a minute apart: ``(person, score)`` each."""
    commits = [
        Commit(f"c{at}", (f"c{at - 1}",) if at else (), (person,), T0 + 60 * at, score)
        for at, (person, score) in enumerate(steps)
    ]
    versions = {
        c.sha: ScoredVersion(at, c.people[0], c.sha, f"solutions/{c.people[0]}/fit.ipynb", START)
        for at, c in enumerate(commits)
    }
    return compute(CommitGraph.build(commits), Metric(direction, 0.0)), versions  # type: ignore[arg-type]


def crowd(count: int, people: int) -> tuple[Ladder, dict[str, ScoredVersion]]:
    """``count`` versions by ``people`` people in turn, each a little better (rmse down)."""
    return phase([(f"p{at % people:02d}", 1.0 - at / (2 * count)) for at in range(count)])


def test_few_versions_are_drawn_each_many_are_grouped_until_zoomed_in():
    ladder, versions = crowd(3000, people=20)
    whole = overview(ladder, versions, max_nodes=1000, buckets=10, leading=12)
    assert whole.page is None and whole.total == whole.phase_total == 3000
    assert sum(g.count for g in whole.groups) == 3000 and len(whole.groups) == 10 * 13
    assert {g.person for g in whole.groups} == {*whole.people, OTHERS} and len(whole.people) == 12
    assert sum(g.credit for g in whole.groups) == float(sum(ladder.totals.values()))
    first = whole.groups[0]  # the first bucket's groups first, in the people's order
    assert (first.person, first.start) == (whole.people[0], START)
    assert first.end == START + (whole.end - START) / 10
    zoomed = overview(ladder, versions, start=START, end=START + timedelta(minutes=499), max_nodes=1000)
    assert zoomed.page is not None and zoomed.total == 500 and not zoomed.groups
    assert [node.key for node in zoomed.page.nodes] == [f"c{at}" for at in range(500)]  # parents first
    assert len(zoomed.page.edges) == 500 - 1 + 0  # each to its parent, c0 has none
    assert zoomed.best == whole.best and len(whole.best) == 3000  # every version improved


def test_a_group_takes_its_best_by_the_direction_and_all_invalidated_have_none():
    ladder, _ = phase([("al", None), ("al", None), ("bo", 0.2), ("bo", 0.7), ("bo", 0.5)], "maximize")
    groups = group(ladder, list(ladder.nodes), START, START + timedelta(minutes=5), ["al", "bo"], buckets=1)
    assert [(g.person, g.count, g.best, g.best_key) for g in groups] == [
        ("al", 2, None, None),
        ("bo", 3, 0.7, "c3"),
    ]


def test_the_best_so_far_steps_only_when_the_phase_improves():
    ladder, versions = phase([("a", 0.9), ("a", 0.95), ("b", 0.5), ("b", None), ("c", 0.4)])
    seen = overview(ladder, versions).best
    assert [(at - START, value) for at, value in seen] == [
        (timedelta(0), 0.9),
        (timedelta(minutes=2), 0.5),
        (timedelta(minutes=4), 0.4),
    ]


def test_leading_people_are_the_largest_credits_then_the_busiest():
    ladder, _ = phase([("x", 1.0), ("y", 1.0), ("y", 1.0), ("z", 1.0), ("z", 1.0), ("z", 1.0), ("w", 0.5)])
    assert leading_people(ladder, 3) == ["w", "z", "y"]


def test_the_versions_that_earned_most_are_named_for_the_largest_credits():
    ladder, versions = phase([("a", 1.0), ("a", 0.9), ("b", 0.5), ("a", 0.45), ("a", 0.15), ("c", 0.14)])
    earned = most_earned(ladder, versions, k=2, people=2)
    assert list(earned) == ["a", "b"]  # c's gain is the smallest
    assert [node.key for node in earned["a"]] == ["c4", "c1"] and earned["a"][0].credit["a"] == pytest.approx(
        0.3
    )
