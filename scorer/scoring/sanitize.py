"""Sanitize a participant's notebook before it runs (the nbgrader pattern).

Small steps, each a pure function from notebook to notebook: read and validate, check the
parameters cell, restore the organiser's cells, drop the Submit widget's cell, clear outputs,
pin the kernel.
"""

from __future__ import annotations

import copy
import json

import nbformat
from nbformat import NotebookNode

from coop_client.models import PARAMETERS_TAG
from scorer.exceptions import InvalidNotebook

#: Cells the organiser owns: restored from the phase's baseline before every run.
ORGANISER_TAG = "organiser"
#: The cell holding the Submit widget (``Submit()``): it commits and pushes from the participant's
#: JupyterLab, and has no place in a scoring run.
SUBMIT_TAG = "coop-submit"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
MAX_NOTEBOOK_BYTES = 20 * 1024**2


def read_notebook(data: bytes, path: str) -> NotebookNode:
    """Parse and validate an nbformat 4 notebook; :class:`InvalidNotebook` otherwise."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(
            f"{path} is {len(data) / 1024**2:.1f} MiB; notebooks may be at most "
            f"{MAX_NOTEBOOK_BYTES // 1024**2} MiB (clear large outputs before committing)"
        )
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidNotebook(f"{path} is not a notebook: it is not valid JSON ({exc})") from exc
    if not isinstance(raw, dict) or ("cells" not in raw and "worksheets" not in raw):
        raise InvalidNotebook(f"{path} is not a notebook: it has no cells")
    major = raw.get("nbformat")
    if major != 4:
        raise InvalidNotebook(
            f"{path} is in nbformat {major}, only nbformat 4 is supported "
            "(open it in JupyterLab and save it to convert it)"
        )
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)  # joins multi-line sources
        nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        raise InvalidNotebook(f"{path} is not a valid nbformat 4 notebook: {exc.message}") from exc
    return notebook


def require_parameters_cell(notebook: NotebookNode, path: str) -> None:
    tagged = [c for c in notebook.cells if PARAMETERS_TAG in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise InvalidNotebook(
            f"{path} has no cell tagged `parameters`; start from the phase's baseline, or tag the "
            "cell that defines inputs_dir and predictions_path (View → Cell metadata)"
        )
    if tagged[0].cell_type != "code":
        raise InvalidNotebook(f"{path}: the cell tagged `parameters` must be a code cell")


def restore_organiser_cells(
    notebook: NotebookNode, baseline: NotebookNode, path: str = "the notebook"
) -> NotebookNode:
    """The baseline's ``organiser`` cells get their source back, matched by cell id whatever
    their tags now; a missing one refuses the notebook. A participant cannot claim a cell as
    the organiser's: a tagged cell the baseline does not own loses the tag."""
    result = copy.deepcopy(notebook)
    owned = {
        cell.get("id"): cell
        for cell in baseline.cells
        if ORGANISER_TAG in cell.get("metadata", {}).get("tags", []) and cell.get("id")
    }
    present = {cell.get("id"): cell for cell in result.cells if cell.get("id")}
    for cell_id, original in owned.items():
        cell = present.get(cell_id)
        if cell is None:
            first_line = original.source.strip().splitlines()[0] if original.source.strip() else ""
            raise InvalidNotebook(
                f"{path}: the organiser's cell {cell_id!r} (starting {first_line[:60]!r}) is missing "
                "or its id changed; copy it back from the phase's baseline"
            )
        cell.cell_type = original.cell_type
        cell.source = original.source
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        if ORGANISER_TAG not in tags:
            tags.append(ORGANISER_TAG)
    for cell in result.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if ORGANISER_TAG in tags and cell.get("id") not in owned:
            cell.metadata["tags"] = [t for t in tags if t != ORGANISER_TAG]
    return result


def drop_submit_cells(notebook: NotebookNode) -> NotebookNode:
    """Leave out the cells tagged ``coop-submit``; the parameters cell and the organiser's cells
    stay whatever else they are tagged (the tag never removes a cell the run needs)."""
    result = copy.deepcopy(notebook)
    result.cells = [cell for cell in result.cells if not _is_submit_cell(cell)]
    return result


def _is_submit_cell(cell: NotebookNode) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    return SUBMIT_TAG in tags and not tags & {PARAMETERS_TAG, ORGANISER_TAG}


def clear_outputs(notebook: NotebookNode) -> NotebookNode:
    result = copy.deepcopy(notebook)
    for cell in result.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
    result.metadata.pop("widgets", None)
    result.metadata.pop("papermill", None)
    return result


def pin_kernel(notebook: NotebookNode) -> NotebookNode:
    """Never trust the notebook's own kernelspec: it is participant input."""
    result = copy.deepcopy(notebook)
    result.metadata["kernelspec"] = dict(KERNELSPEC)
    result.metadata["language_info"] = {"name": "python"}
    return result


def sanitize(data: bytes, path: str, baseline: NotebookNode | None) -> NotebookNode:
    """The whole sanitize pass: what runs is what the participant wrote, and only that."""
    notebook = read_notebook(data, path)
    require_parameters_cell(notebook, path)
    if baseline is not None:
        notebook = restore_organiser_cells(notebook, baseline, path)
    return pin_kernel(clear_outputs(drop_submit_cells(notebook)))
