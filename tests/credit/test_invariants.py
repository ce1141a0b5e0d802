"""The ladder's invariants on random commit graphs (Hypothesis)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from scorer.credit.graph import Commit, CommitGraph
from scorer.credit.ladder import Metric, add, compute, credit_below, rescore

PEOPLE = ("alice", "bob", "carol", "dan")
SCORES = st.one_of(st.none(), st.integers(0, 20).map(lambda n: Fraction(n, 4)))


@st.composite
def graphs(draw: st.DrawFn) -> list[Commit]:
    """One scored root, then commits with one to three earlier parents (some copies), random
    people, scores or none, and a few reverts."""
    size = draw(st.integers(1, 25))
    commits = [Commit("c0", (), ("olga",), 0, draw(st.integers(0, 5)))]
    for at in range(1, size):
        earlier = [f"c{i}" for i in range(at)]
        parents = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=3, unique=True))
        copies = tuple(parents[2:]) if draw(st.booleans()) else ()
        people = tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=2, unique=True)))
        revert = frozenset({"revert"}) if draw(st.integers(0, 9)) == 0 else frozenset()
        commits.append(
            Commit(
                f"c{at}",
                tuple(p for p in parents if p not in copies),
                people,
                at,
                draw(SCORES),
                copies,
                revert,
            )
        )
    return commits


METRICS = st.builds(
    Metric, st.sampled_from(["maximize", "minimize"]), st.sampled_from([0, Fraction(1, 4), 1])
)


@settings(max_examples=60, deadline=None)
@given(graphs(), METRICS)
def test_credit_below_every_commit_is_its_gain_over_the_root(commits, metric):
    ladder = compute(CommitGraph.build(commits), metric)
    root = ladder.nodes["c0"].best
    assert root is not None
    for commit in commits:
        node = ladder.nodes[commit.sha]
        assert node.best is not None and node.increment >= 0
        assert all(node.best >= ladder.nodes[parent].best for parent in commit.all_parents)
        assert credit_below(ladder, commit.sha) == node.best - root
    assert sum(ladder.totals.values()) == sum(
        sum(n.credit.values(), Fraction(0)) for n in ladder.nodes.values()
    )


@settings(max_examples=60, deadline=None)
@given(graphs(), METRICS, st.data())
def test_a_changed_score_recomputes_descendants_to_what_a_full_recompute_gives(commits, metric, data):
    ladder = compute(CommitGraph.build(commits), metric)
    before = dict(ladder.nodes)
    changed = data.draw(st.sampled_from([c.sha for c in commits[1:]] or ["c0"]))
    recomputed = rescore(ladder, changed, data.draw(SCORES))
    assert set(recomputed) == set(ladder.graph.descendants(changed))
    assert all(ladder.nodes[sha] is before[sha] for sha in before if sha not in recomputed)
    fresh = compute(ladder.graph, metric)
    assert ladder.nodes == fresh.nodes and ladder.totals == fresh.totals


@settings(max_examples=40, deadline=None)
@given(graphs(), METRICS)
def test_adding_commits_one_by_one_gives_the_full_result(commits, metric):
    ladder = compute(CommitGraph.build(commits[:1]), metric)
    for commit in commits[1:]:
        add(ladder, commit)
    assert ladder.totals == compute(CommitGraph.build(commits), metric).totals
