"""Building a small challenge environment: cold, rebuilt from fetched wheels, and cached.

The environment is a challenge's that adds one pure-Python package (``uncertainties==3.2.3``)
to what the platform puts in every environment (ipykernel, ipywidgets, the Submit widget and
their closure: ~110 packages). Wheels come from ``<venv>/wheelhouse`` only (offline), as in the
tests and the demo, so no figure includes a download from the internet.

- cold: an empty environments root: wheels copied into its cache, the platform's own packages
  built, ``uv venv`` + ``uv pip install`` in bubblewrap, bytecode compiled, renamed into place;
- rebuilt: the environment's folder removed, its wheels still cached: the same build again;
- cached: reading the requirements, computing the key and finding the folder
  (``environment_inputs`` + ``build``), ``--repeats`` times: what every later prepare pays
  (goal: under a second); and the same once in a new process, where the platform's pins are
  read from its installed distributions first (interpreter start and imports not counted);
- lookup: ``environment_for`` of a phase, what each scored run pays.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import ROOT, median_time
from scorer.challenge.load import load_spec
from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import EnvironmentSpec
from scorer.config import ScorerSettings
from scorer.environments.build import build
from scorer.environments.inputs import environment_inputs
from scorer.environments.store import environment_for, record_use

WHEELHOUSE = Path(sys.prefix) / "wheelhouse"
SPEC = EnvironmentSpec(requirements="requirements.txt")
FRESH = """
import sys, time
from pathlib import Path
from scorer.challenge.spec import EnvironmentSpec
from scorer.config import ScorerSettings
from scorer.environments.build import build
from scorer.environments.inputs import environment_inputs
folder, home, wheelhouse = sys.argv[1:]
settings = ScorerSettings(home=home, environment_find_links=[wheelhouse], environment_offline=True)
started = time.perf_counter()
build(settings, environment_inputs(EnvironmentSpec(requirements="requirements.txt"), Path(folder)))
print(time.perf_counter() - started)
"""


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(repeats: int = 20) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix="coop-bench-env-"))
    try:
        folder = scaffold("Env bench", scratch / "challenge")
        spec_file = folder / "challenge.yaml"
        spec_file.write_text(spec_file.read_text() + "environment:\n  requirements: requirements.txt\n")
        (folder / "requirements.txt").write_text("uncertainties==3.2.3\n")
        settings = ScorerSettings(
            home=str(scratch / "home"), environment_find_links=[str(WHEELHOUSE)], environment_offline=True
        )
        inputs = environment_inputs(SPEC, folder)
        cold = timed(lambda: build(settings, inputs))
        environment = build(settings, inputs)
        shutil.rmtree(environment.path)
        rebuilt = timed(lambda: build(settings, inputs))
        cached, _ = median_time(lambda: build(settings, environment_inputs(SPEC, folder)), repeats)
        fresh = subprocess.run(
            [sys.executable, "-c", FRESH, str(folder), settings.home, str(WHEELHOUSE)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        challenge = load_spec(folder)
        phase = challenge.phases[0].id
        record_use(settings, challenge.id, phase, environment)
        lookup, _ = median_time(lambda: environment_for(settings, challenge, phase, folder), repeats)
        size = sum(p.lstat().st_size for p in environment.path.rglob("*") if not p.is_dir())
        figures = {
            "cold_s": cold,
            "rebuilt_s": rebuilt,
            "cached_ms": cached * 1000,
            "fresh_process_ms": float(fresh.stdout) * 1000,
            "lookup_ms": lookup * 1000,
            "size_mib": size / 1024**2,
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(summary(figures))
    return figures


def summary(figures: dict[str, float]) -> str:
    return (
        f"cold {figures['cold_s']:.1f} s; rebuilt from cached wheels {figures['rebuilt_s']:.1f} s; "
        f"cached {figures['cached_ms']:.0f} ms, {figures['fresh_process_ms']:.0f} ms in a new process "
        f"(goal < 1 s); a phase's lookup {figures['lookup_ms']:.0f} ms; {figures['size_mib']:.0f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    main(parser.parse_args().repeats)
