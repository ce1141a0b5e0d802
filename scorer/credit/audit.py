"""An audit of the ladder: Shapley values under the commit graph's precedence, by sampling.

A sample is a random order of the commits that respects the graph (parents before children: a
random linear extension); walking it, the phase's best so far (the largest ladder best among the
commits present) rises, and each rise is the marginal contribution of that commit's people. The
mean over samples estimates each person's Shapley value under precedence constraints, which the
ladder's credit should be near; :func:`audit` reports how far each person's credit is from it.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from fractions import Fraction

from scorer.credit.graph import UNATTRIBUTED
from scorer.credit.ladder import Ladder

#: Two-sided 95 % normal quantile, for the sampling error reported.
_Z95 = 1.96


@dataclass(frozen=True)
class AuditRow:
    """One person: ladder credit, the sampled Shapley value, their difference (credit minus
    Shapley) and the 95 % half-width of the Shapley estimate."""

    person: str
    credit: float
    shapley: float
    difference: float
    error: float


def audit(ladder: Ladder, *, samples: int = 200, seed: int = 0) -> list[AuditRow]:
    """Each person's credit against the sampled Shapley value, largest difference first."""
    if samples < 2:
        raise ValueError("an audit needs at least 2 samples")
    rng = random.Random(seed)
    people = set(ladder.totals)
    draws: list[dict[str, float]] = []
    for _ in range(samples):
        marginals = _walk(ladder, rng)
        people.update(marginals)
        draws.append(marginals)
    rows = []
    for person in people:
        values = [draw.get(person, 0.0) for draw in draws]
        shapley = statistics.fmean(values)
        error = _Z95 * statistics.stdev(values) / math.sqrt(samples)
        credit = float(ladder.totals.get(person, Fraction(0)))
        rows.append(AuditRow(person, credit, shapley, credit - shapley, error))
    return sorted(rows, key=lambda row: (-abs(row.difference), row.person))


def _walk(ladder: Ladder, rng: random.Random) -> dict[str, float]:
    """The marginal contributions along one random linear extension of the graph."""
    graph = ladder.graph
    waiting = {sha: len(commit.all_parents) for sha, commit in graph.commits.items()}
    ready = [sha for sha, count in waiting.items() if count == 0]
    marginals: dict[str, float] = {}
    best: Fraction | None = None
    while ready:
        at = rng.randrange(len(ready))
        ready[at], ready[-1] = ready[-1], ready[at]
        sha = ready.pop()
        reached = ladder.nodes[sha].best
        if reached is not None and (best is None or reached > best):
            if best is not None:
                names = graph.commits[sha].people or (UNATTRIBUTED,)
                for name in dict.fromkeys(names):
                    marginals[name] = marginals.get(name, 0.0) + float(reached - best) / len(set(names))
            best = reached
        for child in graph.children[sha]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return marginals
