"""The ladder along the commit graph: best-so-far, increments, and credit per person.

For a board's primary metric, with U(c) the commit's score turned so that higher is better and
η the metric's noise threshold: B(c) = U(c) when U(c) > max over parents B(p) + η, else that
maximum (a commit flagged ``revert`` never sets a new best). A commit's increment is
B(c) − max B(p) (never negative), split equally among its credited people: "break then fix",
tweaks below η and reverts earn nothing; building on someone's commit leaves them what their
commit added. The first scored commit of a line is its start: it sets B and earns nothing.

At a merge (two or more parents, copy parents included) with base b, the merge base with the
highest best (criss-cross merges have several), the gain B(m) − B(b) is split by an exact Shapley
value (:mod:`scorer.credit.shapley`) among the merged branches, each worth g_i = B(p_i) − B(b) (a
coalition of branches is worth its best one: parallel work that found the same gain shares it),
and the merge's own work (its increment). Each branch's share goes to the people who did the
work on it since b, by their increments; the merge's credit entries are those targets minus what
those people already earned in the merged commits, so they may be negative (redundant parallel
work given back). So, for every commit h of a graph with one root r, credit summed over h and its
ancestors is exactly B(h) − B(r). Without a scored merge base, b's best is taken as the lowest
parent's best.

All arithmetic is in :class:`~fractions.Fraction` (a float score is taken at its exact binary
value), so sums are exact. A node's result depends only on it and its ancestors: :func:`update`
recomputes the descendants of a changed commit and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from dataclasses import replace as with_changes
from fractions import Fraction
from typing import Literal

from scorer.credit.ancestry import brought, merge_bases
from scorer.credit.graph import UNATTRIBUTED, Commit, CommitGraph
from scorer.credit.shapley import EXACT_PLAYERS, shapley

Direction = Literal["minimize", "maximize"]
#: The merge's own work, after the merged parents, in a merge's players.
OWN_WORK = "(merge)"


@dataclass(frozen=True)
class Metric:
    """The board's primary metric: its direction and noise threshold (in the metric's units)."""

    direction: Direction = "maximize"
    noise_threshold: float | Fraction = 0

    def utility(self, score: float | Fraction | None) -> Fraction | None:
        if score is None:
            return None
        value = Fraction(score)
        return value if self.direction == "maximize" else -value


@dataclass(frozen=True)
class MergeSplit:
    """How a merge's gain was shared: the players (parents, then :data:`OWN_WORK`), what each is
    worth alone, their Shapley shares, and whether these are exact or sampled."""

    base: str | None
    players: tuple[str, ...]
    gains: tuple[Fraction, ...]
    shares: tuple[Fraction, ...]
    method: Literal["exact", "monte-carlo"]
    samples: int
    error_bound: float


@dataclass(frozen=True)
class NodeCredit:
    """One commit's result. ``best`` and ``increment`` are in utility units (higher is better:
    for a metric to minimise, the increment is how much it went down)."""

    sha: str
    best: Fraction | None
    increment: Fraction
    credit: dict[str, Fraction]
    flags: frozenset[str] = frozenset()
    merge: MergeSplit | None = None


@dataclass
class Ladder:
    """The ladder of a graph: each node's result and each person's total, kept up to date."""

    graph: CommitGraph
    metric: Metric
    nodes: dict[str, NodeCredit] = field(default_factory=dict)
    totals: dict[str, Fraction] = field(default_factory=dict)
    exact_players: int = EXACT_PLAYERS


def compute(graph: CommitGraph, metric: Metric, *, exact_players: int = EXACT_PLAYERS) -> Ladder:
    """The ladder of the whole graph, parents first."""
    ladder = Ladder(graph, metric, exact_players=exact_players)
    for commit in graph:
        _settle(ladder, commit)
    return ladder


def update(ladder: Ladder, sha: str) -> list[str]:
    """Recompute ``sha`` (its score, people or flags changed) and its descendants; the commits
    recomputed, parents first."""
    changed = ladder.graph.descendants(sha)
    for each in changed:
        _settle(ladder, ladder.graph.commits[each])
    return changed


def rescore(ladder: Ladder, sha: str, score: float | Fraction | None) -> list[str]:
    """Give ``sha`` a new score (``None``: its score removed, e.g. an invalidated submission)."""
    ladder.graph.replace(with_changes(ladder.graph.commits[sha], score=score))
    return update(ladder, sha)


def add(ladder: Ladder, commit: Commit) -> NodeCredit:
    """A new commit (its parents known): only its own node is computed."""
    ladder.graph.add(commit)
    _settle(ladder, commit)
    return ladder.nodes[commit.sha]


def credit_below(ladder: Ladder, head: str) -> Fraction:
    """Credit summed over ``head`` and its ancestors."""
    return sum(
        (sum(ladder.nodes[sha].credit.values(), Fraction(0)) for sha in ladder.graph.ancestors(head)),
        Fraction(0),
    )


def _settle(ladder: Ladder, commit: Commit) -> None:
    old = ladder.nodes.get(commit.sha)
    if old is not None:
        _account(ladder.totals, old.credit, -1)
    node = _node(ladder, commit)
    ladder.nodes[commit.sha] = node
    _account(ladder.totals, node.credit, 1)


def _account(totals: dict[str, Fraction], credit: dict[str, Fraction], sign: int) -> None:
    for person, amount in credit.items():
        total = totals.get(person, Fraction(0)) + sign * amount
        if total:
            totals[person] = total
        else:
            totals.pop(person, None)


def _node(ladder: Ladder, commit: Commit) -> NodeCredit:
    parents = commit.all_parents
    bests = [ladder.nodes[parent].best for parent in parents]
    known = [best for best in bests if best is not None]
    below = max(known) if known else None
    own = None if "revert" in commit.flags else ladder.metric.utility(commit.score)
    threshold = Fraction(ladder.metric.noise_threshold)
    flags = set(commit.flags)
    if commit.copied_from:
        flags.add("copy")
    if own is not None and (below is None or own > below + threshold):
        best: Fraction | None = own
        flags.add("start" if below is None else "new-best")
    else:
        best = below
    increment = best - below if best is not None and below is not None else Fraction(0)
    if len(parents) < 2:
        return NodeCredit(commit.sha, best, increment, _split(increment, commit.people), frozenset(flags))
    flags.add("merge")
    return _merge(ladder, commit, best, increment, frozenset(flags))


def _merge(
    ladder: Ladder, commit: Commit, best: Fraction | None, increment: Fraction, flags: frozenset[str]
) -> NodeCredit:
    nodes, parents = ladder.nodes, commit.all_parents
    bests = [nodes[parent].best for parent in parents]
    known = [value for value in bests if value is not None]
    bases = merge_bases(ladder.graph, parents)
    base = max(bases, key=lambda sha: _rank(nodes[sha].best, ladder.graph.generation[sha], sha), default=None)
    floor = nodes[base].best if base is not None else None
    if floor is None:
        floor = min(known, default=None)
    gains = tuple(
        max(Fraction(0), value - floor) if value is not None and floor is not None else Fraction(0)
        for value in bests
    )
    own_bit = 1 << len(parents)

    def value(coalition: int) -> Fraction:
        branches = max((gain for bit, gain in enumerate(gains) if coalition >> bit & 1), default=Fraction(0))
        return branches + (increment if coalition & own_bit else 0)

    split = shapley(len(parents) + 1, value, seed=commit.sha, exact_players=ladder.exact_players)
    region = brought(ladder.graph, parents, base)
    earned: dict[str, Fraction] = {}
    work: list[dict[str, Fraction]] = [{} for _ in parents]
    for sha, mask in region.items():
        node = nodes[sha]
        _account(earned, node.credit, 1)
        done = _split(node.increment, ladder.graph.commits[sha].people) if node.increment else {}
        for bit in range(len(parents)):
            if mask >> bit & 1:
                _account(work[bit], done, 1)
    target: dict[str, Fraction] = {}
    for bit, share in enumerate(split.shares[:-1]):
        if not share:
            continue
        whole = sum(work[bit].values(), Fraction(0))
        if whole:
            _account(target, {person: share * amount / whole for person, amount in work[bit].items()}, 1)
        else:  # a branch whose gain came from a start: its tip's people
            _account(target, _split(share, ladder.graph.commits[parents[bit]].people), 1)
    _account(target, _split(split.shares[-1], commit.people), 1)
    _account(target, earned, -1)
    players = (*parents, OWN_WORK)
    shares = MergeSplit(
        base, players, (*gains, increment), split.shares, split.method, split.samples, split.error_bound
    )
    return NodeCredit(commit.sha, best, increment, target, flags, shares)


def _rank(best: Fraction | None, generation: int, sha: str) -> tuple[bool, Fraction, int, str]:
    return (best is not None, best if best is not None else Fraction(0), generation, sha)


def _split(amount: Fraction, people: Iterable[str]) -> dict[str, Fraction]:
    """``amount`` in equal parts among ``people`` (nobody verified: :data:`UNATTRIBUTED`)."""
    if not amount:
        return {}
    names = list(dict.fromkeys(people)) or [UNATTRIBUTED]
    return {name: amount / len(names) for name in names}
