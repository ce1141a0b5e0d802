"""Every dashboard notebook runs from top to bottom under nbval (``pytest --nbval-lax``) in a
plain kernel, against the demo platform's scorer, with the query string Voila would give it
(``$QUERY_STRING``, which is what Voila sets for a kernel that is not preheated)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

from tests.e2e.dashboards.conftest import DemoPlatform
from tests.hub.conftest import ROOT

DASHBOARDS = ROOT / "voila_dashboards"
#: What each page is asked for: the demo's challenge, phase, person and a recruiter's search.
QUERIES: dict[str, list[tuple[str, str]]] = {
    "index": [],
    "challenge": [("id", "trackml"), ("phase", "toy")],
    "rewards": [("id", "trackml"), ("phase", "toy")],
    "graph": [("id", "trackml"), ("phase", "toy")],
    "profile": [("id", "alice")],
    "people": [("skill", "clustering"), ("weight", "2"), ("skill", "numpy"), ("weight", "1")],
}


def test_every_dashboard_notebook_runs_under_nbval(demo_platform: DemoPlatform, tmp_path: Path):
    assert {path.stem for path in DASHBOARDS.glob("*.ipynb")} == set(QUERIES)
    for name, query in QUERIES.items():
        folder = tmp_path / name  # a folder of its own: no conftest.py or pytest settings around it
        folder.mkdir()
        shutil.copy(DASHBOARDS / f"{name}.ipynb", folder)
        env = {**os.environ, "COOP_SERVICE_URL": demo_platform.service_url, "QUERY_STRING": urlencode(query)}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
             "--rootdir", str(folder), f"{name}.ipynb"],
            cwd=folder, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, f"{name}.ipynb under nbval:\n{result.stdout[-3000:]}"
        assert " passed" in result.stdout.splitlines()[-1], result.stdout[-500:]
