"""A notebook's origin at a commit, read from a real git repository: its own earlier version, the
notebook it was built on (``coop.lineage``, checked against the commit graph), or a copy git finds."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from coop_client.lineage import Lineage, read_lineage, with_lineage
from scorer.ingest.lineage import Origin, notebook_origin
from scorer.ingest.repo import ChallengeRepo
from tests.conftest import git

ALICE = "solutions/alice/fit.ipynb"
BOB = "solutions/bob/fit.ipynb"


def _notebook(model: str, **metadata: object) -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Fit a curve"),
        new_code_cell("import numpy as np\nx = np.linspace(0, 1, 50)"),
        new_code_cell(model),
        new_code_cell("print('done')"),
    ]
    return new_notebook(cells=cells, metadata=metadata)


class Work:
    """A work tree whose commits are made by whoever ``user`` says."""

    def __init__(self, path: Path) -> None:
        self.path = path
        git(path, "init", "-q", "-b", "main")

    def commit(self, user: str, files: dict[str, nbformat.NotebookNode], message: str = "") -> str:
        for relative, notebook in files.items():
            (self.path / relative).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, self.path / relative)
        git(self.path, "add", "--all")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message or user, user=user)
        return git(self.path, "rev-parse", "HEAD")

    def git(self, *args: str, user: str = "organiser") -> str:
        return git(self.path, *args, user=user)


@pytest.fixture
def work(tmp_path: Path) -> Work:
    return Work(tmp_path)


@pytest.fixture
def alices(work: Work) -> str:
    work.commit("organiser", {"baselines/phase-1.ipynb": _notebook("coefficients = np.polyfit(x, x, 1)")})
    return work.commit("alice", {ALICE: _notebook("coefficients = np.polyfit(x, x**2, 3)")})


def _built_on(work: Work, alices: str, lineage: Lineage) -> str:
    """bob's branch from the organiser's commit: alice's commit merged, her notebook copied."""
    work.git("checkout", "-q", "-b", "bob", f"{alices}^")
    work.git("merge", "-q", "--no-ff", "-m", "build on alice", alices, user="bob")
    copy = nbformat.read(work.path / ALICE, as_version=4)
    copy.metadata = with_lineage(copy.metadata, lineage)
    copy.cells[2].source = "coefficients = np.polyfit(x, x**2, 5)  # bob"
    return work.commit("bob", {BOB: copy})


def test_a_notebook_built_on_another_comes_from_it(work: Work, alices: str) -> None:
    bobs = _built_on(work, alices, Lineage(path=ALICE, commit=alices))
    repo = ChallengeRepo(work.path)
    assert notebook_origin(repo, bobs, BOB) == Origin(commit=alices, path=ALICE, how="built-on")
    later = nbformat.read(work.path / BOB, as_version=4)
    later.cells[3].source = "print('done, bob')"
    again = work.commit("bob", {BOB: later})
    assert notebook_origin(repo, again, BOB) == Origin(commit=bobs, path=BOB, how="previous")


def test_a_lineage_outside_the_commits_history_is_not_followed(work: Work, alices: str) -> None:
    elsewhere = work.commit("carol", {"solutions/carol/fit.ipynb": _notebook("coefficients = 0")})
    bobs = _built_on(work, alices, Lineage(path="solutions/carol/fit.ipynb", commit=elsewhere))
    # carol's commit is not an ancestor of bob's: git's copy detection finds alice's notebook
    assert notebook_origin(ChallengeRepo(work.path), bobs, BOB) == Origin(alices, ALICE, "copy")


def test_a_copy_without_lineage_is_found_by_git_at_the_commit_that_wrote_it(work: Work, alices: str) -> None:
    work.git("checkout", "-q", "-b", "bob", alices)
    work.commit("carol", {"solutions/carol/other.ipynb": _notebook("coefficients = 0")})
    (work.path / "solutions/bob").mkdir(parents=True)
    (work.path / BOB).write_bytes((work.path / ALICE).read_bytes())
    bobs = work.commit("bob", {})
    assert notebook_origin(ChallengeRepo(work.path), bobs, BOB) == Origin(alices, ALICE, "copy")


def test_a_notebook_started_from_the_baseline_comes_from_it(work: Work, alices: str) -> None:
    baseline = Origin(git(work.path, "rev-parse", f"{alices}^"), "baselines/phase-1.ipynb", "copy")
    assert notebook_origin(ChallengeRepo(work.path), alices, ALICE) == baseline


def test_a_new_notebook_and_a_root_commit_have_no_origin(work: Work, alices: str) -> None:
    unlike = new_notebook(cells=[new_markdown_cell("Nothing like the others, " * 20)])
    new = work.commit("alice", {"solutions/alice/new.ipynb": unlike})
    repo = ChallengeRepo(work.path)
    assert notebook_origin(repo, new, "solutions/alice/new.ipynb") is None
    root = git(work.path, "rev-list", "--max-parents=0", "HEAD")
    assert notebook_origin(repo, root, "baselines/phase-1.ipynb") is None


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"coop": "lineage"},
        {"coop": {"lineage": {"path": ALICE}}},
        {"coop": {"lineage": {"path": ALICE, "commit": "HEAD~1"}}},
        {"coop": {"lineage": {"path": "/etc/passwd.ipynb", "commit": "a" * 40}}},
        {"coop": {"lineage": {"path": ALICE, "commit": "a" * 40, "extra": 1}}},
    ],
)
def test_a_malformed_lineage_is_no_lineage(metadata: dict) -> None:
    assert read_lineage(metadata) is None


def test_lineage_is_written_beside_other_coop_metadata() -> None:
    lineage = Lineage(path=ALICE, commit="b" * 40)
    metadata = with_lineage({"kernelspec": {"name": "python3"}, "coop": {"other": 1}}, lineage)
    assert metadata == {
        "kernelspec": {"name": "python3"},
        "coop": {"other": 1, "lineage": {"path": ALICE, "commit": "b" * 40}},
    }
    assert read_lineage(metadata) == lineage


def test_the_demos_dan_is_compared_with_alices_notebook(work: Work) -> None:
    """The shipped higgs examples committed as ``coop demo`` does (baselines, then the examples
    in order, one commit each): dan's notebook, which builds on alice's, comes from hers."""
    shipped = Path(__file__).parents[1] / "challenge_notebooks" / "higgs"
    for baseline in sorted((shipped / "baselines").glob("*.ipynb")):
        work.commit(
            "baseline", {f"solutions/baseline/{baseline.stem}-baseline.ipynb": nbformat.read(baseline, 4)}
        )
    commits = {}
    for example in sorted((shipped / "examples").glob("*.ipynb")):
        person, _, name = example.stem.partition("-")
        path = f"solutions/{person}/{name}.ipynb"
        commits[person] = (work.commit(person, {path: nbformat.read(example, 4)}), path)
    dans, dans_path = commits["dan"]
    alices, alices_path = commits["alice"]
    assert notebook_origin(ChallengeRepo(work.path), dans, dans_path) == Origin(alices, alices_path, "copy")
