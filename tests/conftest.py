"""Shared fixtures: a real challenge published to a real bare git repository.

``challenge`` scaffolds the template challenge (``coop challenge new``), publishes it to a
bare repository, prepares its data into a private scorer home and returns a
:class:`ChallengeFixture` whose ``commit`` adds participant notebooks as real git commits.
Hostile and broken notebooks live in ``tests/notebooks/`` (see its README), one per failure mode.

Real parts some tests need (bubblewrap, Chromium, PostgreSQL, JupyterHub 5.5 beside 6.x,
dask-gateway-server, ...) are asked for with ``@pytest.mark.needs(part, ...)`` (see
:data:`PARTS`) or, inside a fixture, :func:`require` / :func:`unavailable`: such a test
skips, with the reason, on a machine without the part, and fails in CI (``CI=true``), where
nothing may be left out silently. Slow tests are marked by what they use
(:func:`pytest_collection_modifyitems`): ``make test-fast`` runs the rest.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NoReturn

import nbformat
import pytest
import yaml
from hypothesis import settings as hypothesis_settings

from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import slugify
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger.queries import SubmissionScores, SubmissionView
from scorer.scoring.worker import score_submission

NOTEBOOKS = Path(__file__).with_name("notebooks")
HAS_BWRAP = shutil.which("bwrap") is not None
CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright drives it, never a downloaded browser
JUPYTERHUB_55 = Path(sys.prefix) / "jupyterhub-5.5"  # `make` installs it beside 6.x
CI = os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}


def _module(name: str) -> Callable[[], bool]:
    return lambda: importlib.util.find_spec(name) is not None


#: What ``@pytest.mark.needs(part)`` may name: how to tell the part is here, and what is missing.
PARTS: dict[str, tuple[Callable[[], bool], str]] = {
    "bwrap": (lambda: HAS_BWRAP, "bubblewrap (bwrap) is not installed: no sandbox to score in"),
    "chromium": (CHROMIUM.exists, f"Debian's chromium is not installed at {CHROMIUM}"),
    "jupyterhub-5.5": (JUPYTERHUB_55.is_dir, f"JupyterHub 5.5 is not installed at {JUPYTERHUB_55} (`make`)"),
    "dask-gateway-server": (_module("dask_gateway_server"), "dask-gateway-server is not installed"),
    "kubespawner": (_module("kubespawner"), "jupyterhub-kubespawner is not installed"),
    "kubernetes_asyncio": (_module("kubernetes_asyncio"), "kubernetes_asyncio is not installed"),
    "openssl": (lambda: shutil.which("openssl") is not None, "openssl is not installed"),
    "curl": (lambda: shutil.which("curl") is not None, "curl is not installed"),
}

#: Fixtures that start processes (a hub and its servers, Dask, a gateway, a browser, a kernel, a
#: served challenge: git's http-backend and hooks behind the service) or score notebooks in the
#: sandbox, wherever they are defined: a test that uses one, directly or through another
#: fixture, is marked ``slow``.
PROCESS_FIXTURES = frozenset(
    {
        "hub",
        "hub55",
        "curve_hub",
        "browser",
        "person",
        "scored",
        "scheduler",
        "password_gateway",
        "hub_gateway",
        "inside",
        "run",
        "run_notebook",
        "served",
        "served_phases",
        "kernel_for",
        "organising",
        "pushing",
        "capped",
        "closed",
        "scorer",
        "quota_service",
        "demo_platform",
        "dashboards",
    }
)
#: Real parts that exist to run something: a test that needs one starts processes.
PROCESS_PARTS = frozenset({"bwrap", "chromium", "jupyterhub-5.5"})
#: Modules whose tests start processes in their own bodies (``coop up``, nbval's kernels).
PROCESS_MODULES = frozenset({"test_up.py", "test_challenge_notebooks_nbval.py"})

# In CI the machine is shared and slow at times: Hypothesis judges correctness, never speed.
hypothesis_settings.register_profile("ci", deadline=None, print_blob=True)
if CI:
    hypothesis_settings.load_profile("ci")


def unavailable(reason: str) -> NoReturn:
    """A real part the test needs is missing: skip it here, fail it in CI."""
    if CI:
        pytest.fail(f"{reason} (CI=true: every real part must be present)", pytrace=False)
    pytest.skip(reason)


@cache
def _present(part: str) -> bool:
    return PARTS[part][0]()


def require(part: str) -> None:
    """Inside a fixture: go on only where ``part`` (a key of :data:`PARTS`) is here."""
    if not _present(part):
        unavailable(PARTS[part][1])


@pytest.hookimpl(tryfirst=True)  # before -m chooses by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        parts = {part for mark in item.iter_markers("needs") for part in mark.args}
        if (
            PROCESS_FIXTURES.intersection(fixtures)
            or PROCESS_PARTS & parts
            or item.path.name in PROCESS_MODULES
        ):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures start anything
def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs"):
        for part in mark.args:
            require(part)


def git(cwd: Path, *args: str, user: str = "organiser") -> str:
    env = {
        "GIT_AUTHOR_NAME": user,
        "GIT_AUTHOR_EMAIL": f"{user}@example.org",
        "GIT_COMMITTER_NAME": user,
        "GIT_COMMITTER_EMAIL": f"{user}@example.org",
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@dataclass
class ChallengeFixture:
    folder: Path  # the organiser's working folder
    bare: Path  # the published repository
    clone: Path  # a participant's clone
    settings: ScorerSettings
    challenge_id: str

    @property
    def baseline(self) -> nbformat.NotebookNode:
        return nbformat.read(self.folder / "baselines" / "phase-1.ipynb", as_version=4)

    def commit(self, user: str, files: dict[str, bytes | str | nbformat.NotebookNode]) -> str:
        """Commit ``files`` (paths relative to the repository) as ``user``; return the SHA."""
        for relative, content in files.items():
            path = self.clone / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, nbformat.NotebookNode):
                content = nbformat.writes(content)
            if isinstance(content, str):
                content = content.encode()
            path.write_bytes(content)
        git(self.clone, "add", "--all")
        git(self.clone, "commit", "-q", "-m", f"{user}: {', '.join(files)}", user=user)
        git(self.clone, "push", "-q", "origin", f"HEAD:refs/heads/{user}/work", user=user)
        return git(self.clone, "rev-parse", "HEAD")

    def solution(self, source: str, *, user: str = "alice", name: str = "solution.ipynb") -> str:
        """Commit the baseline with its modelling cell replaced by ``source``."""
        notebook = self.baseline
        notebook.cells[3].source = source
        return self.commit(user, {f"solutions/{user}/{name}": notebook})

    def api(self) -> CoopAPI:
        return CoopAPI(self.settings)

    def score(self, sha: str, *, phase: str | None = None) -> list[Scored]:
        """Queue the commit's notebooks and score them in this process (the Dask task's code)."""
        api = self.api()
        try:
            queued = api.enqueue_commit(str(self.bare), sha, phase_id=phase)
            results = []
            for item in queued:
                outcome = score_submission(item.submission_id, self.settings.to_dict())
                view, scores = api.submission(item.submission_id, organiser=True)
                results.append(Scored(outcome, view, scores))
            return results
        finally:
            api.close()


@dataclass
class Scored:
    outcome: str
    view: SubmissionView
    scores: SubmissionScores

    @property
    def reason(self) -> str:
        return self.view.failure_reason or ""


def make_challenge(root: Path, *, edit: dict | None = None, name: str = "Curve") -> ChallengeFixture:
    folder = scaffold(name, root / "organiser")
    if edit:
        spec = yaml.safe_load((folder / "challenge.yaml").read_text())
        for key, value in edit.items():
            target = spec
            *parents, last = key.split(".")
            for part in parents:
                target = target[int(part)] if part.isdigit() else target[part]
            target[last] = value
        (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    bare = root / "challenge.git"
    publish(folder, bare, message="publish", author="Organiser", email="organiser@example.org")
    clone = root / "clone"
    git(root, "clone", "-q", str(bare), str(clone))
    settings = ScorerSettings(home=str(root / "home"), n_workers=1, retries=0)
    api = CoopAPI(settings)
    try:
        api.prepare(str(bare), seed=7)
    finally:
        api.close()
    return ChallengeFixture(folder, bare, clone, settings, slugify(name))


@pytest.fixture
def challenge(tmp_path: Path) -> Iterator[ChallengeFixture]:
    limits = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}
    yield make_challenge(tmp_path, edit={"phases.0.limits": limits})
