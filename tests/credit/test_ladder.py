"""The ladder along the commit graph: named cases of what credit must and must not reward."""

from __future__ import annotations

from fractions import Fraction

import pytest

from scorer.credit.audit import audit
from scorer.credit.graph import UNATTRIBUTED, Commit, CommitGraph, CreditError
from scorer.credit.ladder import Metric, add, compute, credit_below, rescore


def chain(*steps: tuple[str, float | None], flags: dict[str, frozenset[str]] | None = None) -> CommitGraph:
    """A chain of commits c0, c1… by the people and with the scores given."""
    commits = []
    for at, (person, score) in enumerate(steps):
        parents = (f"c{at - 1}",) if at else ()
        commits.append(
            Commit(f"c{at}", parents, (person,), at, score, flags=(flags or {}).get(f"c{at}", frozenset()))
        )
    return CommitGraph.build(commits)


def test_a_chain_credits_each_increment_and_sums_to_the_gain():
    ladder = compute(chain(("olga", 0.5), ("alice", 0.6), ("bob", 0.75)), Metric())
    assert ladder.totals == {"alice": Fraction(0.6) - Fraction(0.5), "bob": Fraction(0.75) - Fraction(0.6)}
    assert credit_below(ladder, "c2") == Fraction(0.75) - Fraction(0.5)
    assert "start" in ladder.nodes["c0"].flags


def test_building_on_someone_elses_commit_credits_both():
    ladder = compute(chain(("olga", 1), ("alice", 3), ("bob", 4)), Metric())
    assert ladder.totals == {"alice": 2, "bob": 1}


def test_break_then_fix_earns_nothing():
    ladder = compute(chain(("olga", 5), ("alice", 1), ("alice", 5)), Metric())
    assert ladder.totals == {}
    assert ladder.nodes["c2"].best == 5


def test_a_tweak_below_the_noise_threshold_earns_nothing():
    ladder = compute(chain(("olga", 1), ("alice", 1.005), ("bob", 1.02)), Metric(noise_threshold=0.01))
    assert ladder.totals == {"bob": Fraction(1.02) - 1}


def test_a_revert_earns_nothing():
    flags = {"c2": frozenset({"revert"})}
    ladder = compute(
        chain(("olga", 1), ("alice", 0.5), ("bob", 1), ("carol", 3), ("dan", 9), flags=flags), Metric()
    )
    assert ladder.totals == {"carol": 2, "dan": 6}
    # flagged revert to a tree that scored higher: still no new best
    reverted = compute(chain(("olga", 1), ("alice", 2), ("bob", 7), flags=flags), Metric())
    assert reverted.totals == {"alice": 1}


def test_a_metric_to_minimise_credits_the_decrease():
    ladder = compute(chain(("olga", 10), ("alice", 7), ("bob", 8)), Metric("minimize", 0.5))
    assert ladder.totals == {"alice": 3}
    assert ladder.nodes["c2"].best == -7


def test_co_authors_share_equally_and_nobody_verified_is_unattributed():
    graph = CommitGraph.build(
        [
            Commit("a", (), ("olga",), 0, 0),
            Commit("b", ("a",), ("alice", "bob", "carol"), 1, 1),
            Commit("c", ("b",), (), 2, 2),
        ]
    )
    ladder = compute(graph, Metric())
    assert ladder.totals == {
        "alice": Fraction(1, 3),
        "bob": Fraction(1, 3),
        "carol": Fraction(1, 3),
        UNATTRIBUTED: 1,
    }


def test_a_merge_splits_parallel_gains_by_shapley_and_pays_its_own_work():
    # base 0; alice's branch reaches 3, bob's 2 (they found overlapping gains), the merge adds 1
    graph = CommitGraph.build(
        [
            Commit("base", (), ("olga",), 0, 0),
            Commit("a", ("base",), ("alice",), 1, 3),
            Commit("b", ("base",), ("bob",), 2, 2),
            Commit("m", ("a", "b"), ("carol",), 3, 4),
        ]
    )
    ladder = compute(graph, Metric())
    split = ladder.nodes["m"].merge
    assert split is not None and split.method == "exact" and split.base == "base"
    assert split.gains == (3, 2, 1)
    assert split.shares == (2, 1, 1)  # max-game Shapley: alice 3/2 + 1/2, bob 1/2 + 1/2
    assert ladder.totals == {"alice": 2, "bob": 1, "carol": 1}
    assert credit_below(ladder, "m") == 4


def test_a_criss_cross_merge_uses_the_base_with_the_highest_best():
    graph = CommitGraph.build(
        [
            Commit("r", (), ("olga",), 0, 0),
            Commit("x", ("r",), ("alice",), 1, 2),
            Commit("y", ("r",), ("bob",), 2, 1),
            Commit("p", ("x", "y"), ("alice",), 3, None),
            Commit("q", ("y", "x"), ("bob",), 4, 5),
            Commit("m", ("p", "q"), ("carol",), 5, None),
        ]
    )
    ladder = compute(graph, Metric())
    split = ladder.nodes["m"].merge
    assert split is not None and split.base == "x"
    assert credit_below(ladder, "m") == 5


def test_a_copy_parent_credits_the_original_and_flags_the_copy():
    graph = CommitGraph.build(
        [
            Commit("base", (), ("olga",), 0, 0),
            Commit("alice1", ("base",), ("alice",), 1, 4),
            Commit("bob0", ("base",), ("bob",), 2, 1),
            Commit("bob1", ("bob0",), ("bob",), 3, 5, copied_from=("alice1",)),
        ]
    )
    ladder = compute(graph, Metric())
    assert "copy" in ladder.nodes["bob1"].flags
    assert ladder.totals == {"alice": Fraction(7, 2), "bob": Fraction(3, 2)}
    assert credit_below(ladder, "bob1") == 5


def test_a_merge_of_eight_branches_stays_exact_and_sampling_beyond_the_bound_says_so():
    commits = [Commit("base", (), ("olga",), 0, 0)]
    commits += [Commit(f"b{i}", ("base",), (f"p{i}",), i, i + 1) for i in range(8)]
    commits.append(Commit("m", tuple(f"b{i}" for i in range(8)), ("carol",), 9, 10))
    exact = compute(CommitGraph.build(commits), Metric())
    split = exact.nodes["m"].merge
    assert split is not None and split.method == "exact" and len(split.players) == 9
    assert credit_below(exact, "m") == 10
    assert exact.totals["p7"] > exact.totals["p0"] > 0
    sampled = compute(CommitGraph.build(commits), Metric(), exact_players=4)
    estimate = sampled.nodes["m"].merge
    assert estimate is not None and estimate.method == "monte-carlo" and estimate.samples > 0
    assert credit_below(sampled, "m") == 10  # every sampled ordering adds up to the whole
    for person, amount in exact.totals.items():
        assert abs(float(sampled.totals[person] - amount)) <= estimate.error_bound


def test_a_ten_thousand_deep_chain_needs_no_recursion():
    steps = [("olga", 0.0)] + [(f"p{i % 7}", float(i)) for i in range(1, 10_000)]
    ladder = compute(chain(*steps), Metric())
    assert credit_below(ladder, "c9999") == 9999
    assert len(ladder.graph.descendants("c0")) == 10_000


def test_invalidating_a_score_recomputes_its_descendants_only():
    graph = CommitGraph.build(
        [
            Commit("r", (), ("olga",), 0, 0),
            Commit("a", ("r",), ("alice",), 1, 3),
            Commit("b", ("a",), ("bob",), 2, 4),
            Commit("side", ("r",), ("carol",), 3, 2),
        ]
    )
    ladder = compute(graph, Metric())
    before = dict(ladder.nodes)
    assert rescore(ladder, "a", None) == ["a", "b"]
    assert ladder.nodes["side"] is before["side"] and ladder.nodes["r"] is before["r"]
    assert ladder.totals == {"bob": 4, "carol": 2}
    assert ladder.nodes == compute(ladder.graph, Metric()).nodes


def test_a_new_scored_commit_is_computed_alone():
    ladder = compute(chain(("olga", 1), ("alice", 2)), Metric())
    node = add(ladder, Commit("c2", ("c1",), ("bob",), 2, 5))
    assert node.increment == 3 and ladder.totals == {"alice": 1, "bob": 3}


@pytest.mark.parametrize(
    ("commits", "problem"),
    [
        ([Commit("a", ("ghost",))], "names a parent ghost that is not in the graph"),
        ([Commit("a"), Commit("a")], "appears twice"),
        ([Commit("a", ("b",)), Commit("b", ("a",))], "has a cycle"),
    ],
)
def test_a_bad_graph_is_refused_with_a_clear_error(commits, problem):
    with pytest.raises(CreditError, match=problem):
        CommitGraph.build(commits)


def test_the_audit_finds_a_chain_exact_and_reports_parallel_work_against_shapley():
    exact = audit(compute(chain(("olga", 0), ("alice", 2), ("bob", 5)), Metric()), samples=20)
    assert {row.person: (row.credit, row.shapley, row.difference) for row in exact} == {
        "alice": (2.0, 2.0, 0.0),
        "bob": (3.0, 3.0, 0.0),
    }
    graph = CommitGraph.build(
        [
            Commit("base", (), ("olga",), 0, 0),
            Commit("a", ("base",), ("alice",), 1, 3),
            Commit("b", ("base",), ("bob",), 2, 2),
            Commit("m", ("a", "b"), ("carol",), 3, 4),
        ]
    )
    rows = {row.person: row for row in audit(compute(graph, Metric()), samples=400, seed=1)}
    # precedence-constrained Shapley: alice first (1/2) gets 3, after bob 1: mean 2; bob 1; carol 1
    for person, value in {"alice": 2.0, "bob": 1.0, "carol": 1.0}.items():
        assert abs(rows[person].shapley - value) <= rows[person].error + 1e-9
        assert abs(rows[person].difference) <= rows[person].error + 1e-9
