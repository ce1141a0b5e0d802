"""`coop score` of a trivial notebook vs bare `papermill` on the same notebook (ratio).

Three measures, medians over ``--repeats`` runs in one session:
- bare: the `papermill` CLI, a fresh process each time (what a participant runs by hand);
- cold: the `coop score` CLI, a fresh process each time: it imports the pipeline, opens the
  ledger, reads git, sanitizes, runs the notebook in the sandbox and judges it, all in its own
  process (one notebook: no Dask cluster is started);
- warm: a running platform (a LocalCluster already up, as in the service): one submission
  dispatched, sanitized, run in the sandbox (papermill inside), scored and recorded;
- unmasked: the same, without hiding rfc3987_syntax in the sandbox (like for like with the
  bare run, which pays 1.6 s importing it).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import nbformat

from bench.common import COOP, PAPERMILL, ChallengeFixture, make_challenge, median_time, run
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI


def main(repeats: int = 5) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    fixture = make_challenge(scratch, name="Bench")
    notebook = fixture.baseline
    shas = [
        fixture.commit(f"user{i}", {f"solutions/user{i}/trivial.ipynb": notebook}) for i in range(repeats)
    ]
    local = scratch / "trivial.ipynb"
    nbformat.write(notebook, local)
    inputs = Path(fixture.settings.data_root) / fixture.challenge_id / "phase-1" / "inputs"

    def bare() -> None:
        run(
            PAPERMILL,
            "--no-progress-bar",
            str(local),
            str(scratch / "out.ipynb"),
            "-k",
            "python3",
            "-p",
            "inputs_dir",
            str(inputs),
            "-p",
            "predictions_path",
            str(scratch / "predictions.csv"),
            cwd=scratch,
        )

    queue = iter(shas)

    def coop() -> None:
        run(
            COOP,
            "--home",
            fixture.settings.home,
            "--workers",
            "1",
            "score",
            "--repo",
            str(fixture.bare),
            "--commit",
            next(queue),
            "--json",
            cwd=scratch,
        )

    bare_median, _ = median_time(bare, repeats)
    coop_median, _ = median_time(coop, repeats)
    warm_median = warm(fixture, repeats, "warm")
    unmasked_median = warm(fixture, repeats, "unmasked", hidden_packages=[])
    return {
        "papermill_s": bare_median,
        "coop_score_s": coop_median,
        "warm_s": warm_median,
        "unmasked_s": unmasked_median,
        "cold_ratio": coop_median / bare_median,
        "warm_ratio": warm_median / bare_median,
        "unmasked_ratio": unmasked_median / bare_median,
    }


def warm(fixture: ChallengeFixture, repeats: int, prefix: str, **overrides: object) -> float:
    """Median time of one submission on a running platform (the cluster is up and warm)."""
    settings = ScorerSettings(home=fixture.settings.home, n_workers=1, retries=0, **overrides)
    api = CoopAPI(settings)
    try:
        client = api.executor().client()
        client.wait_for_workers(1)
        client.run(lambda: __import__("scorer.scoring.worker"))
        ids = []
        for i in range(repeats):
            user = f"{prefix}{i}"
            sha = fixture.commit(user, {f"solutions/{user}/trivial.ipynb": fixture.baseline})
            ids += [q.submission_id for q in api.enqueue_commit(str(fixture.bare), sha)]
        queue = iter(ids)
        median, _ = median_time(lambda: api.run([next(queue)]), repeats)
        return median
    finally:
        api.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    result = main(parser.parse_args().repeats)
    print(
        f"bare papermill {result['papermill_s']:.2f} s; coop score (cold CLI) "
        f"{result['coop_score_s']:.2f} s = {result['cold_ratio']:.2f}x; warm platform "
        f"{result['warm_s']:.2f} s = {result['warm_ratio']:.2f}x; unmasked "
        f"{result['unmasked_s']:.2f} s = {result['unmasked_ratio']:.2f}x"
    )
