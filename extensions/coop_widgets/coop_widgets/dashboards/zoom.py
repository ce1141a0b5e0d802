"""What the contribution graph draws at a zoom: every version in the time window when few
enough are in it, else groups (one per person and time bucket, the people beyond the leading
few as one "others") until the viewer zooms in. Pure: the client's graph nodes in, marks out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from coop_client.models import GraphNodeOut

#: The person of a version nobody verified (the service's name for it).
UNATTRIBUTED = "(unattributed)"
#: The group of everyone beyond the people drawn on their own.
OTHERS = "others"
#: Most versions drawn one by one; above it, groups.
MAX_NODES = 1500
#: Time buckets across the window when grouping.
BUCKETS = 40
#: People with a colour and a symbol of their own.
LEADING = 12


@dataclass(frozen=True)
class Group:
    """Versions of one person (or of the others) in one time bucket, drawn as one mark."""

    person: str
    start: datetime
    end: datetime
    count: int
    best: float | None  # the group's best score (none when all were invalidated)
    credit: float
    best_node: str | None  # the version that scored ``best``

    @property
    def time(self) -> datetime:
        return self.start + (self.end - self.start) / 2


@dataclass(frozen=True)
class View:
    """What to draw of the window ``start``–``end``: ``nodes`` one by one, or ``groups``."""

    start: datetime
    end: datetime
    total: int  # versions in the window
    nodes: list[GraphNodeOut]
    groups: list[Group]

    @property
    def grouped(self) -> bool:
        return bool(self.groups)


def person_of(node: GraphNodeOut) -> str:
    """Whom a version is drawn for: its pusher (the first of its people)."""
    return node.people[0] if node.people else UNATTRIBUTED


def credit_of(node: GraphNodeOut) -> float:
    return sum(node.credit.values())


def better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def leading(nodes: Iterable[GraphNodeOut], ranked: Sequence[str] = (), k: int = LEADING) -> list[str]:
    """The ``k`` people drawn on their own: ``ranked`` first (the credit table's order), then
    those with the most versions."""
    counts = Counter(person_of(node) for node in nodes)
    chosen = [person for person in ranked if person in counts][:k]
    chosen += [person for person, _ in counts.most_common() if person not in chosen][: k - len(chosen)]
    return chosen


def in_window(nodes: Sequence[GraphNodeOut], start: datetime, end: datetime) -> list[GraphNodeOut]:
    return [node for node in nodes if start <= node.time <= end]


def view(
    nodes: Sequence[GraphNodeOut],
    *,
    maximize: bool,
    start: datetime | None = None,
    end: datetime | None = None,
    people: Sequence[str] = (),
    max_nodes: int = MAX_NODES,
    buckets: int = BUCKETS,
) -> View:
    """The window ``start``–``end`` (default: all of ``nodes``' time) at its level of detail."""
    if not nodes:
        now = start or end or datetime.now().astimezone()
        return View(now, now, 0, [], [])
    start = start or min(node.time for node in nodes)
    end = end or max(node.time for node in nodes)
    shown = in_window(nodes, start, end)
    if len(shown) <= max_nodes:
        return View(start, end, len(shown), shown, [])
    return View(
        start, end, len(shown), [], group(shown, start, end, people, maximize=maximize, buckets=buckets)
    )


def group(
    nodes: Iterable[GraphNodeOut],
    start: datetime,
    end: datetime,
    people: Sequence[str],
    *,
    maximize: bool,
    buckets: int = BUCKETS,
) -> list[Group]:
    """``nodes`` grouped by person (``people``, anyone else as :data:`OTHERS`) and by equal time
    buckets between ``start`` and ``end``; groups in time order, then person order."""
    width = (end - start) / buckets if end > start else None
    own = set(people)
    found: dict[tuple[int, str], list[GraphNodeOut]] = {}
    for node in nodes:
        index = min(buckets - 1, int((node.time - start) / width)) if width else 0
        person = person_of(node)
        found.setdefault((index, person if person in own else OTHERS), []).append(node)
    order = {person: i for i, person in enumerate([*people, OTHERS])}
    groups = []
    for (index, person), members in sorted(found.items(), key=lambda item: (item[0][0], order[item[0][1]])):
        scored = [node for node in members if node.score is not None]
        top = None
        for node in scored:
            if top is None or better(node.score, top.score, maximize):  # type: ignore[arg-type]
                top = node
        lower = start + width * index if width else start
        groups.append(
            Group(
                person,
                lower,
                lower + width if width else end,
                len(members),
                None if top is None else top.score,
                sum(credit_of(node) for node in members),
                None if top is None else top.id,
            )
        )
    return groups


def best_so_far(nodes: Iterable[GraphNodeOut], *, maximize: bool) -> list[tuple[datetime, float]]:
    """The phase's best score over time: a point each time it improved, in time order."""
    steps: list[tuple[datetime, float]] = []
    for node in sorted(nodes, key=lambda n: n.time):
        if node.score is not None and (not steps or better(node.score, steps[-1][1], maximize)):
            steps.append((node.time, node.score))
    return steps
