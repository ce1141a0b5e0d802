"""Scoring from a challenge environment vs from the platform's own (goal: no measurable difference).

The same notebook (numpy and pandas imported, a small frame written) runs in the bubblewrap
sandbox ``--repeats`` times each way, in pairs (platform, then environment, then the next pair),
so that the machine's load drifts alike for both. The environment is the Higgs demo's
(challenge_notebooks/higgs/requirements.txt: numpy and pandas at the platform's versions, and
uncertainties), built once beforehand with the environments package; its build is not timed.
Figures: the median time of a run each way, their ratio, and the median of the paired
differences with its spread (the interquartile range), which says whether a difference is
measurable at all on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from bench.common import ROOT
from scorer.challenge.load import load_spec
from scorer.challenge.spec import RunLimits, environment_spec
from scorer.config import ScorerSettings
from scorer.environments.build import build
from scorer.environments.inputs import environment_inputs
from scorer.environments.model import Environment
from scorer.scoring.sandbox.bwrap import BwrapRunner
from scorer.scoring.sandbox.runner import RunFolders, RunRequest

HIGGS = ROOT / "challenge_notebooks" / "higgs"
LIMITS = RunLimits(wall_time=300, cell_time=120, memory="2GiB", disk="50MB", output="1MB", processes=64)
WORK = """
import numpy as np
import pandas as pd

frame = pd.DataFrame({"EventId": np.arange(1000), "Class": np.where(np.arange(1000) % 7 == 0, "s", "b")})
frame.to_csv(predictions_path, index=False)
"""


def higgs_environment(home: Path) -> Environment:
    challenge = load_spec(HIGGS)
    spec = environment_spec(challenge, challenge.phases[0].id)
    assert spec is not None, "the Higgs demo declares an environment"
    return build(ScorerSettings(home=str(home)), environment_inputs(spec, HIGGS))


def one_run(scratch: Path, environment: Environment | None, runner: BwrapRunner) -> float:
    root = Path(tempfile.mkdtemp(dir=scratch))
    folders = RunFolders.create(root / "run")
    (root / "inputs").mkdir()
    parameters = new_code_cell('inputs_dir = ""\npredictions_path = ""', metadata={"tags": ["parameters"]})
    nbformat.write(new_notebook(cells=[parameters, new_code_cell(WORK)]), folders.work / "nb.ipynb")
    request = RunRequest(folders, "nb.ipynb", {}, root / "inputs", LIMITS, "predictions.csv", environment)
    started = time.perf_counter()
    outcome = runner.run(request)
    elapsed = time.perf_counter() - started
    if outcome.report != {"event": "finished", "status": "ok"}:
        raise RuntimeError(f"the run failed: {outcome.report}\n{outcome.log_tail}")
    return elapsed


def main(repeats: int = 10) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix="coop-bench-env-"))
    started = time.perf_counter()
    environment = higgs_environment(scratch / "home")
    build_s = time.perf_counter() - started
    runner = BwrapRunner()
    one_run(scratch, None, runner)  # warm the page cache both ways before measuring
    one_run(scratch, environment, runner)
    platform, challenge = [], []
    for _ in range(repeats):
        platform.append(one_run(scratch, None, runner))
        challenge.append(one_run(scratch, environment, runner))
    differences = [c - p for p, c in zip(platform, challenge, strict=True)]
    quartiles = statistics.quantiles(differences, n=4)
    return {
        "repeats": repeats,
        "build_s": build_s,
        "platform_s": statistics.median(platform),
        "environment_s": statistics.median(challenge),
        "ratio": statistics.median(challenge) / statistics.median(platform),
        "difference_p50_ms": statistics.median(differences) * 1000,
        "difference_iqr_ms": (quartiles[2] - quartiles[0]) * 1000,
    }


def summary(result: dict[str, float]) -> str:
    return (
        f"{result['ratio']:.3f}× ({result['environment_s']:.2f} s vs {result['platform_s']:.2f} s, "
        f"medians of {result['repeats']:.0f} paired runs; "
        f"paired difference {result['difference_p50_ms']:+.0f} ms, "
        f"IQR {result['difference_iqr_ms']:.0f} ms); "
        f"the environment built once in {result['build_s']:.0f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    print(summary(main(parser.parse_args().repeats)))
