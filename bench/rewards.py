"""What live rewards add to a submission's scoring (the issue's goal: ≤ 10 %).

The shipped Higgs challenge is published twice in one scratch folder: as shipped, and with its
open phase's (``realistic``) rewarders removed. The phase's baseline notebook is submitted by a
new person each round, alternately to each copy, and scored by the Dask task's code in this
process (claim → sandboxed run → metrics → record → live rewards). Figures are medians:

- ``without_s``, ``with_s``: the whole task, without and with the phase's rewarders;
- ``rewards_s``: the live-rewards step inside the task with rewarders (views built from the
  ledger, every rewarder judged, grants and failures recorded, a re-run queued for
  ``reproduced``), timed around the scorer's step;
- ``ratio``: ``rewards_s / without_s``, the added cost; ``end_to_end``: ``with_s / without_s``
  (noisier: the sandboxed run varies by more than the rewards cost).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import yaml

from bench.common import ROOT, ChallengeFixture
from coop_client.layout import solution_path
from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.scoring import verdict, worker
from tests.conftest import git

PHASE = "realistic"
SOURCE = ROOT / "challenge_notebooks" / "higgs"


def published(scratch: Path, name: str, *, rewarders: bool) -> ChallengeFixture:
    folder = scratch / name / "organiser"
    shutil.copytree(SOURCE, folder)
    if not rewarders:
        spec = yaml.safe_load((folder / "challenge.yaml").read_text())
        for phase in spec["phases"]:
            phase["rewarders"] = []
        (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    bare = scratch / name / "challenge.git"
    publish(folder, bare, message="publish", author="Organiser", email="organiser@example.org")
    clone = scratch / name / "clone"
    git(scratch, "clone", "-q", str(bare), str(clone))
    settings = ScorerSettings(home=str(scratch / name / "home"), n_workers=1, retries=0)
    api = CoopAPI(settings)
    try:
        api.prepare(str(bare), seed=2026)
    finally:
        api.close()
    return ChallengeFixture(folder, bare, clone, settings, load_spec(folder).id)


def timed_rewards(samples: list[float]) -> Callable[[], None]:
    """Time the live-rewards step after a scored run; returns the function that puts it back."""
    original = verdict.live_rewards

    def step(*args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        try:
            original(*args, **kwargs)
        finally:
            samples.append(time.perf_counter() - start)

    verdict.live_rewards = step

    def restore() -> None:
        verdict.live_rewards = original

    return restore


def score_once(fixture: ChallengeFixture, person: str) -> float:
    challenge = load_spec(fixture.folder)
    notebook = nbformat.read(fixture.folder / challenge.phase(PHASE).baseline, as_version=4)
    target = str(solution_path(challenge.solutions, person, "solution"))
    sha = fixture.commit(person, {target: notebook})
    api = fixture.api()
    try:
        [item] = api.enqueue_commit(str(fixture.bare), sha, phase_id=PHASE)
    finally:
        api.close()
    start = time.perf_counter()
    outcome = worker.score_submission(item.submission_id, fixture.settings.to_dict())
    elapsed = time.perf_counter() - start
    if outcome != "scored":
        raise RuntimeError(f"submission {item.submission_id} was not scored: {outcome}")
    return elapsed


def main(rounds: int = 5) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix="coop-bench-rewards-"))
    try:
        plain = published(scratch, "without", rewarders=False)
        rewarded = published(scratch, "with", rewarders=True)
        without: list[float] = []
        with_rewards: list[float] = []
        rewards: list[float] = []
        score_once(plain, "warmup")  # the first run imports the pipeline and starts caches
        for i in range(rounds):
            without.append(score_once(plain, f"person{i}"))
            restore = timed_rewards(rewards)
            try:
                with_rewards.append(score_once(rewarded, f"person{i}"))
            finally:
                restore()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    figures = {
        "without_s": statistics.median(without),
        "with_s": statistics.median(with_rewards),
        "rewards_s": statistics.median(rewards),
    }
    figures["ratio"] = figures["rewards_s"] / figures["without_s"]
    figures["end_to_end"] = figures["with_s"] / figures["without_s"]
    return figures


def summary(figures: dict[str, float]) -> str:
    return (
        f"+{figures['ratio'] * 100:.1f} % (live rewards {figures['rewards_s'] * 1000:.0f} ms of a "
        f"{figures['without_s']:.1f} s scoring; end to end {figures['with_s']:.1f} s vs "
        f"{figures['without_s']:.1f} s, {figures['end_to_end']:.2f}×)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    print(summary(main(parser.parse_args().rounds)))
