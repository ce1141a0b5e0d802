"""The contribution graph at a zoom, for a viewer of a 100k-version phase: every version in a
time window when few enough are in it, else groups (one per person and time bucket, the people
beyond the leading few as one "others") until the viewer zooms in; with the phase's best so far
and the versions that earned each person the most credit.

Pure: it reads a computed :class:`Ladder` and the phase's versions; the window's versions are
drawn as :func:`scorer.credit.contribution.graph_page` gives them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction

from scorer.credit.contribution import GraphNode, GraphPage, graph_page
from scorer.credit.graph import UNATTRIBUTED
from scorer.credit.ladder import Ladder
from scorer.ledger.credit_views import ScoredVersion

#: The group of everyone beyond the people drawn on their own.
OTHERS = "others"
#: Most versions drawn one by one (the route's default); above it, groups.
MAX_NODES = 1500
#: Time buckets across the window when grouping.
BUCKETS = 40
#: People with a colour and a symbol of their own.
LEADING = 12
#: Versions named for each person's credit, the largest first, for the people of largest credit.
EARNED = 3
EARNED_PEOPLE = 100


@dataclass(frozen=True)
class Group:
    """Versions of one person (or of the others) in one time bucket, drawn as one mark."""

    person: str
    start: datetime
    end: datetime
    count: int
    best: float | None  # the group's best score, in the measure's units (none: all invalidated)
    credit: float
    best_key: str | None  # the version that scored ``best``


@dataclass(frozen=True)
class Overview:
    """The window ``start``–``end``: its versions one by one (``page``) or ``groups``."""

    start: datetime
    end: datetime
    total: int  # versions in the window
    phase_total: int
    people: list[str]
    best: list[tuple[datetime, float]]
    page: GraphPage | None
    groups: list[Group]
    direction: str
    earned: dict[str, list[GraphNode]]  # person -> the versions that earned them most


def overview(
    ladder: Ladder,
    versions: dict[str, ScoredVersion],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    max_nodes: int = MAX_NODES,
    buckets: int = BUCKETS,
    leading: int = LEADING,
) -> Overview:
    """The window ``start``–``end`` (default: the whole phase) at its level of detail."""
    commits = ladder.graph.commits
    timeline = sorted(ladder.nodes, key=lambda key: commits[key].time)
    times = [commits[key].time for key in timeline]
    people = leading_people(ladder, leading)
    direction = ladder.metric.direction
    if not timeline:
        now = datetime.now(UTC)
        return Overview(now, now, 0, 0, people, [], None, [], direction, {})
    start = start or _moment(times[0])
    end = end or _moment(times[-1])
    shown = timeline[bisect_left(times, start.timestamp()) : bisect_right(times, end.timestamp())]
    best = best_so_far(ladder, timeline)
    base = Overview(start, end, len(shown), len(timeline), people, best, None, [], direction, {})
    earned = most_earned(ladder, versions)
    if len(shown) <= max_nodes:
        drawn = set(shown)
        keys = [key for key in ladder.nodes if key in drawn]  # parents first
        page = graph_page(ladder, keys, versions, limit=len(keys))
        return replace(base, page=page, earned=earned)
    return replace(base, groups=group(ladder, shown, start, end, people, buckets), earned=earned)


def person_of(ladder: Ladder, key: str) -> str:
    """Whom a version is drawn for: its pusher (the first of its people)."""
    people = ladder.graph.commits[key].people
    return people[0] if people else UNATTRIBUTED


def leading_people(ladder: Ladder, k: int = LEADING) -> list[str]:
    """The ``k`` people drawn on their own: the largest credits first, then the most versions."""
    credited = sorted((p for p, c in ladder.totals.items() if c > 0), key=lambda p: (-ladder.totals[p], p))
    chosen = [p for p in credited if p != UNATTRIBUTED][:k]
    counts = Counter(person_of(ladder, key) for key in ladder.nodes)
    chosen += [p for p, _ in counts.most_common() if p not in chosen][: k - len(chosen)]
    return chosen


def group(
    ladder: Ladder, keys: list[str], start: datetime, end: datetime, people: list[str], buckets: int = BUCKETS
) -> list[Group]:
    """``keys`` grouped by person (``people``, anyone else as :data:`OTHERS`) and by equal time
    buckets between ``start`` and ``end``; groups in time order, then people's order."""
    commits, maximize = ladder.graph.commits, ladder.metric.direction == "maximize"
    width = (end - start) / buckets if end > start else None
    own = set(people)
    found: dict[tuple[int, str], list[str]] = defaultdict(list)
    for key in keys:
        at = _moment(commits[key].time)
        index = min(buckets - 1, int((at - start) / width)) if width else 0
        person = person_of(ladder, key)
        found[(index, person if person in own else OTHERS)].append(key)
    order = {person: i for i, person in enumerate([*people, OTHERS])}
    groups = []
    for (index, person), members in sorted(found.items(), key=lambda item: (item[0][0], order[item[0][1]])):
        top: str | None = None
        best: float | Fraction | None = None
        for key in members:
            score = commits[key].score
            if score is not None and (best is None or _better(score, best, maximize)):
                top, best = key, score
        lower = start + width * index if width else start
        groups.append(
            Group(
                person,
                lower,
                lower + width if width else end,
                len(members),
                None if best is None else float(best),
                float(sum(ladder.nodes[key].total for key in members)),
                top,
            )
        )
    return groups


def best_so_far(ladder: Ladder, timeline: list[str]) -> list[tuple[datetime, float]]:
    """The phase's best score over time (``timeline``: keys in time order): a point each time
    it improved."""
    maximize = ladder.metric.direction == "maximize"
    steps: list[tuple[datetime, float]] = []
    for key in timeline:
        score = ladder.graph.commits[key].score
        if score is not None and (not steps or _better(score, steps[-1][1], maximize)):
            steps.append((_moment(ladder.graph.commits[key].time), float(score)))
    return steps


def most_earned(
    ladder: Ladder, versions: dict[str, ScoredVersion], k: int = EARNED, people: int = EARNED_PEOPLE
) -> dict[str, list[GraphNode]]:
    """The ``k`` versions of largest credit of each of the ``people`` of largest credit."""
    top = sorted((p for p, c in ladder.totals.items() if c > 0), key=lambda p: (-ladder.totals[p], p))[
        :people
    ]
    wanted = set(top)
    earned: dict[str, list[tuple[Fraction, str]]] = defaultdict(list)
    for key, node in ladder.nodes.items():
        for person, amount in node.credit.items():
            if amount > 0 and person in wanted:
                earned[person].append((amount, key))
    chosen = {
        p: [key for _, key in sorted(found, key=lambda item: -item[0])[:k]] for p, found in earned.items()
    }
    named = {key for found in chosen.values() for key in found}
    keys = [key for key in ladder.nodes if key in named]  # parents first, as pages are
    nodes = {node.key: node for node in graph_page(ladder, keys, versions, limit=len(keys)).nodes}
    return {p: [nodes[key] for key in chosen[p]] for p in top if p in chosen}


def _better(a: float | Fraction, b: float | Fraction, maximize: bool) -> bool:
    return a > b if maximize else a < b


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
