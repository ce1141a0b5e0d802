"""Build on this, in a real clone of a published challenge: alice's commit merged into bob's
branch, her notebook copied into his folder with its lineage, never overwriting anything."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat
import pytest

from coop_client.lineage import Lineage, read_lineage
from coop_widgets.build_on import BuildOnConflict, BuildOnNotFound, build_on
from tests.conftest import ChallengeFixture, git, make_challenge

ALICE_NB = "solutions/alice/phase-1.ipynb"
BOB_NB = PurePosixPath("solutions/bob/phase-1.ipynb")


@dataclass
class Setup:
    fixture: ChallengeFixture
    bob: Path  # bob's clone, on his branch from the organiser's commit
    alice_sha: str

    @property
    def lineage(self) -> Lineage:
        return Lineage(path=ALICE_NB, commit=self.alice_sha)

    def bob_git(self, *args: str) -> str:
        return git(self.bob, *args, user="bob")


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    fixture = make_challenge(tmp_path)
    bob = tmp_path / "bob"
    git(tmp_path, "clone", "-q", str(fixture.bare), str(bob))
    git(bob, "checkout", "-q", "-b", "work")
    git(bob, "config", "user.name", "bob")
    git(bob, "config", "user.email", "bob@example.org")
    notebook = fixture.baseline
    notebook.cells[3].source += "\n# alice's tweak"
    alice_sha = fixture.commit("alice", {ALICE_NB: notebook})
    git(bob, "fetch", "-q", "origin")
    return Setup(fixture, bob, alice_sha)


def test_alices_commit_becomes_an_ancestor_and_her_notebook_bobs(setup: Setup) -> None:
    before = setup.bob_git("rev-parse", "HEAD")
    copy = build_on(setup.bob, "bob", setup.lineage, author="alice")
    assert copy == BOB_NB
    assert setup.bob_git("rev-parse", "HEAD^1") == before  # a merge on bob's branch
    assert setup.bob_git("rev-parse", "HEAD^2") == setup.alice_sha
    assert "Build on alice's solutions/alice/phase-1.ipynb" in setup.bob_git("log", "-1", "--format=%s")
    notebook = nbformat.read(setup.bob / copy, as_version=4)
    assert read_lineage(notebook.metadata) == setup.lineage
    assert "# alice's tweak" in notebook.cells[3].source
    assert setup.bob_git("status", "--porcelain") == "?? solutions/bob/"  # left for Submit to commit


def test_building_again_opens_the_same_copy_and_never_overwrites(setup: Setup) -> None:
    first = build_on(setup.bob, "bob", setup.lineage, author="alice")
    (setup.bob / first).write_text((setup.bob / first).read_text().replace("alice's tweak", "bob's edit"))
    assert build_on(setup.bob, "bob", setup.lineage, author="alice") == first
    assert "bob's edit" in (setup.bob / first).read_text()
    assert setup.bob_git("rev-list", "--count", "--merges", "HEAD") == "1"  # merged once


def test_a_notebook_of_the_same_name_gets_the_copy_a_name_of_its_own(setup: Setup) -> None:
    (setup.bob / BOB_NB).parent.mkdir(parents=True)
    (setup.bob / BOB_NB).write_text(json.dumps(nbformat.v4.new_notebook()))
    copy = build_on(setup.bob, "bob", setup.lineage, author="alice")
    assert copy == PurePosixPath("solutions/bob/phase-1-from-alice.ipynb")
    assert json.loads((setup.bob / BOB_NB).read_text())["cells"] == []


def test_a_conflict_leaves_bobs_branch_as_it_was(setup: Setup) -> None:
    (setup.bob / "solutions/alice").mkdir(parents=True)
    (setup.bob / ALICE_NB).write_text("bob wrote here\n")
    setup.bob_git("add", "--all")
    setup.bob_git("commit", "-q", "-m", "bob in alice's folder")
    before = setup.bob_git("rev-parse", "HEAD")
    with pytest.raises(BuildOnConflict) as refused:
        build_on(setup.bob, "bob", setup.lineage, author="alice")
    assert refused.value.http_status == 409
    assert f"your branch and commit {setup.alice_sha[:12]} cannot be merged" in refused.value.user_message
    assert "CONFLICT" in refused.value.user_message
    assert setup.bob_git("rev-parse", "HEAD") == before
    assert setup.bob_git("status", "--porcelain") == ""
    assert not (setup.bob / BOB_NB).exists()


def test_an_unknown_commit_or_notebook_is_a_clear_404(setup: Setup) -> None:
    missing = Lineage(path=ALICE_NB, commit="0123456789" * 4)
    with pytest.raises(BuildOnNotFound, match="commit 012345678901 is not in your clone"):
        build_on(setup.bob, "bob", missing, author="alice")
    elsewhere = Lineage(path="solutions/alice/other.ipynb", commit=setup.alice_sha)
    with pytest.raises(BuildOnNotFound, match=r"solutions/alice/other.ipynb is not in commit"):
        build_on(setup.bob, "bob", elsewhere, author="alice")
    with pytest.raises(BuildOnNotFound, match="there is no clone of this challenge"):
        build_on(setup.bob / "nowhere", "bob", setup.lineage, author="alice")
