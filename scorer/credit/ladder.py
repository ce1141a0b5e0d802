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
coalition of branches is worth its best one), and the merge's own work (its increment, paid to
whoever merged). The branches' commits have earned their g_i already; the merge adds each
branch's correction φ_i − g_i (zero unless several branches gained: parallel work that found the
same gain shares it, so a correction is never positive), spread over the people who did that
branch's work since b in proportion to their increments, and takes back whatever the merged
lines counted twice (lines shared by a criss-cross or octopus merge's parents). So, for every
commit h of a graph with one root r, credit summed over h and its ancestors is exactly
B(h) − B(r); a merge's credit entries may be negative. Without a scored merge base, b's best is
taken as the lowest parent's best.

All arithmetic is in :class:`~fractions.Fraction` (a float score is taken at its exact binary
value), so sums are exact. A node's result depends only on it and its ancestors: :func:`update`
recomputes the descendants of a changed commit and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from dataclasses import replace as with_changes
from fractions import Fraction
from functools import cached_property
from typing import Literal

from scorer.credit.ancestry import brought, merge_bases
from scorer.credit.graph import UNATTRIBUTED, Commit, CommitGraph
from scorer.credit.shapley import EXACT_PLAYERS, shapley

Direction = Literal["minimize", "maximize"]
#: Proportional parts are multiples of this (the rest goes to the largest part, so sums stay exact).
GRID = Fraction(1, 2**96)
#: The merge's own work, after the merged parents, in a merge's players.
OWN_WORK = "(merge)"
_ZERO = Fraction(0)
_COPY, _START, _NEW_BEST, _MERGE = (frozenset({flag}) for flag in ("copy", "start", "new-best", "merge"))


@dataclass(frozen=True)
class Metric:
    """The board's primary metric: its direction and noise threshold (in the metric's units)."""

    direction: Direction = "maximize"
    noise_threshold: float | Fraction = 0

    @cached_property
    def threshold(self) -> Fraction:
        return Fraction(self.noise_threshold)

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
    total: Fraction = field(init=False)

    def __post_init__(self) -> None:
        credit = self.credit
        if not credit:
            total = _ZERO
        elif len(credit) == 1:
            [total] = credit.values()
        else:
            total = sum(credit.values(), _ZERO)
        object.__setattr__(self, "total", total)


@dataclass
class Ladder:
    """The ladder of a graph: each node's result and each person's total, kept up to date."""

    graph: CommitGraph
    metric: Metric
    nodes: dict[str, NodeCredit] = field(default_factory=dict)
    totals: dict[str, Fraction] = field(default_factory=dict)
    #: Credit summed over each commit and its ancestors (what a merge's lines earned, without a walk).
    below: dict[str, Fraction] = field(default_factory=dict)
    #: Each commit's increment per credited person, as a float: the weights merges spread by.
    work: dict[str, float] = field(default_factory=dict)
    exact_players: int = EXACT_PLAYERS


def compute(graph: CommitGraph, metric: Metric, *, exact_players: int = EXACT_PLAYERS) -> Ladder:
    """The ladder of the whole graph, parents first."""
    ladder = Ladder(graph, metric, exact_players=exact_players)
    for commit in graph:
        _settle(ladder, commit, account=False)
    ladder.totals = _totals(ladder.nodes.values())
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


def _settle(ladder: Ladder, commit: Commit, *, account: bool = True) -> None:
    old = ladder.nodes.get(commit.sha) if account else None
    if old is not None:
        _account(ladder.totals, old.credit, -1)
    node, below = _node(ladder, commit)
    ladder.nodes[commit.sha] = node
    ladder.below[commit.sha] = below
    if node.increment:
        ladder.work[commit.sha] = float(node.increment) / len(commit.people or (UNATTRIBUTED,))
    else:
        ladder.work.pop(commit.sha, None)
    if account:
        _account(ladder.totals, node.credit, 1)


def _totals(nodes: Iterable[NodeCredit]) -> dict[str, Fraction]:
    """Each person's credit summed over ``nodes``: numerators are added per denominator first
    (most credit is a float's exact value, and floats have few denominators), so that few
    fractions are added."""
    grouped: dict[str, dict[int, int]] = {}
    for node in nodes:
        for person, amount in node.credit.items():
            sums = grouped.setdefault(person, {})
            sums[amount.denominator] = sums.get(amount.denominator, 0) + amount.numerator
    totals = {}
    for person, sums in grouped.items():
        total = sum((Fraction(numerator, denominator) for denominator, numerator in sums.items()), _ZERO)
        if total:
            totals[person] = total
    return totals


def _account(totals: dict[str, Fraction], credit: dict[str, Fraction], sign: int) -> None:
    for person, amount in credit.items():
        before = totals.get(person)
        if before is None:
            total = amount if sign > 0 else -amount
        else:
            total = before + amount if sign > 0 else before - amount
        if total:
            totals[person] = total
        else:
            totals.pop(person, None)


def _node(ladder: Ladder, commit: Commit) -> tuple[NodeCredit, Fraction]:
    """The commit's result, and the credit summed over it and its ancestors."""
    parents = commit.all_parents
    bests = [ladder.nodes[parent].best for parent in parents]
    known = [best for best in bests if best is not None]
    below = max(known) if known else None
    own = None if "revert" in commit.flags else ladder.metric.utility(commit.score)
    flags = commit.flags | _COPY if commit.copied_from else commit.flags
    if own is not None and (below is None or own > below + ladder.metric.threshold):
        best: Fraction | None = own
        flags |= _START if below is None else _NEW_BEST
        increment = own - below if below is not None else _ZERO
    else:
        best, increment = below, _ZERO
    if len(parents) < 2:
        node = NodeCredit(commit.sha, best, increment, _split(increment, commit.people), flags)
        behind = ladder.below[parents[0]] if parents else _ZERO
        return node, behind + node.total if node.total else behind
    return _merge(ladder, commit, best, increment, flags | _MERGE)


def _merge(
    ladder: Ladder, commit: Commit, best: Fraction | None, increment: Fraction, flags: frozenset[str]
) -> tuple[NodeCredit, Fraction]:
    nodes, parents, graph = ladder.nodes, commit.all_parents, ladder.graph
    bests = [nodes[parent].best for parent in parents]
    known = [value for value in bests if value is not None]
    bases, region = merge_bases(graph, parents)
    base = max(bases, key=lambda sha: _rank(nodes[sha].best, graph.generation[sha], sha), default=None)
    if len(set(bases)) > 1 and base is not None:
        region = brought(graph, parents, base)  # criss-cross: the other bases' lines are brought too
    floor = nodes[base].best if base is not None else None
    if floor is None:
        floor = min(known, default=None)
    zero = Fraction(0)
    gains = tuple(
        max(zero, value - floor) if value is not None and floor is not None else zero for value in bests
    )
    own_bit = 1 << len(parents)

    def value(coalition: int) -> Fraction:
        branches = max((gain for bit, gain in enumerate(gains) if coalition >> bit & 1), default=zero)
        return branches + (increment if coalition & own_bit else 0)

    split = shapley(len(parents) + 1, value, seed=commit.sha, exact_players=ladder.exact_players)
    gain = best - floor if best is not None and floor is not None else zero
    if len(parents) == 2 and len(set(bases)) == 1:  # the lines share exactly the base's ancestry
        earned = sum((ladder.below[parent] for parent in parents), zero) - 2 * ladder.below[bases[0]]
    else:
        earned = sum((nodes[sha].total for sha in region), zero)
    # What the merge must add for the credit below it to be its gain: its own work, each branch's
    # Shapley share minus what the branch earned, and what merged lines counted twice.
    corrections = [share - alone for share, alone in zip(split.shares[:-1], gains, strict=True)]
    overlap = gain - earned - increment - sum(corrections, zero)
    credit = _split(split.shares[-1], commit.people)
    needed = [bit for bit, correction in enumerate(corrections) if correction]
    if overlap:
        needed.append(len(parents))
    if needed:
        work = _work(ladder, region, len(parents), needed)
        for bit in needed[: len(needed) - bool(overlap)]:
            _account(credit, _spread(corrections[bit], work[bit], graph.commits[parents[bit]].people), 1)
        if overlap:
            _account(credit, _spread(overlap, work[len(parents)], commit.people), 1)
    players = (*parents, OWN_WORK)
    shares = MergeSplit(
        base, players, (*gains, increment), split.shares, split.method, split.samples, split.error_bound
    )
    node = NodeCredit(commit.sha, best, increment, credit, flags, shares)
    return node, (ladder.below[base] if base is not None else zero) + earned + node.total


def _work(
    ladder: Ladder, region: dict[str, int], branches: int, needed: list[int]
) -> dict[int, dict[str, float]]:
    """Each person's increments in the merged commits reachable from each ``needed`` parent (the
    bit ``branches``: in all): weights only (a float sum), so that shares spread by them still
    add up exactly."""
    work: dict[int, dict[str, float]] = {bit: {} for bit in needed}
    weights, commits = ladder.work, ladder.graph.commits
    everything = branches in work
    for sha, mask in region.items():
        amount = weights.get(sha)
        if amount is None:
            continue
        people = commits[sha].people or (UNATTRIBUTED,)
        for bit, found in work.items():
            if mask >> bit & 1 or (everything and bit == branches):
                for person in people:
                    found[person] = found.get(person, 0.0) + amount
    return work


def _spread(amount: Fraction, weights: dict[str, float], fallback: tuple[str, ...]) -> dict[str, Fraction]:
    """``amount`` in proportion to ``weights``, each part rounded down to a multiple of
    :data:`GRID` and the rest given to the largest (so the parts add up to ``amount`` exactly,
    and denominators do not grow from merge to merge); without any weight, equally among
    ``fallback``."""
    ratios = {person: weight.as_integer_ratio() for person, weight in sorted(weights.items()) if weight > 0}
    if not ratios:
        return _split(amount, fallback)
    scale = max(denominator for _, denominator in ratios.values())  # powers of two: a common one
    integers = {
        person: numerator * (scale // denominator) for person, (numerator, denominator) in ratios.items()
    }
    whole = sum(integers.values())
    grid = GRID.denominator
    numerator, denominator = amount.numerator * grid, amount.denominator * whole
    parts = {person: Fraction(numerator * weight // denominator, grid) for person, weight in integers.items()}
    largest = max(integers, key=integers.__getitem__)
    parts[largest] += amount - sum(parts.values(), _ZERO)
    return parts


def _rank(best: Fraction | None, generation: int, sha: str) -> tuple[bool, Fraction, int, str]:
    return (best is not None, best if best is not None else Fraction(0), generation, sha)


def _split(amount: Fraction, people: Iterable[str]) -> dict[str, Fraction]:
    """``amount`` in equal parts among ``people`` (nobody verified: :data:`UNATTRIBUTED`)."""
    if not amount:
        return {}
    names = list(dict.fromkeys(people)) or [UNATTRIBUTED]
    share = amount if len(names) == 1 else amount / len(names)
    return dict.fromkeys(names, share)
