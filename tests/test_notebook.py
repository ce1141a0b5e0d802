"""Unit tests of the sanitize steps (scorer.scoring.sanitize): pure functions, no kernel."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from scorer.exceptions import FailureClass, InvalidNotebook
from scorer.scoring.sanitize import (
    KERNELSPEC,
    MAX_NOTEBOOK_BYTES,
    clear_outputs,
    leave_out_platform_cells,
    pin_kernel,
    read_notebook,
    require_parameters_cell,
    restore_organiser_cells,
    sanitize,
)
from tests.notebooks import corpus

TEMPLATE_BASELINE = Path(__file__).parents[1] / "scorer/challenge/templates/challenge/baselines/phase-1.ipynb"
PATH = "solutions/alice/fit.ipynb"


@pytest.fixture
def baseline() -> nbformat.NotebookNode:
    return nbformat.read(TEMPLATE_BASELINE, as_version=4)


def raw(notebook: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(notebook).encode()


def text(cell: nbformat.NotebookNode) -> str:
    """A cell's source; read_notebook keeps the on-disk form, a list of lines."""
    return "".join(cell.source) if isinstance(cell.source, list) else cell.source


def organiser_cell(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    [cell] = [c for c in notebook.cells if "organiser" in c.metadata.get("tags", [])]
    return cell


# --- read_notebook -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"this is not a notebook {", ("is not a notebook", "not valid JSON")),
        (b"\xff\xfe\x00not utf-8", ("is not a notebook", "not valid JSON")),
        (b"[1, 2, 3]", ("is not a notebook", "no cells")),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', ("no cells",)),
        (b'{"nbformat": 5, "nbformat_minor": 0, "metadata": {}, "cells": []}', ("nbformat 5",)),
        (b'{"nbformat_minor": 0, "metadata": {}, "cells": []}', ("nbformat None",)),
    ],
    ids=["not-json", "not-utf8", "json-list", "no-cells", "nbformat-5", "no-nbformat"],
)
def test_read_notebook_refuses_what_is_not_a_notebook(data, words):
    with pytest.raises(InvalidNotebook) as caught:
        read_notebook(data, PATH)
    message = caught.value.user_message
    assert message.startswith(PATH)
    for word in words:
        assert word in message
    assert caught.value.failure_class == FailureClass.INVALID_NOTEBOOK


@pytest.mark.parametrize("filename", sorted(corpus.INVALID))
def test_corpus_files_are_refused_by_sanitize(filename):
    _attack, words = corpus.INVALID[filename]
    with pytest.raises(InvalidNotebook) as caught:
        sanitize(corpus.static(filename), PATH, None)
    for word in words:
        assert word.lower() in caught.value.user_message.lower()


def test_nbformat_3_is_refused_with_how_to_convert():
    with pytest.raises(InvalidNotebook, match=r"nbformat 3, only nbformat 4 .*save it to convert it"):
        read_notebook(corpus.static("nbformat3.ipynb.bad"), PATH)


def test_schema_error_names_what_is_wrong():
    with pytest.raises(InvalidNotebook, match="'outputs' is a required property"):
        read_notebook(corpus.static("invalid_cell.ipynb.bad"), PATH)


def test_oversized_notebook_is_refused_before_parsing():
    data = b" " * (MAX_NOTEBOOK_BYTES + 1)  # not even JSON: the size is checked first
    with pytest.raises(InvalidNotebook, match=r"20\.0 MiB; notebooks may be at most 20 MiB"):
        read_notebook(data, PATH)


def test_read_notebook_accepts_the_baseline(baseline):
    notebook = read_notebook(raw(baseline), PATH)
    assert [text(c) for c in notebook.cells] == [c.source for c in baseline.cells]
    assert notebook.metadata == baseline.metadata


# --- parameters cell ---------------------------------------------------------------------------


def test_missing_parameters_cell_says_how_to_fix_it(baseline):
    baseline.cells[1].metadata["tags"] = []
    with pytest.raises(InvalidNotebook) as caught:
        require_parameters_cell(baseline, PATH)
    assert "no cell tagged `parameters`" in caught.value.user_message
    assert "inputs_dir and predictions_path" in caught.value.user_message


def test_parameters_tag_on_a_markdown_cell_is_refused(baseline):
    baseline.cells[0].metadata["tags"] = ["parameters"]  # the first tagged cell is papermill's
    with pytest.raises(InvalidNotebook, match="must be a code cell"):
        require_parameters_cell(baseline, PATH)


def test_parameters_cell_anywhere_is_accepted(baseline):
    baseline.cells.append(baseline.cells.pop(1))
    require_parameters_cell(baseline, PATH)


# --- organiser cells ---------------------------------------------------------------------------


def test_edited_organiser_cell_gets_the_baselines_source_back(baseline):
    participant = copy.deepcopy(baseline)
    cell = organiser_cell(participant)
    cell.source = 'test["y"] = 0\ntest[["id", "y"]].to_csv(predictions_path, index=False)'
    restored = restore_organiser_cells(participant, baseline)
    assert organiser_cell(restored).source == organiser_cell(baseline).source
    assert cell.source.startswith('test["y"] = 0')  # pure: the input is untouched


def test_organiser_cell_turned_into_markdown_is_turned_back(baseline):
    participant = copy.deepcopy(baseline)
    cell = organiser_cell(participant)
    participant.cells[participant.cells.index(cell)] = new_markdown_cell(
        "disabled", id=cell.id, metadata={"tags": ["organiser"]}
    )
    restored = organiser_cell(restore_organiser_cells(participant, baseline))
    assert (restored.cell_type, restored.source) == ("code", organiser_cell(baseline).source)


def test_participant_cannot_claim_a_cell_as_the_organisers(baseline):
    participant = copy.deepcopy(baseline)
    participant.cells.append(new_code_cell("print('mine')", metadata={"tags": ["organiser", "keep"]}))
    restored = restore_organiser_cells(participant, baseline)
    assert restored.cells[-1].source == "print('mine')"
    assert restored.cells[-1].metadata["tags"] == ["keep"]


def test_without_a_baseline_nothing_is_restored(baseline):
    participant = copy.deepcopy(baseline)
    organiser_cell(participant).source = "pass"
    assert text(organiser_cell(sanitize(raw(participant), PATH, None).notebook)) == "pass"


@pytest.mark.parametrize("how", ["tag-removed", "id-changed", "deleted"])
def test_organiser_cell_cannot_be_escaped(baseline, how):
    participant = copy.deepcopy(baseline)
    cell = organiser_cell(participant)
    fake = 'test["y"] = 0\ntest[["id", "y"]].to_csv(predictions_path, index=False)'
    if how == "tag-removed":
        cell.metadata["tags"] = []
        cell.source = fake
    elif how == "id-changed":
        cell.id = "f00dcafe"
        cell.source = fake
    else:
        participant.cells.remove(cell)
    try:
        result = sanitize(raw(participant), PATH, baseline).notebook
    except InvalidNotebook as refused:  # refusing, with a clear reason, is a fix too
        assert "organiser" in refused.user_message
        return
    sources = [text(c) for c in result.cells]
    assert organiser_cell(baseline).source in sources
    assert fake not in sources


# --- the Submit widget's cell ------------------------------------------------------------------


def submit_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if "coop-submit" in c.metadata.get("tags", [])]


def test_the_baselines_submit_cell_is_left_out_of_the_run(baseline):
    [cell] = submit_cells(baseline)  # the template's baseline ends with the widget
    assert "Submit()" in cell.source
    result = sanitize(raw(baseline), PATH, baseline).notebook
    assert submit_cells(result) == []
    assert not any("coop_widgets" in text(c) for c in result.cells)
    kept = [c.source for c in baseline.cells if c is not cell]
    assert [text(c) for c in result.cells] == kept
    assert len(submit_cells(baseline)) == 1  # pure


def test_the_submit_tag_never_drops_the_parameters_or_an_organiser_cell(baseline):
    participant = copy.deepcopy(baseline)
    for cell in (participant.cells[1], organiser_cell(participant)):
        cell.metadata["tags"].append("coop-submit")
    participant.cells.append(new_code_cell("print('mine')", metadata={"tags": ["coop-submit", "organiser"]}))
    result = sanitize(raw(participant), PATH, baseline).notebook
    sources = [text(c) for c in result.cells]
    assert baseline.cells[1].source in sources and organiser_cell(baseline).source in sources
    # the step alone keeps any cell tagged `organiser`; sanitize restores the organiser's cells first,
    # which strips a participant's claim, so claiming the widget's cell as the organiser's keeps nothing
    assert leave_out_platform_cells(participant).notebook.cells[-1].source == "print('mine')"
    assert "print('mine')" not in sources


# --- outputs and kernel ------------------------------------------------------------------------


def test_clear_outputs_removes_everything_a_run_left(baseline):
    notebook = copy.deepcopy(baseline)
    notebook.cells[3].outputs = [new_output("stream", name="stdout", text="old")]
    notebook.cells[3].execution_count = 12
    notebook.cells[3].metadata["papermill"] = {"status": "completed"}
    notebook.cells[3].metadata["execution"] = {"iopub.status.busy": "2020-01-01"}
    notebook.cells[0].metadata["papermill"] = {"status": "failed"}
    notebook.metadata["widgets"] = {"state": {}}
    notebook.metadata["papermill"] = {"parameters": {"degree": 99}}
    cleared = clear_outputs(notebook)
    for cell in cleared.cells:
        assert "papermill" not in cell.metadata and "execution" not in cell.metadata
        if cell.cell_type == "code":
            assert (cell.outputs, cell.execution_count) == ([], None)
    assert "widgets" not in cleared.metadata and "papermill" not in cleared.metadata
    assert notebook.cells[3].execution_count == 12  # pure


@pytest.mark.parametrize(
    "kernelspec",
    [
        {"name": "../../../bin/sh", "display_name": "sh", "language": "sh"},
        {"name": "python3", "display_name": "x", "language": "python", "argv": ["/bin/sh", "-c", "id"]},
        {"name": "ir", "display_name": "R", "language": "R"},
    ],
    ids=["path-traversal", "own-argv", "other-language"],
)
def test_pin_kernel_ignores_the_notebooks_kernelspec(baseline, kernelspec):
    baseline.metadata["kernelspec"] = kernelspec
    baseline.metadata["language_info"] = {"name": "sh", "codemirror_mode": "shell"}
    pinned = pin_kernel(baseline)
    assert pinned.metadata["kernelspec"] == KERNELSPEC
    assert pinned.metadata["language_info"] == {"name": "python"}
    assert baseline.metadata["kernelspec"] == kernelspec  # pure


def test_pin_kernel_adds_a_kernelspec_where_there_is_none():
    pinned = pin_kernel(new_notebook(cells=[new_code_cell("1", metadata={"tags": ["parameters"]})]))
    assert pinned.metadata["kernelspec"]["name"] == "python3"


def test_pinned_kernelspec_is_a_copy():
    first = pin_kernel(new_notebook())
    first.metadata["kernelspec"]["name"] = "changed"
    assert KERNELSPEC["name"] == "python3"


# --- the whole pass ----------------------------------------------------------------------------


def test_sanitize_the_malicious_kernelspec_corpus_notebook(baseline):
    result = sanitize(corpus.static("malicious_kernelspec.ipynb"), PATH, None).notebook
    assert result.metadata["kernelspec"] == KERNELSPEC
    assert "papermill" not in result.metadata and "widgets" not in result.metadata
    assert all(c.outputs == [] and c.execution_count is None for c in result.cells if c.cell_type == "code")
    nbformat.validate(result)


def test_sanitize_is_idempotent(baseline):
    participant = copy.deepcopy(baseline)
    organiser_cell(participant).source = "pass"
    once = sanitize(raw(participant), PATH, baseline)
    assert sanitize(raw(once.notebook), PATH, baseline) == once


def test_sanitize_keeps_the_participants_own_cells(baseline):
    participant = copy.deepcopy(baseline)
    participant.cells[3].source = "test['y'] = 1.0"
    participant.cells.append(new_code_cell("print('extra')"))
    result = sanitize(raw(participant), PATH, baseline).notebook
    assert [text(c) for c in result.cells][3:] == [
        "test['y'] = 1.0",
        organiser_cell(baseline).source,
        "print('extra')",
    ]
    assert json.loads(nbformat.writes(result))["nbformat"] == 4


def test_corpus_readme_lists_every_case():
    readme = (corpus.FOLDER / "README.md").read_text()
    names = [*corpus.INVALID, *corpus.CASES, "fork_bomb", "print_flood", "probe_host", "environment"]
    names += ["connect", "symlink_predictions", "symlink_executed_notebook"]
    missing = [name for name in names if f"`{name}`" not in readme]
    assert missing == []
    on_disk = {p.name for p in corpus.FOLDER.iterdir() if p.suffix in {".ipynb", ".bad"}}
    assert {name for name in on_disk if f"`{name}`" not in readme} == set()


# --- platform cells: widgets, papermill's own cells, the numbering of what is left ------------

WIDGET_CELLS = [
    "from coop_widgets import Leaderboard, MySubmissions, PhaseBanner",
    "Leaderboard()",
    "# how the phase goes\nPhaseBanner()\n",
    "mine = MySubmissions()\nmine",
    "import coop_widgets as cw\ncw.Leaderboard(board='main')",
    "%load_ext coop_widgets",
]


def test_cells_that_only_show_platform_widgets_are_left_out(baseline):
    """The README invites Leaderboard(), PhaseBanner() and MySubmissions() in a notebook: like
    the Submit cell they have no place in a scoring run, wherever they are and however written."""
    participant = copy.deepcopy(baseline)
    participant.cells[3:3] = [new_code_cell(source) for source in WIDGET_CELLS[:2]]
    participant.cells.extend(new_code_cell(source) for source in WIDGET_CELLS[2:])
    result = sanitize(raw(participant), PATH, baseline).notebook
    assert not any("coop_widgets" in text(c) or "Leaderboard" in text(c) for c in result.cells)
    kept = [c.source for c in baseline.cells if "coop-submit" not in c.metadata.get("tags", [])]
    assert [text(c) for c in result.cells] == kept


@pytest.mark.parametrize(
    "source",
    [
        "from coop_widgets import Leaderboard\nimport numpy as np",  # also does something else
        "board = Leaderboard()",  # Leaderboard is not the platform's here: never imported
        "from mywidgets import Leaderboard\nLeaderboard()",
        "Leaderboard = 3\nLeaderboard",
    ],
)
def test_a_cell_that_does_more_than_show_widgets_runs(baseline, source):
    participant = copy.deepcopy(baseline)
    participant.cells.append(new_code_cell(source))
    result = sanitize(raw(participant), PATH, baseline).notebook
    assert text(result.cells[-1]) == source


def test_widget_names_imported_in_one_cell_are_known_in_the_next(baseline):
    participant = copy.deepcopy(baseline)
    participant.cells.extend(
        [new_code_cell("from coop_widgets import *"), new_code_cell("PhaseBanner()"), new_code_cell("1 + 1")]
    )
    result = sanitize(raw(participant), PATH, baseline).notebook
    assert text(result.cells[-1]) == "1 + 1" and "PhaseBanner()" not in [text(c) for c in result.cells]


def test_the_numbering_is_jupyterlabs_whatever_is_left_out(baseline):
    """Positions count every cell of the committed notebook from 1, markdown included, as the
    participant sees them; the widget's cell 6 left out, cell 7 is still called cell 7."""
    participant = copy.deepcopy(baseline)
    participant.cells.extend([new_code_cell("Leaderboard()"), new_code_cell("print('last')")])
    participant.cells.insert(6, new_code_cell("from coop_widgets import Leaderboard"))
    sanitized = sanitize(raw(participant), PATH, baseline)
    assert sanitized.positions == (1, 2, 3, 4, 5, 9)
    label = sanitized.labels[-1]
    assert (label.position, label.first_line) == (9, "print('last')")
    assert sanitized.labels[2].first_line == "import numpy as np"


def test_papermills_cells_from_a_downloaded_run_are_stripped(baseline):
    """A participant re-submits the executed notebook they downloaded: papermill's error banners
    and its injected parameters go (papermill adds its own again), and the numbering still
    counts them, as JupyterLab shows them."""
    participant = copy.deepcopy(baseline)
    banner = 'An Exception was encountered at <a href="#papermill-error-cell">In [3]</a>'
    participant.cells.insert(0, new_markdown_cell(banner, metadata={"tags": ["papermill-error-cell-tag"]}))
    participant.cells.insert(3, new_code_cell("degree = 9\n", metadata={"tags": ["injected-parameters"]}))
    participant.cells.insert(5, new_markdown_cell(banner, metadata={"tags": ["papermill-error-cell-tag"]}))
    sanitized = sanitize(raw(participant), PATH, baseline)
    sources = [text(c) for c in sanitized.notebook.cells]
    assert banner not in sources and "degree = 9\n" not in sources
    assert sanitized.positions == (2, 3, 5, 7, 8)


def test_a_notebook_of_nbformat_4_2_carrying_cell_ids_is_normalised(baseline):
    """nbformat itself only warns about it and papermill runs it: upgraded to 4.5, ids kept."""
    data = json.loads(raw(baseline))
    data["nbformat_minor"] = 2
    notebook = read_notebook(json.dumps(data).encode(), PATH)
    assert notebook.nbformat_minor == 5
    assert [c.id for c in notebook.cells] == [c.id for c in baseline.cells]
    nbformat.validate(notebook)
    sanitized = sanitize(json.dumps(data).encode(), PATH, baseline)  # the organiser's cells still match
    assert organiser_cell(sanitized.notebook).id == organiser_cell(baseline).id


def test_a_notebook_of_nbformat_4_1_without_ids_gets_ids():
    data = {
        "nbformat": 4,
        "nbformat_minor": 1,
        "metadata": {},
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# old"}],
    }
    notebook = read_notebook(json.dumps(data).encode(), PATH)
    assert notebook.nbformat_minor == 5 and notebook.cells[0].id
    nbformat.validate(notebook)
