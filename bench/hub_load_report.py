"""What ``bench.hub_load`` measured: the phases, per-person results, percentiles, the report.

Pure: plain data in, a rich table or a JSON-ready dict out (no clock, no I/O).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.table import Table

#: The phases of one simulated person, in order, and what each one times.
PHASES = {
    "login": "GET /hub/login, then POST the form with its _xsrf until the hub redirects",
    "spawn": "POST /hub/api/users/<name>/server until the hub's progress stream says ready",
    "open": "/user/<name>/lab: the OAuth round trip with the hub and the JupyterLab page",
    "attach": "from the server ready until /user/<name>/coop/attach says done (the clone exists)",
    "easy start": "/hub/user-redirect/coop/start/<id> until it redirects to the copied baseline",
    "save": "contents API: read the notebook, save it with an edit",
    "commit": "git add + git commit, typed in a terminal of the person's server",
    "push": "git push in that terminal, until the shell prints its exit status",
    "push→queued": "from the push until its `remote: submission N queued` line arrives",
    "push→scored": "from the push until the scorer's API says scored (polled every second)",
    "queue wait": "the scorer's clock: queued until a Dask worker started it",
    "scoring": "the scorer's clock: started until scored (sandboxed papermill run and scoring)",
}


@dataclass
class Failure:
    """Where a person stopped, and why."""

    phase: str
    reason: str


@dataclass
class PersonResult:
    """One simulated person: seconds per phase reached, and the failure that stopped them."""

    name: str
    times: dict[str, float] = field(default_factory=dict)
    failure: Failure | None = None


#: What a round is for: the first person after the hub started pays its cold starts (imports,
#: the scorer's first Dask task) and is left out; the next one alone is the baseline.
WARM_UP, BASELINE, LOAD = "warm-up", "baseline", "load"


@dataclass
class Round:
    """``users`` people at once (the baseline: one at a time, each of ``people`` in turn);
    ``wall_s``: how long they ran, from the first login to the last person done (the baseline:
    the sum of each person's)."""

    kind: str  # WARM_UP, BASELINE or LOAD
    users: int
    people: list[PersonResult]
    wall_s: float
    load_average: float  # the machine's, over the last minute, when the round ended
    peak_rss_mib: float  # the hub's process tree at its largest (RSS summed, sampled every 2 s)

    @property
    def title(self) -> str:
        if self.kind == BASELINE:
            count = len(self.people)
            who = f"{count} {'person' if count == 1 else 'people'}"
            return f"N = 1, the baseline: {who} alone, one after another"
        return f"N = {self.users} {'alone, warm-up' if self.kind == WARM_UP else 'at once'}"

    @property
    def notes(self) -> str:
        return (
            f"wall {seconds(self.wall_s)}; load average {self.load_average:.1f} at the end; "
            f"the hub's processes at most {self.peak_rss_mib / 1024:.1f} GiB RSS"
        )

    def samples(self, phase: str) -> list[float]:
        return [person.times[phase] for person in self.people if phase in person.times]

    @property
    def failures(self) -> list[tuple[str, Failure]]:
        return [(person.name, person.failure) for person in self.people if person.failure]


@dataclass(frozen=True)
class Summary:
    count: int
    p50: float
    p90: float
    max: float


def percentile(samples: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100), interpolated linearly between the closest ranks."""
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not between 0 and 100")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(samples: list[float]) -> Summary | None:
    """p50, p90 and max of ``samples``; ``None`` when there is none."""
    if not samples:
        return None
    return Summary(len(samples), percentile(samples, 50), percentile(samples, 90), max(samples))


def ratio(value: float, baseline: float) -> float | None:
    """``value / baseline``, or ``None`` when the baseline is too small to divide by."""
    return value / baseline if baseline > 1e-6 else None


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def round_table(measured: Round, baseline: Round | None) -> Table:
    """One row per phase: how many reached it, p50/p90/max, the baseline's figure (one person
    alone) and the p50 ratio to it."""
    table = Table(title=measured.title, caption=measured.notes, title_justify="left", caption_justify="left")
    for name in ("phase", "n", "p50", "p90", "max", "alone", "p50 / alone"):
        table.add_column(name, justify="left" if name == "phase" else "right")
    for phase in PHASES:
        summary = summarise(measured.samples(phase))
        if summary is None:
            table.add_row(phase, "0", "–", "–", "–", "–", "–")
            continue
        single = summarise(baseline.samples(phase)) if baseline else None
        times = ratio(summary.p50, single.p50) if single else None
        table.add_row(
            phase,
            str(summary.count),
            seconds(summary.p50),
            seconds(summary.p90),
            seconds(summary.max),
            seconds(single.p50) if single else "–",
            f"{times:.1f}×" if times is not None else "–",
        )
    return table


def failures_table(rounds: list[Round]) -> Table | None:
    """The failures of every round, one row per round, phase and reason (with who); ``None``
    when nobody failed."""
    counted: Counter[tuple[int, str, str]] = Counter()
    who: dict[tuple[int, str, str], list[str]] = {}
    for measured in rounds:
        for person, failure in measured.failures:
            key = (measured.users, failure.phase, failure.reason)
            counted[key] += 1
            who.setdefault(key, []).append(person)
    if not counted:
        return None
    table = Table(title="Failures", title_justify="left")
    for name in ("N", "phase", "count", "reason", "who"):
        table.add_column(name, justify="right" if name in {"N", "count"} else "left")
    for key, count in sorted(counted.items(), key=lambda item: (item[0][0], list(PHASES).index(item[0][1]))):
        users, phase, reason = key
        names = who[key]
        shown = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
        table.add_row(str(users), phase, str(count), reason, shown)
    return table


def raw(rounds: list[Round], context: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, as JSON-ready data: the run's context, the phases and every person's
    seconds per phase and failure, round by round (warm-up, baseline, then the loads)."""
    return {"context": context, "phases": PHASES, "rounds": [asdict(measured) for measured in rounds]}
