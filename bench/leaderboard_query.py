"""Leaderboard query at 100k submissions and 5k people in SQLite (p50 of the query).

The ledger is filled with the TrackML demo challenge's spec (a computed expression column with
`select: best`, and a `select: last` board) through the bulk importer. Two figures per board:
`CoopAPI.leaderboard`, the path every client uses (the ranked view is cached per phase version
token), and the ranking computed from scratch (what the first read after a new score costs).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import ROOT
from scorer.challenge.load import load_spec
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import queries as queries_module
from scorer.ledger import store
from scorer.ledger.bulk import ScoredRecord, import_scored


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
        for board in ("throughput", "latest-accuracy"):
            samples = []
            for _ in range(queries):
                begin = time.perf_counter()
                view = api.leaderboard("trackml", phase_id=phase_id, board=board)
                samples.append(time.perf_counter() - begin)
            assert 0 < len(view.rows) <= people
            timings[board] = statistics.median(samples) * 1000
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
    print(
        f"filled in {result['fill_s']:.1f} s; p50 throughput board {result['p50_ms_throughput']:.1f} ms "
        f"({result['p50_ms_throughput_uncached']:.1f} ms uncached), latest board "
        f"{result['p50_ms_latest-accuracy']:.1f} ms ({result['p50_ms_latest-accuracy_uncached']:.1f} ms "
        "uncached)"
    )
