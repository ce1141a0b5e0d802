"""Shared fixtures: a real challenge published to a real bare git repository.

``challenge`` scaffolds the template challenge (``coop challenge new``), publishes it to a
bare repository, prepares its data into a private scorer home and returns a
:class:`ChallengeFixture` whose ``commit`` adds participant notebooks as real git commits.
Hostile and broken notebooks live in ``tests/notebooks/`` (see its README), one per failure mode.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import yaml

from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import slugify
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger.queries import SubmissionScores, SubmissionView
from scorer.scoring.worker import score_submission

NOTEBOOKS = Path(__file__).with_name("notebooks")
HAS_BWRAP = shutil.which("bwrap") is not None


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
