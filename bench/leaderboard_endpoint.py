"""The leaderboard HTTP endpoint at 100k submissions and 5k people (p50/p95), vs in-process.

The ledger is filled like ``leaderboard_query`` (the TrackML demo spec, SQLite, bulk importer),
then served by `coop serve` (uvicorn on loopback). Per board, ``--queries`` reads each of:
- HTTP cached: ``GET …/leaderboards/<board>`` (one keep-alive connection, anonymous), the ranked
  view cached under the phase's version token;
- HTTP fresh: the same, each right after one new score went through the ledger (enqueued,
  claimed, recorded: ``record_result``, the scorer's own path), so the cached view is updated
  for that one person and the cached body rebuilt from its rows;
- HTTP cold, the baseline: each right after the phase's version token was replaced with no
  word of what changed (ranking and encoding from scratch, as every read after a new score
  did before);
- in-process cached, fresh and cold: ``CoopAPI.leaderboard``, the call the endpoint makes.
The ratio HTTP / in-process is what the service adds (routing, JSON, and the client decoding
the body: ~1.3 MB for 5,000 rows); cold / fresh is what the incremental update saves.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.leaderboard_query import fill, new_score
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger.entries import touch
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.service.conftest import PREFIX, running

BOARDS = ("throughput", "latest-accuracy")
STATES = ("cached", "fresh", "cold")


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples) * 1000, cuts[18] * 1000


def timed(action: Callable[[], object], count: int, before: Callable[[], None] | None = None) -> list[float]:
    """``count`` timings of ``action``; ``before`` runs ahead of each, outside the timing."""
    samples = []
    for _ in range(count):
        if before is not None:
            before()
        begin = time.perf_counter()
        action()
        samples.append(time.perf_counter() - begin)
    return samples


def main(submissions: int = 100_000, people: int = 5_000, queries: int = 40) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    api = CoopAPI(ScorerSettings(home=str(home)))
    figures: dict[str, float] = {}
    try:
        phase_id = fill(api, submissions, people)
        score = new_score(api, phase_id, random.Random(11), people)

        def stale() -> None:
            with api.sessions.begin() as session:
                touch(session, "trackml", phase_id)

        with running(create_app(api, StaticTokens({}), prefix=PREFIX)) as base, httpx.Client() as http:
            for board in BOARDS:
                url = f"{base}{PREFIX}api/challenges/trackml/phases/{phase_id}/leaderboards/{board}"

                def get(url: str = url) -> None:
                    response = http.get(url, timeout=60)
                    response.raise_for_status()
                    assert 0 < len(response.json()["rows"]) <= people

                def call(board: str = board) -> None:
                    api.leaderboard("trackml", phase_id=phase_id, board=board)

                get()  # warm: the challenge spec, the connection
                runs = {
                    "http_cached": timed(get, queries),
                    "inproc_cached": timed(call, queries),
                    "http_fresh": timed(get, queries, score),
                    "inproc_fresh": timed(call, queries, score),
                    "http_cold": timed(get, queries, stale),
                    "inproc_cold": timed(call, queries, stale),
                }
                for name, samples in runs.items():
                    p50, p95 = percentiles(samples)
                    figures[f"{board}_{name}_p50_ms"], figures[f"{board}_{name}_p95_ms"] = p50, p95
                for state in STATES:
                    figures[f"{board}_{state}_ratio"] = (
                        figures[f"{board}_http_{state}_p50_ms"] / figures[f"{board}_inproc_{state}_p50_ms"]
                    )
                for way in ("http", "inproc"):
                    figures[f"{board}_{way}_speedup"] = (
                        figures[f"{board}_{way}_cold_p50_ms"] / figures[f"{board}_{way}_fresh_p50_ms"]
                    )
    finally:
        api.close()
    return figures


def summary(figures: dict[str, float], board: str) -> str:
    """One board's figures in one line."""
    parts = []
    for state in STATES:
        http, inproc = f"{board}_http_{state}", f"{board}_inproc_{state}"
        parts.append(
            f"{state}: HTTP p50 {figures[http + '_p50_ms']:.1f} ms / p95 {figures[http + '_p95_ms']:.1f} ms, "
            f"in-process p50 {figures[inproc + '_p50_ms']:.1f} ms ({figures[f'{board}_{state}_ratio']:.1f}×)"
        )
    speedup = (
        f"{figures[board + '_http_speedup']:.1f}× HTTP, {figures[board + '_inproc_speedup']:.1f}× in-process"
    )
    return "; ".join(parts) + f"; fresh vs cold: {speedup}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    result = main(args.submissions, args.people, args.queries)
    for key in BOARDS:
        print(f"{key} board — {summary(result, key)}")
