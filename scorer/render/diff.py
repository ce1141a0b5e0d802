"""Two versions of a notebook compared with nbdime, and the comparison drawn as a static page.

:func:`notebook_diff` is nbdime's own diff as plain JSON data: a list of entries
``{"op": …, "key": …}`` in nbdime's diff format, nested for cells, sources (line by line, then
character by character), outputs and metadata. By default it compares what a person wrote and
what it printed: nbdime's ignore options leave out execution counts, cell ids, notebook metadata
and cell metadata other than tags, and a live widget's output counts as the same widget whatever
its session's model id and text (a re-run is no change); ``full=True`` is
``nbdime.diff_notebooks`` itself. :func:`cell_changes` reads that diff
back against the base notebook, cell by cell; :func:`render_diff` draws the result as one
self-contained HTML page: cells added, removed or modified with their source lines, output and
metadata changes summarised, unchanged cells folded. Everything from the notebooks is escaped and
the page has no script.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from copy import copy
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

import nbdime
import nbformat
from nbdime.diff_utils import to_clean_dicts, to_diffentry_dicts
from nbdime.diffing.generic import diff as nbdime_diff
from nbdime.diffing.notebooks import diff_ignore, diff_ignore_keys, notebook_config
from nbdime.patching import patch
from nbformat import NotebookNode

Mark = Literal["+", "-", " "]
Status = Literal["added", "removed", "modified", "unchanged"]


@dataclass(frozen=True)
class CellChange:
    """What happened to one cell; positions count from 1 (``None``: not in that version)."""

    status: Status
    cell_type: str
    position: int | None  # in the new version
    base_position: int | None  # in the base version
    lines: list[tuple[Mark, str]]  # the source, each line marked added, removed or kept
    notes: list[str] = field(default_factory=list)  # outputs, execution count, metadata


def _keeping(differ: Callable[..., Any], keys: Collection[str]) -> Callable[..., Any]:
    """``differ`` with only the entries of ``keys`` kept (the inverse of nbdime's ignore keys)."""

    def kept(*args: Any, **kwargs: Any) -> list[Any]:
        return [entry for entry in differ(*args, **kwargs) if entry.key in keys]

    return kept


def _meaningful_config() -> Any:
    """nbdime's notebook configuration with its ignore options set on a copy: nbdime's own
    ``set_notebook_diff_ignores`` changes one module-wide table, which concurrent requests share."""
    config = copy(notebook_config)
    differs = config.differs
    differs["/metadata"] = diff_ignore
    differs["/cells/*"] = diff_ignore_keys(differs["/cells/*"], ("execution_count", "id"))
    differs["/cells/*/metadata"] = _keeping(differs["/cells/*/metadata"], ("tags",))
    # "metadata" here too: nbdime diffs a rich output's fields other than data without the config
    outputs = diff_ignore_keys(differs["/cells/*/outputs/*"], ("execution_count", "metadata"))
    differs["/cells/*/outputs/*"] = outputs
    differs["/cells/*/outputs/*/metadata"] = diff_ignore
    return config


MEANINGFUL = _meaningful_config()
#: A live widget's output: a model id of the kernel session that displayed it, and its repr then.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _widgets_alike(notebook: dict[str, Any]) -> NotebookNode:
    """``notebook`` with every widget output's data reduced to its kind: a copy."""
    cells = []
    for cell in notebook.get("cells", []):
        outputs = [
            {**output, "data": {WIDGET_VIEW: {}}} if WIDGET_VIEW in output.get("data", {}) else output
            for output in cell.get("outputs", [])
        ]
        cells.append({**cell, "outputs": outputs} if "outputs" in cell else cell)
    return nbformat.from_dict({**notebook, "cells": cells})  # nbdime reads fields as attributes


def notebook_diff(
    base: dict[str, Any], notebook: dict[str, Any], *, full: bool = False
) -> list[dict[str, Any]]:
    """nbdime's diff from ``base`` to ``notebook``, as plain JSON data: sources, outputs and
    tags only, or every field with ``full``."""
    if full:
        return to_clean_dicts(nbdime.diff_notebooks(base, notebook))
    meaningful = nbdime_diff(_widgets_alike(base), _widgets_alike(notebook), path="", config=MEANINGFUL)
    return to_clean_dicts(meaningful)


def cell_changes(base: dict[str, Any], diff: list[dict[str, Any]]) -> list[CellChange]:
    """Every cell of both versions, in order, with what the diff did to it."""
    changes = []
    position = base_position = 0
    for status, old, new in _walk(base.get("cells", []), _under(diff, "cells")):
        if status != "added":
            base_position += 1
        if status != "removed":
            position += 1
        where = (position if status != "removed" else None, base_position if status != "added" else None)
        if status == "same":
            changes.append(CellChange("unchanged", old["cell_type"], *where, _marked(" ", old)))
        elif status == "added":
            changes.append(CellChange("added", new["cell_type"], *where, _marked("+", new), _outputs_of(new)))
        elif status == "removed":
            changes.append(CellChange("removed", old["cell_type"], *where, _marked("-", old)))
        else:
            lines, notes = _modified(old, new)
            changes.append(CellChange("modified", old["cell_type"], *where, lines, notes))
    return changes


def notebook_notes(diff: list[dict[str, Any]]) -> list[str]:
    """Changes outside the cells (notebook metadata, format version), one phrase each."""
    return [_field_note(entry) for entry in diff if entry["key"] != "cells"]


# --- reading nbdime's diff -----------------------------------------------------------------------


def _under(diff: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """The diff of the field ``key`` of a patched mapping (empty when it did not change)."""
    return next((e["diff"] for e in diff if e["key"] == key and e["op"] == "patch"), [])


def _walk(items: list[Any], diff: list[dict[str, Any]]) -> Iterator[tuple[str, Any, Any]]:
    """``(status, base item, new item or its diff)`` along a sequence diff, as nbdime applies it:
    keys are positions in ``items``; removals are put before additions at the same position."""
    taken = 0
    ordered = sorted(diff, key=lambda e: (e["key"], e["op"] != "removerange"))
    for entry in ordered:
        key = entry["key"]
        for item in items[taken:key]:
            yield "same", item, None
        taken = max(taken, key)
        if entry["op"] == "addrange":
            for value in entry["valuelist"]:
                yield "added", None, value
        elif entry["op"] == "removerange":
            for item in items[key : key + entry["length"]]:
                yield "removed", item, None
            taken = max(taken, key + entry["length"])
        else:  # patch: the only other operation nbdime emits on sequences
            yield "patched", items[key], entry["diff"]
            taken = max(taken, key + 1)
    for item in items[taken:]:
        yield "same", item, None


def _modified(cell: dict[str, Any], diff: list[dict[str, Any]]) -> tuple[list[tuple[Mark, str]], list[str]]:
    lines: list[tuple[Mark, str]] = []
    for status, old, new in _walk(_source_lines(cell), _under(diff, "source")):
        if status == "same":
            lines.append((" ", old))
        elif status == "added":
            lines.append(("+", new))
        elif status == "removed":
            lines.append(("-", old))
        else:  # a line edited character by character
            edited = "".join(patch(list(old), to_diffentry_dicts(new)))
            if edited.rstrip("\n") == old.rstrip("\n"):
                lines.append((" ", old))  # only its end of line changed
            else:
                lines += [("-", old), ("+", edited)]
    notes = [_field_note(e) for e in diff if e["key"] not in ("source", "outputs")]
    if outputs := _under(diff, "outputs"):
        notes.insert(0, _outputs_note(cell.get("outputs", []), outputs))
    return [(mark, text.rstrip("\n")) for mark, text in lines], notes


def _source_lines(cell: dict[str, Any]) -> list[str]:
    source = cell.get("source", "")
    return "".join(source).splitlines(keepends=True) if isinstance(source, list) else source.splitlines(True)


def _marked(mark: Mark, cell: dict[str, Any]) -> list[tuple[Mark, str]]:
    return [(mark, line.rstrip("\n")) for line in _source_lines(cell)]


def _outputs_note(outputs: list[dict[str, Any]], diff: list[dict[str, Any]]) -> str:
    found: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for status, old, new in _walk(outputs, diff):
        if status == "added":
            found["added"].append(_describe(new))
        elif status == "removed":
            found["removed"].append(_describe(old))
        elif status == "patched":
            found["changed"].append(_describe(old))
    return "outputs " + "; ".join(f"{what}: {', '.join(kinds)}" for what, kinds in found.items() if kinds)


def _outputs_of(cell: dict[str, Any]) -> list[str]:
    outputs = cell.get("outputs", [])
    return [f"outputs: {', '.join(_describe(o) for o in outputs)}"] if outputs else []


def _describe(output: dict[str, Any]) -> str:
    kind = output.get("output_type", "output")
    if kind == "stream":
        return str(output.get("name", "stream"))
    if kind == "error":
        return f"error {output.get('ename', '')}".strip()
    return "+".join(sorted(output.get("data", {}))) or kind


def _field_note(entry: dict[str, Any]) -> str:
    key, op = entry["key"], entry["op"]
    if (
        op == "patch"
        and isinstance(entry["diff"], list)
        and all(isinstance(e["key"], str) for e in entry["diff"])
    ):
        return f"{key} changed: {', '.join(sorted(e['key'] for e in entry['diff']))}"
    return {"add": f"{key} added", "remove": f"{key} removed"}.get(op, f"{key} changed")


# --- the page ------------------------------------------------------------------------------------

_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 70em; color: #1f2328; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1em; margin: 0 0 .4em; }
header p { margin: .2em 0; color: #59636e; }
.cell { border: 1px solid #d1d9e0; border-left-width: 5px; border-radius: 4px; margin: .8em 0;
        padding: .5em .8em; }
.added { border-left-color: #1a7f37; } .removed { border-left-color: #cf222e; }
.modified { border-left-color: #9a6700; } .unchanged { border-left-color: #d1d9e0; color: #59636e; }
pre { margin: .3em 0; font: 13px/1.35 ui-monospace, monospace; overflow-x: auto; }
pre span { display: block; white-space: pre; min-height: 1.35em; }
span.add { background: #dafbe1; } span.del { background: #ffebe9; }
ul.notes { margin: .3em 0; padding-left: 1.2em; color: #59636e; }
summary { cursor: pointer; }
"""
_LINE_CLASS = {"+": "add", "-": "del", " ": "same"}


def render_diff(
    base: dict[str, Any],
    diff: list[dict[str, Any]],
    *,
    title: str,
    description: str,
    switch: tuple[str, str] | None = None,
) -> str:
    """The diff from ``base`` as a complete HTML page; ``title`` and ``description`` head it, and
    ``switch`` (a relative URL and its label) links to the other view of the same diff."""
    changes = cell_changes(base, diff)
    counts = {s: sum(c.status == s for c in changes) for s in ("added", "removed", "modified", "unchanged")}
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n) or "no cells"
    if not diff:
        summary = "no changes"
    body: list[str] = []
    folded: list[CellChange] = []
    for change in [*changes, None]:
        if change is not None and change.status == "unchanged":
            folded.append(change)
            continue
        if folded:
            body.append(_unchanged_html(folded))
            folded = []
        if change is not None:
            body.append(_change_html(change))
    notes = "".join(f"<li>{escape(n)}</li>" for n in notebook_notes(diff))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{escape(title)}</h1>\n<p>{escape(description)}</p>\n"
        f'<p class="summary">cells: {escape(summary)}</p>\n'
        + (f'<p><a class="switch" href="{escape(switch[0])}">{escape(switch[1])}</a></p>\n' if switch else "")
        + (f'<ul class="notes">{notes}</ul>\n' if notes else "")
        + "</header>\n<main>\n"
        + "\n".join(body)
        + "\n</main>\n</body>\n</html>\n"
    )


def _change_html(change: CellChange) -> str:
    if change.status == "removed":
        where = f"cell {change.base_position} of the base"
    else:
        where = f"cell {change.position}"
    notes = "".join(f"<li>{escape(n)}</li>" for n in change.notes)
    return (
        f'<section class="cell {change.status}">\n'
        f"<h2>{escape(where)} · {escape(change.cell_type)} · {change.status}</h2>\n"
        + (f'<ul class="notes">{notes}</ul>\n' if notes else "")
        + _lines_html(change.lines)
        + "</section>"
    )


def _unchanged_html(changes: list[CellChange]) -> str:
    first, last = changes[0].position, changes[-1].position
    label = f"cell {first} unchanged" if first == last else f"cells {first}–{last} unchanged"
    sources = "".join(_lines_html(c.lines) for c in changes)
    return f'<details class="cell unchanged">\n<summary>{label}</summary>\n{sources}</details>'


def _lines_html(lines: list[tuple[Mark, str]]) -> str:
    if not lines:
        return ""
    spans = "".join(
        f'<span class="{_LINE_CLASS[mark]}">{escape(f"{mark} {text}")}</span>' for mark, text in lines
    )
    return f"<pre>{spans}</pre>\n"
