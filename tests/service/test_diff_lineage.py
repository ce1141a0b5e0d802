"""Diffs follow a notebook's lineage, served for real (uvicorn on loopback, the challenge's git
repository): bob's notebook built on alice's is compared with alice's, a plain copy with what git
finds it was copied from; a re-run's execution counts show only when asked for (``?full=true``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import nbformat
import pytest
from bs4 import BeautifulSoup

from coop_client.client import CoopClient
from coop_client.lineage import Lineage, with_lineage
from scorer.service.app import create_app
from tests.conftest import ChallengeFixture, git, make_challenge, require
from tests.service.conftest import PREFIX, TOKENS, running

ALICE_NB, BOB_NB, CAROL_NB = (f"solutions/{who}/fit.ipynb" for who in ("alice", "bob", "carol"))
BOB = {"Authorization": "token bob-token"}
BOBS_LINE = "coefficients = np.polyfit(train.x, train.y, 5)  # bob"


@dataclass
class Lineages:
    fixture: ChallengeFixture
    url: str
    alice_sha: str
    bob: int  # bob's notebook built on alice's, one cell changed and every cell re-run
    bob_sha: str
    carol: int  # carol's plain copy of alice's notebook, in a commit of its own
    carol_parent: str


def _executed(notebook: nbformat.NotebookNode, count: int) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.execution_count = count
    return notebook


@pytest.fixture(scope="module")
def lineages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lineages]:
    require("bwrap")  # queueing checks the challenge's sandbox
    fixture = make_challenge(tmp_path_factory.mktemp("lineage"), edit={"phases.0.open_code": True})
    clone = fixture.clone
    alice_sha = fixture.commit("alice", {ALICE_NB: _executed(fixture.baseline, 1)})

    git(clone, "checkout", "-q", "-b", "bob", f"{alice_sha}^")  # bob's branch, before alice's work
    git(clone, "merge", "-q", "--no-ff", "-m", "Build on alice", alice_sha, user="bob")
    copy = _executed(nbformat.read(clone / ALICE_NB, as_version=4), 2)
    copy.metadata = with_lineage(copy.metadata, Lineage(path=ALICE_NB, commit=alice_sha))
    model = next(i for i, c in enumerate(copy.cells) if "polyfit" in c.source)
    copy.cells[model].source = BOBS_LINE
    bob_sha = fixture.commit("bob", {BOB_NB: copy})

    git(clone, "checkout", "-q", "-b", "carol", alice_sha)
    carol_parent = fixture.commit("carol", {"notes.md": "reading alice's notebook\n"})
    carol_sha = fixture.commit("carol", {CAROL_NB: (clone / ALICE_NB).read_bytes()})

    api = fixture.api()
    try:
        [bob] = api.enqueue_commit(str(fixture.bare), bob_sha, username="bob")
        [carol] = api.enqueue_commit(str(fixture.bare), carol_sha, username="carol")
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            yield Lineages(
                fixture,
                url + PREFIX.rstrip("/"),
                alice_sha,
                bob.submission_id,
                bob_sha,
                carol.submission_id,
                carol_parent,
            )
    finally:
        api.close()


def _changed_cells(diff: list[dict]) -> list[dict]:
    [cells] = [entry for entry in diff if entry["key"] == "cells"]
    return cells["diff"]


def test_a_notebook_built_on_another_is_compared_with_it(lineages: Lineages) -> None:
    with CoopClient(lineages.url, token="bob-token") as bob:
        found = bob.diff(lineages.bob)
    assert (found.base, found.base_commit, found.base_notebook, found.full) == (
        "built-on",
        lineages.alice_sha,
        ALICE_NB,
        False,
    )
    assert found.parent == git(lineages.fixture.bare, "rev-parse", f"{lineages.bob_sha}^")
    raw = found.model_dump(exclude_unset=True)["diff"]
    [cell] = _changed_cells(raw)  # bob's one cell, nothing of the re-run
    assert [entry["key"] for entry in cell["diff"]] == ["source"]
    assert "# bob" in str(cell)  # nbdime patches the line character by character


def test_the_full_diff_shows_the_rerun(lineages: Lineages) -> None:
    answer = httpx.get(f"{lineages.url}/api/submissions/{lineages.bob}/diff?full=true", headers=BOB)
    body = answer.json()
    assert (answer.status_code, body["base"], body["full"]) == (200, "built-on", True)
    keys = {entry["key"] for cell in _changed_cells(body["diff"]) for entry in cell["diff"]}
    assert {"source", "execution_count"} <= keys
    assert any(entry["key"] == "metadata" for entry in body["diff"])  # coop.lineage, kernelspec…
    with CoopClient(lineages.url, token="bob-token") as bob:
        assert bob.diff(lineages.bob, full=True).model_dump(exclude_unset=True)["diff"] == body["diff"]
        assert "execution_count changed" in bob.diff_html(lineages.bob, full=True)


def test_the_diff_page_names_the_notebook_built_on_and_links_to_every_change(lineages: Lineages) -> None:
    answer = httpx.get(f"{lineages.url}/api/submissions/{lineages.bob}/diff.html", headers=BOB)
    header = BeautifulSoup(answer.text, "html.parser").header
    assert f"built on {ALICE_NB} at {lineages.alice_sha[:12]}: compared with it" in header.get_text()
    assert "execution counts and metadata left out" in header.get_text()
    link = header.select_one("a.switch")
    assert link["href"] == "?full=true"
    full = httpx.get(f"{lineages.url}/api/submissions/{lineages.bob}/diff.html?full=true", headers=BOB)
    full_header = BeautifulSoup(full.text, "html.parser").header
    assert full_header.select_one("a.switch")["href"] == "?full=false"
    assert "execution_count changed" in full.text and "execution_count changed" not in answer.text
    assert len(BeautifulSoup(answer.text, "html.parser").select("section.modified")) == 1


def test_a_plain_copy_is_compared_with_what_git_finds_it_copied(lineages: Lineages) -> None:
    body = httpx.get(f"{lineages.url}/api/submissions/{lineages.carol}/diff", headers=BOB).json()
    assert (body["base"], body["base_commit"], body["base_notebook"]) == (
        "copy",
        lineages.alice_sha,
        ALICE_NB,
    )
    assert body["parent"] == lineages.carol_parent  # copied from there, written in alice's commit
    assert body["diff"] == []


def test_a_query_that_is_not_a_boolean_is_a_clear_error(lineages: Lineages) -> None:
    answer = httpx.get(f"{lineages.url}/api/submissions/{lineages.bob}/diff?full=maybe", headers=BOB)
    assert answer.status_code == 422
    assert "full" in answer.text
