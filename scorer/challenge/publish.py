"""Publishing a challenge folder as a commit on the organiser's branch of a git repository."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import git

from scorer.challenge.load import load_spec
from scorer.ingest.repo import NOTEBOOK_ATTRIBUTES

IGNORED = shutil.ignore_patterns(".git", "__pycache__", ".ipynb_checkpoints", "*.pyc")


def publish(folder: Path, repository: Path, *, message: str, author: str, email: str) -> str:
    """Commit ``folder`` as the tree of the organiser's branch of ``repository`` (bare, created
    if missing); returns the new commit's SHA."""
    challenge = load_spec(folder)
    branch = challenge.organiser.ref
    if not (repository / "HEAD").exists():
        repository.parent.mkdir(parents=True, exist_ok=True)
        git.Repo.init(repository, bare=True, initial_branch=branch)
    with tempfile.TemporaryDirectory(prefix="coop-publish-") as scratch:
        work = git.Repo.clone_from(str(repository), scratch)
        remote_has_branch = f"origin/{branch}" in [r.name for r in work.remotes.origin.refs]
        if remote_has_branch:
            work.git.checkout(branch)
        else:
            work.git.checkout("--orphan", branch)
        for entry in Path(scratch).iterdir():
            if entry.name == ".git":
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        shutil.copytree(folder, scratch, dirs_exist_ok=True, ignore=IGNORED)
        attributes = Path(scratch) / ".gitattributes"
        if not attributes.exists():
            attributes.write_text(NOTEBOOK_ATTRIBUTES)
        work.git.add("--all")
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": email,
        }
        with work.git.custom_environment(**env):
            work.git.commit("--allow-empty", "-m", message)
        work.git.push("origin", f"HEAD:refs/heads/{branch}")
        return work.head.commit.hexsha
