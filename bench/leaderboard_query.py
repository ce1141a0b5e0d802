"""Leaderboard query at 100k submissions and 5k people in SQLite (p50 of the query).

The ledger is filled with the TrackML demo challenge's spec (a computed expression column with
`select: best`, and a `select: last` board) through the bulk importer. Three figures per board:
`CoopAPI.leaderboard`, the path every client uses (the ranked view is cached per phase version
token), the same right after one new score (the cached view updated for that person), and the
ranking computed from scratch (what any other change costs, and every new score did before).
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import ROOT
from scorer.challenge.load import load_spec
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import queries as queries_module
from scorer.ledger import store
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.scoring.results import RunResult


def fill(api: CoopAPI, submissions: int, people: int) -> str:
    challenge = load_spec(ROOT / "challenge_notebooks" / "trackml")
    phase = challenge.phases[-1]
    rng = random.Random(7)
    start = datetime(2026, 6, 2, tzinfo=UTC)
    records = (
        ScoredRecord(
            username=f"person{rng.randrange(people)}",
            commit_sha=f"{i:040x}",
            submitted_at=start + timedelta(seconds=i),
            public={
                "accuracy": rng.uniform(0.3, 0.95),
                "time_per_event": rng.uniform(0.01, 2),
                "efficiency": rng.random(),
            },
            private={
                "accuracy": rng.uniform(0.3, 0.95),
                "time_per_event": rng.uniform(0.01, 2),
                "efficiency": rng.random(),
            },
            run_time=rng.uniform(1, 60),
            peak_memory=rng.uniform(100, 2000),
        )
        for i in range(submissions)
    )
    with api.sessions.begin() as session:
        store.upsert_challenge(session, challenge, "bench")
        import_scored(session, challenge.id, phase.id, records)
    return phase.id


def new_score(api: CoopAPI, phase_id: str, rng: random.Random, people: int) -> Callable[[], None]:
    """A function recording one more scored submission of a random person, as the scorer does."""
    serial = itertools.count(10**12)

    def score() -> None:
        metrics = {
            "accuracy": rng.uniform(0.3, 0.95),
            "time_per_event": rng.uniform(0.01, 2),
            "efficiency": rng.random(),
        }
        with api.sessions.begin() as session:
            sub = store.enqueue(
                session,
                challenge_id="trackml",
                phase_id=phase_id,
                commit_sha=f"{next(serial):040x}",
                notebook_path="solutions/main.ipynb",
                username=f"person{rng.randrange(people)}",
                parameters={},
            )
            assert store.claim(session, sub.id, "bench")
            now = datetime.now(UTC)
            result = RunResult(
                metrics, metrics, rng.uniform(1, 60), rng.uniform(100, 2000), now, now, b"{}", {}
            )
            assert store.record_result(session, sub.id, result)

    return score


def main(submissions: int = 100_000, people: int = 5_000, queries: int = 30) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    api = CoopAPI(ScorerSettings(home=str(home)))
    try:
        started = time.perf_counter()
        phase_id = fill(api, submissions, people)
        filled = time.perf_counter() - started
        timings = {}
        challenge = api.challenge("trackml")
        now = datetime.now(UTC)
        score = new_score(api, phase_id, random.Random(11), people)
        for board in ("throughput", "latest-accuracy"):
            samples = []
            for _ in range(queries):
                begin = time.perf_counter()
                view = api.leaderboard("trackml", phase_id=phase_id, board=board)
                samples.append(time.perf_counter() - begin)
            assert 0 < len(view.rows) <= people
            timings[board] = statistics.median(samples) * 1000
            fresh = []
            for _ in range(queries):
                score()
                begin = time.perf_counter()
                view = api.leaderboard("trackml", phase_id=phase_id, board=board)
                fresh.append(time.perf_counter() - begin)
            assert view.follows is not None  # updated for the one person, not ranked again
            timings[f"{board}_fresh"] = statistics.median(fresh) * 1000
            uncached = []
            with api.sessions() as session:
                for _ in range(queries):
                    begin = time.perf_counter()
                    queries_module.leaderboard(session, challenge, phase_id, board, now=now, cached=False)
                    uncached.append(time.perf_counter() - begin)
            timings[f"{board}_uncached"] = statistics.median(uncached) * 1000
    finally:
        api.close()
    return {"fill_s": filled, **{f"p50_ms_{k}": v for k, v in timings.items()}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    args = parser.parse_args()
    result = main(args.submissions, args.people)
    print(f"filled in {result['fill_s']:.1f} s")
    for board in ("throughput", "latest-accuracy"):
        scratch = result[f"p50_ms_{board}_uncached"]
        print(
            f"p50 {board} board: cached {result[f'p50_ms_{board}']:.1f} ms, after a new score "
            f"{result[f'p50_ms_{board}_fresh']:.1f} ms, from scratch {scratch:.1f} ms "
            f"({scratch / result[f'p50_ms_{board}_fresh']:.1f}× the update)"
        )
