"""Notebooks merge between participants: nbdime as git's diff and merge driver."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from coop_client.git import enable_nbdime

VENV_BIN = os.path.dirname(sys.executable)  # where git-nbmergedriver is, as in a participant's server


def git(cwd, *args: str, user: str = "organiser") -> str:
    env = {
        "GIT_AUTHOR_NAME": user,
        "GIT_AUTHOR_EMAIL": f"{user}@example.org",
        "GIT_COMMITTER_NAME": user,
        "GIT_COMMITTER_EMAIL": f"{user}@example.org",
        "HOME": str(cwd),
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout.strip()


def test_two_participants_edits_to_one_notebook_merge_cleanly(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    enable_nbdime(repo)
    assert git(repo, "config", "merge.jupyternotebook.driver").startswith("git-nbmergedriver merge")
    path = repo / "solution.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("a = 1"), new_code_cell("b = 2")]), path)
    git(repo, "add", "solution.ipynb")
    git(repo, "commit", "-qm", "base")
    git(repo, "checkout", "-qb", "alice")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[0].source = "a = 10  # alice"
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="alice\n")]
    nbformat.write(notebook, path)
    git(repo, "commit", "-qam", "alice", user="alice")
    git(repo, "checkout", "-q", "main")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[1].source = "b = 20  # bob"
    nbformat.write(notebook, path)
    git(repo, "commit", "-qam", "bob", user="bob")
    git(repo, "merge", "-q", "--no-edit", "alice", user="bob")
    merged = nbformat.read(path, as_version=4)
    nbformat.validate(merged)
    assert [c.source for c in merged.cells] == ["a = 10  # alice", "b = 20  # bob"]
