"""Helpers shared by the benchmarks: a real challenge in a scratch folder, and timing."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import ChallengeFixture, make_challenge  # noqa: E402

COOP = str(Path(sys.executable).with_name("coop"))
PAPERMILL = str(Path(sys.executable).with_name("papermill"))

__all__ = ["COOP", "PAPERMILL", "ChallengeFixture", "make_challenge", "median_time", "run"]


def run(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(args, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def median_time(action: Callable[[], None], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times
