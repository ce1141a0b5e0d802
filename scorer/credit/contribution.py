"""The contribution graph of a phase as data: nodes (a scored notebook version with its values,
best so far, increment, credit and flags) and edges (git parents, a merge's parents, a copy's
original), a page at a time, parents first.

Two levels of detail: ``all`` nodes, or the ``steps`` (versions that earned or lost credit, started
a line or set a new best, merges, copies, reverts and invalidated versions), which is what a
browser draws first of a 100k-commit phase. Pure: it reads a computed :class:`Ladder`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Literal

from scorer.credit.ladder import Ladder
from scorer.ledger.credit_views import ScoredVersion

Detail = Literal["all", "steps"]
#: Flags that make a version a step of the ladder whatever its credit.
STEP_FLAGS = frozenset({"start", "new-best", "merge", "copy", "revert", "invalidated"})
#: The largest page a request may ask for.
MAX_PAGE = 5000


@dataclass(frozen=True)
class GraphNode:
    key: str
    version: ScoredVersion
    people: tuple[str, ...]
    time: datetime
    score: float | None
    best: float | None
    increment: float
    credit: dict[str, float]
    flags: tuple[str, ...]


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    kind: Literal["parent", "merge", "copy"]


@dataclass(frozen=True)
class GraphPage:
    total: int
    offset: int
    next_offset: int | None
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    measure: str = ""
    likes: dict[int, int] = field(default_factory=dict)  # submission id -> likes, filled by the caller


def steps(ladder: Ladder) -> list[str]:
    """The keys of the ladder's steps, parents first."""
    return [key for key, node in ladder.nodes.items() if any(node.credit.values()) or node.flags & STEP_FLAGS]


def graph_page(
    ladder: Ladder, keys: list[str], versions: dict[str, ScoredVersion], *, offset: int = 0, limit: int = 1000
) -> GraphPage:
    """``keys[offset:offset + limit]`` as nodes, with the edges to their parents."""
    chosen = keys[offset : offset + max(0, min(limit, MAX_PAGE))]
    maximize = ladder.metric.direction == "maximize"
    nodes, edges = [], []
    for key in chosen:
        node, commit = ladder.nodes[key], ladder.graph.commits[key]
        nodes.append(
            GraphNode(
                key,
                versions[key],
                commit.people,
                datetime.fromtimestamp(commit.time, UTC),
                None if commit.score is None else float(commit.score),
                _units(node.best, maximize),
                float(node.increment),
                {person: float(amount) for person, amount in node.credit.items()},
                tuple(sorted(node.flags)),
            )
        )
        kind: Literal["parent", "merge"] = "merge" if len(commit.parents) > 1 else "parent"
        edges += [GraphEdge(parent, key, kind) for parent in commit.parents]
        edges += [GraphEdge(original, key, "copy") for original in commit.copied_from]
    end = offset + len(chosen)
    return GraphPage(len(keys), offset, end if end < len(keys) else None, nodes, edges)


def _units(best: Fraction | None, maximize: bool) -> float | None:
    """A best in the measure's own units (the ladder keeps minimised measures negated)."""
    if best is None:
        return None
    return float(best) if maximize else -float(best)
