"""Notebook pages and notebook diffs, served for real: uvicorn on loopback, the challenge's git
repository, a hostile notebook scored in the bubblewrap sandbox, and Chromium driven by Playwright.

Submissions used here (all alice's, in the ``scored`` challenge whose phase keeps code closed):
``hostile`` is scored (new in its commit, so its diff starts from an empty notebook); ``edit``
changes one line of alice's ``fit.ipynb``; ``root`` sits on a commit without parents; ``merge``
on a merge commit. Only ``hostile`` runs: the others are queued, which is all a diff needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from coop_client.client import CoopClient, CoopClientError
from scorer.ledger import store
from scorer.render.diff import notebook_diff
from scorer.service.routes.notebooks import PAGE_POLICY
from tests.conftest import git, require
from tests.service.conftest import Scored
from tests.test_notebook_html import executable_parts, png_base64

CHROMIUM = Path("/usr/bin/chromium")
FIT = "solutions/alice/fit.ipynb"
HOSTILE = "solutions/alice/hostile.ipynb"
ALICE, BOB, ORGANISER = ({"Authorization": f"token {t}"} for t in ("alice-token", "bob-token", "org-token"))

#: Every payload would set ``window.pwned`` (or the title, or open a dialog) if it ran.
HOSTILE_MARKDOWN = """## Hostile
[click](javascript:window.pwned='md-link') <img src=x onerror="window.pwned='md-img'">
<script>window.pwned = 'md-script'</script> <details open ontoggle="window.pwned='md-toggle'">x</details>
"""
HOSTILE_CODE = r"""from IPython.display import HTML, SVG, Javascript, display
display(HTML("<script>window.pwned = 'html-script'; document.title = 'pwned'</script><b>bold</b>"))
display(HTML("<img src=x onerror=\"window.pwned = 'html-img'; alert('html-img')\">"))
display(HTML("<iframe srcdoc=\"<script>parent.pwned = 'iframe'</script>\"></iframe>"))
display(Javascript("window.pwned = 'javascript-output'; alert('javascript-output')"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="window.pwned = \'svg-onload\'">'
            '<script>window.pwned = "svg-script"</script><rect width="4" height="4"/></svg>'))
display({"text/vnd.mermaid": "<img src=x onerror=\"window.pwned = 'mermaid'\">", "text/plain": "m"}, raw=True)
view = {"model_id": "0", "version_major": 2, "version_minor": 0}
display({"application/vnd.jupyter.widget-view+json": view, "text/plain": "widget"}, raw=True)
"""
LEGIT_CODE = f"""import base64
import pandas as pd
from IPython.display import SVG, Image, display
display(pd.DataFrame({{"alpha": [1, 2], "beta": [3.5, 4.5]}}))
display(Image(data=base64.b64decode("{png_base64()}"), format="png"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
            '<rect width="20" height="10"/></svg>'))
"""


@dataclass
class Views:
    scored: Scored
    hostile: int
    hostile_sha: str
    edit: int
    edit_sha: str
    root: int
    merge: int
    merge_sha: str

    def url(self, service: str, submission_id: int, view: str) -> str:
        return f"{service}/api/submissions/{submission_id}/{view}"


@pytest.fixture(scope="module")
def views(scored: Scored, tmp_path_factory: pytest.TempPathFactory) -> Views:
    fixture, api = scored.fixture, scored.api
    hostile = fixture.baseline
    hostile.cells[4:4] = [
        new_markdown_cell(HOSTILE_MARKDOWN),
        new_code_cell(HOSTILE_CODE),
        new_code_cell(LEGIT_CODE),
    ]
    hostile_sha = fixture.commit("alice", {HOSTILE: hostile})
    [run] = fixture.score(hostile_sha)
    assert run.outcome == "scored", run.reason

    edited = nbformat.reads(git(fixture.bare, "show", f"{scored.alice_sha}:{FIT}"), as_version=4)
    edited.cells[3].source = edited.cells[3].source.replace("test.x)", "test.x) * 1.0")
    edit_sha = fixture.commit("alice", {FIT: edited})
    [edit] = api.enqueue_commit(str(fixture.bare), edit_sha)

    work = tmp_path_factory.mktemp("root")  # a commit without parents, pushed beside the others
    git(work, "init", "-q", "-b", "orphan")
    (work / "solutions" / "alice").mkdir(parents=True)
    nbformat.write(
        new_notebook(cells=[new_code_cell("print('from nothing')")]), work / "solutions/alice/r.ipynb"
    )
    git(work, "add", "--all")
    git(work, "commit", "-q", "-m", "root", user="alice")
    git(work, "push", "-q", str(fixture.bare), "HEAD:refs/heads/alice/root", user="alice")
    [root] = api.enqueue_commit(str(fixture.bare), git(work, "rev-parse", "HEAD"))

    merge_sha = _merge_commit(fixture.bare, tmp_path_factory.mktemp("merge"), scored.alice_sha)
    # `enqueue_commit` finds no changed notebook in a merge (git diff-tree lists none): record
    # the submission through the ledger itself.
    with api.sessions.begin() as session:
        merge = store.enqueue(
            session,
            challenge_id=fixture.challenge_id,
            phase_id="phase-1",
            commit_sha=merge_sha,
            notebook_path=FIT,
            username="alice",
            parameters={},
        ).id
    return Views(
        scored, run.view.id, hostile_sha, edit.submission_id, edit_sha, root.submission_id, merge, merge_sha
    )


def _merge_commit(bare: Path, root: Path, base_sha: str) -> str:
    """Two branches from ``base_sha`` edit different cells of fit.ipynb; merge the second into
    the first (its first parent) and push the merge."""
    work = root / "work"
    git(root, "clone", "-q", str(bare), str(work))

    def edit(branch: str, cell: int, text: str) -> None:
        git(work, "checkout", "-q", "-b", branch, base_sha)
        notebook = nbformat.read(work / FIT, as_version=4)
        notebook.cells[cell].source += text
        nbformat.write(notebook, work / FIT)
        git(work, "commit", "-q", "-am", branch, user="alice")

    edit("first", 0, "\nOn the first branch.")
    edit("second", 3, "\nprint('on the second branch')")
    git(work, "checkout", "-q", "first")
    git(work, "merge", "-q", "--no-ff", "-m", "merge", "second", user="alice")
    git(work, "push", "-q", "origin", "HEAD:refs/heads/alice/merge", user="alice")
    return git(work, "rev-parse", "HEAD")


def _expected_diff(bare: Path, base_rev: str | None, sha: str, path: str, base_path: str = "") -> list:
    """What nbdime says (sources, outputs and tags: the default view), computed here from git's
    own copies of the two versions."""
    head = nbformat.reads(git(bare, "show", f"{sha}:{path}"), as_version=4)
    base = (
        nbformat.reads(git(bare, "show", f"{base_rev}:{base_path or path}"), as_version=4)
        if base_rev
        else new_notebook()
    )
    return json.loads(json.dumps(notebook_diff(base, head)))


# --- the notebook page ---------------------------------------------------------------------------


def test_the_notebook_page_is_static_html_with_a_strict_policy(service, views):
    answer = httpx.get(views.url(service, views.hostile, "notebook.html"), headers=ALICE)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src" not in PAGE_POLICY and "default-src 'none'" in PAGE_POLICY  # scripts: none
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert executable_parts(answer.text) == []
    soup = BeautifulSoup(answer.text, "html.parser")
    assert soup.title.get_text() == f"{HOSTILE} · submission {views.hostile} by alice"
    assert soup.select_one("table.dataframe th").get_text() == ""  # pandas' index header
    assert "alpha" in soup.select_one("table.dataframe thead").get_text()


def test_closed_code_pages_and_diffs_are_for_the_author_and_organisers_only(service, views):
    hidden = "solutions of phase 'phase-1' are visible only to their authors during this phase"
    for view in ("notebook.html", "diff", "diff.html"):
        url = views.url(service, views.hostile, view)
        assert httpx.get(url, headers=ALICE).status_code == 200
        assert httpx.get(url, headers=ORGANISER).status_code == 200
        refused = httpx.get(url, headers=BOB)
        assert (refused.status_code, refused.json()) == (403, {"error": hidden, "code": "code-hidden"})
        anonymous = httpx.get(url)  # as the .ipynb route answers an anonymous viewer
        assert anonymous.status_code == httpx.get(views.url(service, views.hostile, "notebook")).status_code
        assert (anonymous.status_code, anonymous.json()) == (403, {"error": hidden, "code": "code-hidden"})


@pytest.mark.parametrize("view", ["notebook.html", "diff", "diff.html"])
def test_unknown_submissions_are_404_json(service, view):
    answer = httpx.get(f"{service}/api/submissions/999999/{view}", headers=ORGANISER)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"error": "no submission 999999", "code": "unknown-submission"}


def test_a_queued_submission_has_a_diff_but_no_notebook_page_yet(service, views):
    page = httpx.get(views.url(service, views.edit, "notebook.html"), headers=ALICE)
    assert (page.status_code, page.json()) == (
        404,
        {
            "error": f"submission {views.edit} has no executed notebook (not run yet)",
            "code": "notebook-not-run",
        },
    )
    assert httpx.get(views.url(service, views.edit, "diff"), headers=ALICE).status_code == 200


# --- diffs -----------------------------------------------------------------------------------------


def test_the_diff_is_nbdimes_and_a_changed_line_is_a_patch_on_its_cell(service, views):
    bare = views.scored.fixture.bare
    answer = httpx.get(views.url(service, views.edit, "diff"), headers=ALICE)
    assert answer.status_code == 200
    body = answer.json()
    assert {k: v for k, v in body.items() if k != "diff"} == {
        "submission": views.edit,
        "notebook": FIT,
        "commit": views.edit_sha,
        "parent": views.hostile_sha,  # the commit before, which did not touch fit.ipynb
        "base": "parent",
        "base_commit": views.hostile_sha,
        "base_notebook": FIT,
        "full": False,
    }
    assert body["diff"] == _expected_diff(bare, f"{views.edit_sha}^", views.edit_sha, FIT)
    [cells] = body["diff"]
    assert (cells["op"], cells["key"]) == ("patch", "cells")
    [cell] = cells["diff"]
    assert (cell["op"], cell["key"]) == ("patch", 3)  # the model cell, and only it
    [source] = [e for e in cell["diff"] if e["key"] == "source"]
    assert source["op"] == "patch"


def test_a_notebook_new_in_its_commit_is_diffed_against_an_empty_notebook(service, views):
    body = httpx.get(views.url(service, views.hostile, "diff"), headers=ALICE).json()
    assert (body["base"], body["parent"], body["base_commit"], body["base_notebook"]) == (
        "empty",
        git(views.scored.fixture.bare, "rev-parse", f"{views.hostile_sha}^"),
        None,
        None,
    )  # nothing before it is similar enough for git's copy detection
    assert body["diff"] == _expected_diff(views.scored.fixture.bare, None, views.hostile_sha, HOSTILE)
    [cells] = [entry for entry in body["diff"] if entry["key"] == "cells"]
    [added] = cells["diff"]
    baseline = views.scored.fixture.baseline
    assert added["op"] == "addrange" and len(added["valuelist"]) == len(baseline.cells) + 3  # 3 more


def test_a_root_commit_is_diffed_against_an_empty_notebook(service, views):
    body = httpx.get(views.url(service, views.root, "diff"), headers=ALICE).json()
    assert (body["base"], body["parent"], body["notebook"]) == ("empty", None, "solutions/alice/r.ipynb")
    [cells] = [entry for entry in body["diff"] if entry["key"] == "cells"]
    assert cells["diff"][0]["valuelist"][0]["source"] == "print('from nothing')"
    page = httpx.get(views.url(service, views.root, "diff.html"), headers=ALICE).text
    assert "has no parent: compared with an empty notebook" in page


def test_a_merge_is_diffed_against_its_first_parent(service, views):
    bare = views.scored.fixture.bare
    body = httpx.get(views.url(service, views.merge, "diff"), headers=ALICE).json()
    first_parent = git(bare, "rev-parse", f"{views.merge_sha}^1")
    assert (body["base"], body["parent"]) == ("parent", first_parent)
    assert body["diff"] == _expected_diff(bare, first_parent, views.merge_sha, FIT)
    text = json.dumps(body["diff"])
    assert "on the second branch" in text and "On the first branch" not in text


def test_a_parent_version_that_is_not_a_notebook_is_a_clear_400(service, views):
    fixture, path = views.scored.fixture, "solutions/alice/broken.ipynb"
    broken = fixture.commit("alice", {path: "{not json"})
    fixed = fixture.commit("alice", {path: new_notebook(cells=[new_code_cell("1")])})
    [queued] = views.scored.api.enqueue_commit(str(fixture.bare), fixed)
    for view in ("diff", "diff.html"):
        answer = httpx.get(views.url(service, queued.submission_id, view), headers=ALICE)
        assert answer.status_code == 400
        assert answer.json()["error"].startswith(
            f"{path} at {broken[:12]} is not a notebook: it is not valid JSON (Expecting property name"
        )


def test_the_diff_page_shows_the_changed_line_and_runs_nothing(service, views):
    answer = httpx.get(views.url(service, views.edit, "diff.html"), headers=ALICE)
    assert answer.status_code == 200
    assert answer.headers["content-security-policy"] == PAGE_POLICY
    assert answer.headers["x-content-type-options"] == "nosniff"
    soup = BeautifulSoup(answer.text, "html.parser")
    [modified] = soup.select("section.modified")
    assert [s.get_text() for s in modified.select("span.del, span.add")] == [
        '- test["y"] = np.polyval(coefficients, test.x)',
        '+ test["y"] = np.polyval(coefficients, test.x) * 1.0',
    ]
    assert f"compared with its parent {views.hostile_sha[:12]}" in soup.header.get_text()
    hostile_page = httpx.get(views.url(service, views.hostile, "diff.html"), headers=ALICE).text
    assert executable_parts(hostile_page) == []
    assert "&lt;script&gt;window.pwned = &#x27;md-script&#x27;&lt;/script&gt;" in hostile_page


def test_the_openapi_document_describes_the_views(service):
    document = httpx.get(f"{service}/openapi.json").json()
    paths = document["paths"]
    for view in ("notebook.html", "diff.html"):
        responses = paths[f"/services/coop/api/submissions/{{submission_id}}/{view}"]["get"]["responses"]
        assert set(responses["200"]["content"]) == {"text/html"} and {"403", "404"} <= set(responses)
    diff = paths["/services/coop/api/submissions/{submission_id}/diff"]["get"]["responses"]["200"]
    assert diff["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NotebookDiffOut"}
    schemas = document["components"]["schemas"]
    assert "empty notebook" in schemas["NotebookDiffOut"]["properties"]["base"]["description"]
    assert set(schemas["DiffEntryOut"]["properties"]) == {"op", "key", "value", "valuelist", "length", "diff"}


# --- the typed client ------------------------------------------------------------------------------


def test_the_client_reads_pages_and_diffs(service, views):
    with CoopClient(service, token="alice-token") as alice:
        page = alice.notebook_html(views.hostile)
        diff = alice.diff(views.edit)
        diff_page = alice.diff_html(views.edit)
    assert "<table" in page and executable_parts(page) == []
    assert (diff.base, diff.parent, diff.notebook) == ("parent", views.hostile_sha, FIT)
    assert diff.diff[0].key == "cells" and diff.diff[0].diff[0].key == 3
    raw = diff.model_dump(exclude_unset=True)["diff"]
    assert raw == _expected_diff(views.scored.fixture.bare, f"{views.edit_sha}^", views.edit_sha, FIT)
    assert 'class="cell modified"' in diff_page
    with CoopClient(service, token="bob-token") as bob, pytest.raises(CoopClientError) as refused:
        bob.diff_html(views.hostile)
    assert refused.value.status == 403


# --- in a real browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        yield chromium
        chromium.close()


def _settled(page) -> None:
    """After ``load`` (images included, failed ones too), let queued events run."""
    page.wait_for_load_state("load")
    page.evaluate("new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")


def _on_dialog(dialogs: list[str]):
    def record(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    return record


def _assert_nothing_ran_and_outputs_show(page, dialogs: list[str], title: str) -> None:
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.title() == title
    assert dialogs == []
    table = page.locator("table.dataframe")
    assert table.is_visible() and "alpha" in table.inner_text()
    png = page.locator('img[src^="data:image/png"]')
    assert png.is_visible()
    assert png.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]") == [True, 6, 4]
    svg = page.locator('img[src^="data:image/svg+xml"]')
    assert svg.count() == 2  # the hostile SVG, cleaned, and the legitimate one both draw
    assert svg.evaluate_all("images => images.map(i => i.naturalWidth > 0)") == [True, True]


def test_in_chromium_the_served_page_runs_nothing_and_shows_the_outputs(service, views, browser):
    context = browser.new_context(extra_http_headers=ALICE)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", _on_dialog(dialogs))
    try:
        response = page.goto(views.url(service, views.hostile, "notebook.html"))
        assert response is not None and response.status == 200
        # The policy's sandbox turns scripting off, timers included: `_settled` would wait for
        # ever. Failed images have fired their error events by `load`.
        page.wait_for_load_state("load")
        _assert_nothing_ran_and_outputs_show(
            page, dialogs, f"{HOSTILE} · submission {views.hostile} by alice"
        )
    finally:
        context.close()


def test_in_chromium_the_cleaning_alone_holds_without_the_policy(service, views, browser):
    """The same page put into a blank tab, where no Content-Security-Policy applies: what keeps
    the hostile scripts from running here is the cleaning alone."""
    html = httpx.get(views.url(service, views.hostile, "notebook.html"), headers=ALICE).text
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", _on_dialog(dialogs))
    try:
        page.set_content(html)
        _settled(page)
        _assert_nothing_ran_and_outputs_show(
            page, dialogs, f"{HOSTILE} · submission {views.hostile} by alice"
        )
    finally:
        page.close()
