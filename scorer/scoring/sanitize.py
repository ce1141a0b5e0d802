"""Sanitize a participant's notebook before it runs (the nbgrader pattern).

Small steps, each a pure function from notebook to notebook: read, normalise and validate, check
the parameters cell, restore the organiser's cells, leave out the platform's cells (the Submit
widget's, other widget cells, papermill's from an earlier run), clear outputs, pin the kernel.
What runs remembers where each of its cells is in the participant's notebook (:class:`Sanitized`),
so that a failure names the cell as JupyterLab shows it.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import nbformat
from nbformat import NotebookNode
from nbformat.validator import normalize

from coop_client.models import PARAMETERS_TAG
from scorer.environments.model import KERNEL_NAME
from scorer.exceptions import InvalidNotebook
from scorer.scoring.widget_cells import widget_cells

#: Cells the organiser owns: restored from the phase's baseline before every run.
ORGANISER_TAG = "organiser"
#: The cell holding the Submit widget (``Submit()``): it commits and pushes from the participant's
#: JupyterLab, and has no place in a scoring run.
SUBMIT_TAG = "coop-submit"
#: Cells papermill adds to a notebook it runs: its parameters and its error banners.
PAPERMILL_TAGS = frozenset({"injected-parameters", "papermill-error-cell-tag"})
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
#: The kernel of a phase that declares a challenge environment: the one that environment carries.
ENVIRONMENT_KERNELSPEC = {
    "name": KERNEL_NAME,
    "display_name": "Python (challenge environment)",
    "language": "python",
}
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
        notebook = _upgraded(nbformat.reads(json.dumps(raw), as_version=4))  # joins multi-line sources
        _changes, normal = normalize(notebook)  # duplicate cell ids repaired, as nbformat does
        notebook = nbformat.from_dict(normal)
        nbformat.validate(notebook)
    except nbformat.ValidationError as exc:
        raise InvalidNotebook(f"{path} is not a valid nbformat 4 notebook: {exc.message}") from exc
    return notebook


def _upgraded(notebook: NotebookNode) -> NotebookNode:
    """An older nbformat 4 minor brought to the current one (cell ids, 4.5), keeping the ids the
    cells already carry (JupyterLab writes them into 4.1 and 4.2 notebooks too): nbformat's own
    upgrade would replace them, and the organiser's cells are matched by id."""
    minor = notebook.get("nbformat_minor")
    if not isinstance(minor, int) or minor >= nbformat.v4.nbformat_minor:
        return notebook
    carried = [cell.get("id") for cell in notebook.cells]
    upgraded = nbformat.v4.upgrade(notebook, from_version=4, from_minor=minor)
    for cell, cell_id in zip(upgraded.cells, carried, strict=True):
        if cell_id is not None:
            cell.id = cell_id
    return upgraded


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


@dataclass(frozen=True)
class CellLabel:
    """How a participant finds a cell: its position as JupyterLab counts (from 1, every cell,
    markdown included) and its first line."""

    position: int
    first_line: str


@dataclass(frozen=True)
class Sanitized:
    """The notebook that runs, and for each of its cells its position in the participant's."""

    notebook: NotebookNode
    positions: tuple[int, ...]

    @property
    def labels(self) -> tuple[CellLabel, ...]:
        return tuple(
            CellLabel(position, first_line(cell.source))
            for position, cell in zip(self.positions, self.notebook.cells, strict=True)
        )


def first_line(source: str) -> str:
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def leave_out_platform_cells(notebook: NotebookNode) -> Sanitized:
    """Leave out the cells that are the platform's, not the participant's work: the Submit cell
    (tagged ``coop-submit``), cells that only show platform widgets (:mod:`widget_cells`), and
    papermill's cells of an earlier run (a downloaded executed notebook committed again:
    papermill adds its own anew). The parameters cell and the organiser's cells always stay."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    shows_widgets = dict(zip(map(id, code), widget_cells(cell.source for cell in code), strict=True))
    positions = tuple(
        position
        for position, cell in enumerate(notebook.cells, start=1)
        if not _is_platform_cell(cell, shows_widgets.get(id(cell), False))
    )
    result = copy.deepcopy(notebook)
    result.cells = [result.cells[position - 1] for position in positions]
    return Sanitized(result, positions)


def _is_platform_cell(cell: NotebookNode, shows_widgets: bool) -> bool:
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & {PARAMETERS_TAG, ORGANISER_TAG}:
        return False
    return shows_widgets or bool(tags & (PAPERMILL_TAGS | {SUBMIT_TAG}))


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


def pin_kernel(notebook: NotebookNode, in_environment: bool = False) -> NotebookNode:
    """Never trust the notebook's own kernelspec: it is participant input. The kernel is the
    challenge environment's when the phase has one, else the platform's."""
    result = copy.deepcopy(notebook)
    result.metadata["kernelspec"] = dict(ENVIRONMENT_KERNELSPEC if in_environment else KERNELSPEC)
    result.metadata["language_info"] = {"name": "python"}
    return result


def sanitize(
    data: bytes, path: str, baseline: NotebookNode | None, in_environment: bool = False
) -> Sanitized:
    """The whole sanitize pass: what runs is what the participant wrote, and only that."""
    notebook = read_notebook(data, path)
    require_parameters_cell(notebook, path)
    if baseline is not None:
        notebook = restore_organiser_cells(notebook, baseline, path)
    left = leave_out_platform_cells(notebook)
    return Sanitized(pin_kernel(clear_outputs(left.notebook), in_environment), left.positions)
