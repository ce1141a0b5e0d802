"""20 trivial submissions on a warm LocalCluster of 1 vs 2 workers (speed-up)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.common import ChallengeFixture, make_challenge
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI


def _warm(api: CoopAPI, workers: int) -> None:
    client = api.executor().client()
    client.wait_for_workers(workers)
    client.run(lambda: __import__("scorer.scoring.worker"))  # every worker imports the pipeline once


def timed_batch(fixture: ChallengeFixture, count: int, workers: int) -> float:
    settings = ScorerSettings(home=fixture.settings.home, n_workers=workers, retries=0)
    api = CoopAPI(settings)
    try:
        ids = []
        for i in range(count):
            user = f"w{workers}u{i}"
            sha = fixture.commit(user, {f"solutions/{user}/trivial.ipynb": fixture.baseline})
            ids += [q.submission_id for q in api.enqueue_commit(str(fixture.bare), sha)]
        _warm(api, workers)
        start = time.perf_counter()
        done = api.run(ids)
        elapsed = time.perf_counter() - start
        assert all(f.outcome == "scored" for f in done), done
        return elapsed
    finally:
        api.close()


def main(count: int = 20) -> dict[str, float]:
    fixture = make_challenge(Path(tempfile.mkdtemp(prefix="coop-bench-")), name="Bench")
    one = timed_batch(fixture, count, 1)
    two = timed_batch(fixture, count, 2)
    return {"one_worker_s": one, "two_workers_s": two, "speedup": one / two}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20)
    result = main(parser.parse_args().count)
    print(
        f"{result['one_worker_s']:.1f} s on 1 worker, {result['two_workers_s']:.1f} s on 2: "
        f"speed-up {result['speedup']:.2f}x"
    )
