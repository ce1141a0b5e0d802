"""Publishing a challenge folder as a commit on the organiser's branch of a git repository."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from coop_client.git import HEADS, NOTEBOOK_ATTRIBUTES, call, run
from scorer.challenge.load import load_spec

IGNORED = shutil.ignore_patterns(".git", "__pycache__", ".ipynb_checkpoints", "*.pyc")


def publish(folder: Path, repository: Path, *, message: str, author: str, email: str) -> str:
    """Commit ``folder`` as the tree of the organiser's branch of ``repository`` (bare, created
    if missing); returns the new commit's SHA."""
    challenge = load_spec(folder)
    branch = challenge.organiser.ref
    if not (repository / "HEAD").exists():
        repository.parent.mkdir(parents=True, exist_ok=True)
        run(None, "init", "--quiet", "--bare", f"--initial-branch={branch}", str(repository))
    with tempfile.TemporaryDirectory(prefix="coop-publish-") as scratch:
        work = Path(scratch)
        run(None, "clone", "--quiet", "--", str(repository), scratch)
        if call(work, "rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}").ok:
            run(work, "checkout", "--quiet", branch)
        else:
            run(work, "checkout", "--quiet", "--orphan", branch)
        for entry in work.iterdir():
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
        run(work, "add", "--all")
        env = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": email,
        }
        run(work, "commit", "--quiet", "--allow-empty", "-m", message, env=env)
        run(work, "push", "--quiet", "origin", f"HEAD:{HEADS}{branch}")
        return run(work, "rev-parse", "HEAD").strip()
