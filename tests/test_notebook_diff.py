"""Notebook diffs: nbdime's diff as JSON, read back cell by cell, and the static page drawn from it."""

from __future__ import annotations

import json

import nbdime
import nbformat
from bs4 import BeautifulSoup
from nbdime.diff_utils import to_diffentry_dicts
from nbdime.patching import patch_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from scorer.render.diff import WIDGET_VIEW, cell_changes, notebook_diff, notebook_notes, render_diff
from tests.test_notebook_html import executable_parts


def _pair():
    base = new_notebook(
        cells=[
            new_markdown_cell("# Fit", id="title"),
            new_code_cell(
                "a = 1\nb = 2\nc = 3",
                id="model",
                execution_count=1,
                outputs=[new_output("stream", name="stdout", text="old\n")],
            ),
            new_code_cell("print('gone')", id="gone"),
            new_code_cell("x = 1", id="same1"),
            new_code_cell("y = 2", id="same2"),
        ]
    )
    head = new_notebook(
        metadata={"language_info": {"name": "python"}},
        cells=[
            new_markdown_cell("# Fit", id="title"),
            new_code_cell(
                "a = 1\nb = 20\nc = 3\nd = 4",
                id="model",
                execution_count=2,
                outputs=[new_output("display_data", data={"text/plain": "fig", "image/png": "AAAA"})],
            ),
            new_code_cell("x = 1", id="same1"),
            new_code_cell("y = 2", id="same2"),
            new_markdown_cell("<script>document.title = 'pwned'</script>", id="new"),
        ],
    )
    return base, head


def test_the_full_diff_is_nbdimes_own_as_plain_json():
    base, head = _pair()
    diff = notebook_diff(base, head, full=True)
    assert diff == json.loads(json.dumps(nbdime.diff_notebooks(base, head)))
    assert json.loads(json.dumps(diff)) == diff  # plain data all the way down
    assert patch_notebook(base, to_diffentry_dicts(diff)) == head  # and it patches base into head


def test_cells_are_read_back_added_removed_modified_unchanged():
    base, head = _pair()
    changes = cell_changes(base, notebook_diff(base, head, full=True))
    summary = [(c.status, c.cell_type, c.position, c.base_position) for c in changes]
    assert summary == [
        ("unchanged", "markdown", 1, 1),
        ("modified", "code", 2, 2),
        ("removed", "code", None, 3),
        ("unchanged", "code", 3, 4),
        ("unchanged", "code", 4, 5),
        ("added", "markdown", 5, None),
    ]
    modified = changes[1]
    assert modified.lines == [(" ", "a = 1"), ("-", "b = 2"), ("+", "b = 20"), (" ", "c = 3"), ("+", "d = 4")]
    assert modified.notes == [
        "outputs added: image/png+text/plain; removed: stdout",
        "execution_count changed",
    ]
    assert changes[2].lines == [("-", "print('gone')")]
    assert changes[5].lines == [("+", "<script>document.title = 'pwned'</script>")]


def test_notebook_level_changes_are_named():
    base, head = _pair()
    assert notebook_notes(notebook_diff(base, head, full=True)) == ["metadata changed: language_info"]
    assert notebook_notes(notebook_diff(base, head)) == []


def test_diff_from_an_empty_notebook_adds_every_cell():
    _base, head = _pair()
    changes = cell_changes(new_notebook(), notebook_diff(new_notebook(), head))
    assert [c.status for c in changes] == ["added"] * len(head.cells)
    assert changes[1].notes == ["outputs: image/png+text/plain"]


def test_metadata_only_change_of_a_cell_keeps_its_source_as_context():
    base = new_notebook(cells=[new_code_cell("z = 0", id="c", metadata={"tags": ["a"]})])
    head = new_notebook(cells=[new_code_cell("z = 0", id="c", metadata={"tags": ["b"]})])
    [change] = cell_changes(base, notebook_diff(base, head))
    assert (change.status, change.lines, change.notes) == (
        "modified",
        [(" ", "z = 0")],
        ["metadata changed: tags"],
    )


def test_the_page_is_escaped_and_shows_each_kind_of_change():
    base, head = _pair()
    page = render_diff(base, notebook_diff(base, head), title="fit.ipynb <b>", description="against parent")
    assert executable_parts(page) == []
    soup = BeautifulSoup(page, "html.parser")
    assert soup.title.get_text() == "fit.ipynb <b>"
    assert soup.select_one("p.summary").get_text() == "cells: 1 added, 1 removed, 1 modified, 3 unchanged"
    modified = soup.select_one("section.modified")
    assert [s.get_text() for s in modified.select("span.del, span.add")] == ["- b = 2", "+ b = 20", "+ d = 4"]
    assert "outputs added: image/png+text/plain; removed: stdout" in modified.get_text()
    assert soup.select_one("section.removed h2").get_text() == "cell 3 of the base · code · removed"
    assert (
        soup.select_one("section.added span.add").get_text() == "+ <script>document.title = 'pwned'</script>"
    )
    assert [d.summary.get_text() for d in soup.select("details.unchanged")] == [
        "cell 1 unchanged",
        "cells 3–4 unchanged",
    ]


def test_the_page_of_an_identical_notebook_says_so():
    base, _head = _pair()
    page = render_diff(base, notebook_diff(base, base), title="t", description="d")
    assert BeautifulSoup(page, "html.parser").select_one("p.summary").get_text() == "cells: no changes"


def _rerun(notebook, count: int):
    """``notebook`` as a re-run leaves it: new execution counts, ids, timings and notebook metadata."""
    again = nbformat.from_dict(json.loads(json.dumps(notebook)))
    again.metadata["coop"] = {"lineage": {"path": "solutions/alice/fit.ipynb", "commit": "a" * 40}}
    for cell in again.cells:
        cell.id = f"{cell.id}-again"
        if cell.cell_type == "code":
            cell.execution_count = count
            cell.metadata["execution"] = {"iopub.status.idle": f"2026-01-0{count}T00:00:00Z"}
            for output in cell.outputs:
                output.setdefault("metadata", {})["scrolled"] = True
                if output.output_type == "execute_result":
                    output.execution_count = count
    return again


def _executed():
    return new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        cells=[
            new_markdown_cell("# Fit", id="title"),
            new_code_cell(
                "x = 1\nx",
                id="model",
                execution_count=1,
                metadata={"tags": ["parameters"]},
                outputs=[new_output("execute_result", data={"text/plain": "1"}, execution_count=1)],
            ),
        ],
    )


def test_by_default_a_rerun_is_no_change_and_the_full_diff_shows_its_noise():
    base = _executed()
    rerun = _rerun(base, 7)
    assert notebook_diff(base, rerun) == []
    full = notebook_diff(base, rerun, full=True)
    assert full == json.loads(json.dumps(nbdime.diff_notebooks(base, rerun)))
    [model] = [c for c in cell_changes(base, full) if c.status == "modified" and c.cell_type == "code"]
    assert "execution_count changed" in model.notes
    assert notebook_notes(full) == ["metadata changed: coop"]


def test_by_default_sources_outputs_and_tags_still_show():
    base = _executed()
    edited = _rerun(base, 2)
    edited.cells[1].source = "x = 2\nx"
    edited.cells[1].outputs[0].data = {"text/plain": "2"}
    edited.cells[1].metadata["tags"] = []
    [change] = [c for c in cell_changes(base, notebook_diff(base, edited)) if c.status != "unchanged"]
    assert change.lines == [("-", "x = 1"), ("+", "x = 2"), (" ", "x")]
    assert change.notes == ["outputs changed: text/plain", "metadata changed: tags"]


def test_the_page_links_to_the_other_view():
    base = _executed()
    diff = notebook_diff(base, _rerun(base, 3))
    page = render_diff(base, diff, title="t", description="d", switch=("?full=true", "show every change"))
    link = BeautifulSoup(page, "html.parser").select_one("header a.switch")
    assert (link["href"], link.get_text()) == ("?full=true", "show every change")
    assert executable_parts(page) == []


def test_a_widget_shown_again_is_the_same_output_by_default():
    def shown(model_id: str, user: str):
        view = {"model_id": model_id, "version_major": 2, "version_minor": 0}
        data = {WIDGET_VIEW: view, "text/plain": f"Submit(value='Ready to submit as {user}.')"}
        return new_notebook(
            cells=[new_code_cell("Submit()", id="s", outputs=[new_output("display_data", data=data)])]
        )

    alices, bobs = shown("1f2e", "alice"), shown("9a8b", "bob")
    assert notebook_diff(alices, bobs) == []
    assert notebook_diff(alices, bobs, full=True) != []
    stream = new_notebook(cells=[new_code_cell("Submit()", id="s", outputs=[new_output("stream", text="x")])])
    [change] = cell_changes(alices, notebook_diff(alices, stream))
    assert change.notes == [f"outputs added: stdout; removed: {WIDGET_VIEW}+text/plain"]
