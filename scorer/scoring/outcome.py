"""Turning what happened in the sandbox into a failure class a participant understands."""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from typing import Any

from pydantic import ByteSize

from scorer.challenge.spec import RunLimits
from scorer.exceptions import (
    ExecutionTimeout,
    InfrastructureError,
    MemoryExceeded,
    NotebookException,
)
from scorer.scoring.safe_read import printable
from scorer.scoring.sandbox.runner import RunOutcome
from scorer.scoring.sanitize import PAPERMILL_TAGS, CellLabel

#: How much of a cell's first line a reason quotes.
QUOTED = 60
#: What a reason adds when a cell that still uses the platform's widgets fails.
WIDGETS_HINT = (
    "; the platform's widgets do not run when a notebook is scored: keep them in cells of their "
    "own (only imports from coop_widgets and widgets shown), which the scorer leaves out"
)


def check_outcome(
    outcome: RunOutcome, limits: RunLimits, executed: bytes | None, labels: Sequence[CellLabel]
) -> None:
    """Raise the :class:`SubmissionFailure` the run ended in; return if it ran to the end.
    ``labels`` name the cells that ran as the participant sees them (:class:`Sanitized`)."""
    cell = _cell_phrase(outcome.cell or failing_cell(executed), labels)
    memory = size_text(limits.memory)
    details: dict[str, Any] = {"log_tail": outcome.log_tail[-4000:]}
    if outcome.killed_for == "memory":
        raise MemoryExceeded(
            f"the run used more than its {memory} of memory{_memory_phrase(outcome)}{cell}", details=details
        )
    if outcome.killed_for == "wall_time":
        raise ExecutionTimeout(
            f"the run took longer than the phase's limit of {limits.wall_time:g} s{cell}", details=details
        )
    if outcome.killed_for == "disk":
        raise NotebookException(
            f"the run wrote more than the {size_text(limits.disk)} of files the phase allows{cell}",
            details=details,
        )
    if not outcome.started:
        raise InfrastructureError(
            "the sandbox could not start; the run will be retried",
            f"sandbox failed to start (exit {outcome.returncode}): {outcome.log_tail[-2000:]}",
        )
    report = outcome.report
    if report is None:
        how = _exit_phrase(outcome.returncode)
        raise NotebookException(
            f"the process running the notebook was {how}{cell}: a notebook must not kill the "
            "processes around it or exit the interpreter",
            details=details,
        )
    if report.get("status") == "ok":
        return
    _raise_for_error(report["error"], limits, memory, cell, outcome, details, executed)


def _raise_for_error(
    error: dict[str, Any],
    limits: RunLimits,
    memory: str,
    cell: str,
    outcome: RunOutcome,
    details: dict[str, Any],
    executed: bytes | None,
) -> None:
    kind = error.get("kind")
    if kind == "cell_error":
        details.update({k: error.get(k) for k in ("ename", "evalue", "traceback")})
        if error.get("ename") == "MemoryError":
            raise MemoryExceeded(
                f"the notebook ran out of its {memory} of memory (MemoryError){cell}", details=details
            )
        raise NotebookException(_error_text(error, executed) + cell + _hint(error), details=details)
    if kind == "cell_timeout":
        raise ExecutionTimeout(
            f"a cell ran longer than the per-cell limit of {limits.cell_time:g} s{cell}", details=details
        )
    if kind == "dead_kernel":
        if outcome.peak_memory > 0.9 * limits.memory:
            raise MemoryExceeded(f"the kernel died near its {memory} memory limit{cell}", details=details)
        raise NotebookException(
            f"the kernel died{cell} (a crash such as a segmentation fault, or os._exit)", details=details
        )
    raise InfrastructureError(
        "the notebook runner failed; the run will be retried", f"runner error: {error!r}"
    )


def _memory_phrase(outcome: RunOutcome) -> str:
    """`` (processes 700 MiB, files in /tmp 250 MiB: files there are kept in memory)``: what held
    the memory when the watchdog stopped the run; folders holding less than 1 MiB go unsaid."""
    use = outcome.memory_use
    if use is None:
        return ""
    folders = [f"files in {folder} {_mib(size)}" for folder, size in use.folders.items() if size >= 1024**2]
    if not folders:
        return f" (processes {_mib(use.processes)})"
    return f" (processes {_mib(use.processes)}, {', '.join(folders)}: files there are kept in memory)"


def _mib(size: int) -> str:
    return f"{size / 1024**2:.0f} MiB"


def size_text(size: ByteSize) -> str:
    """A limit as the organiser likely wrote it: binary units when exact, else decimal ones."""
    binary = size % 1024 == 0 and size >= 1024
    return size.human_readable(decimal=not binary, separator=" ").replace(".0 ", " ")


def _exit_phrase(returncode: int | None) -> str:
    if returncode is None:
        return "lost"
    code = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else None
    if code:
        try:
            return f"killed by {signal.Signals(code).name}"
        except ValueError:
            pass
    return f"ended abruptly (exit status {returncode})"


def _error_text(error: dict[str, Any], executed: bytes | None) -> str:
    """``ename: evalue``; when the kernel gave none (IPython's ``UsageError`` of an unknown magic
    is only printed, so papermill reports an empty ``CellExecutionError``), what the failing cell
    printed to stderr."""
    ename, evalue = str(error.get("ename") or ""), str(error.get("evalue") or "")
    if evalue or ename != "CellExecutionError":
        return printable(f"{ename}: {evalue}")
    printed = _failing_cell_stderr(executed).strip()
    return printable(printed[-1000:]) if printed else "the cell failed without an error message"


def _hint(error: dict[str, Any]) -> str:
    widgets = error.get("ename") == "ModuleNotFoundError" and "coop_widgets" in str(error.get("evalue"))
    return WIDGETS_HINT if widgets else ""


def _failing_cell_stderr(executed: bytes | None) -> str:
    """What the cell papermill marked failed wrote to stderr."""
    for cell in _cells(executed):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "failed":
            return "".join(
                _text(output.get("text", ""))
                for output in cell.get("outputs", [])
                if isinstance(output, dict) and output.get("name") == "stderr"
            )
    return ""


def _text(value: object) -> str:
    return "".join(str(v) for v in value) if isinstance(value, list) else str(value)


def failing_cell(executed: bytes | None) -> int | None:
    """From the executed notebook: 1-based position, among the cells that ran (papermill's own
    not counted), of the cell papermill marked running or failed (used when the run reported no
    cell of its own)."""
    added = 0
    for index, cell in enumerate(_cells(executed)):
        metadata = cell.get("metadata", {})
        if set(metadata.get("tags", [])) & PAPERMILL_TAGS:
            added += 1
        elif metadata.get("papermill", {}).get("status") in {"running", "failed"}:
            return index + 1 - added
    return None


def run_time(executed: bytes | None) -> float:
    """The notebook's own run time: the sum of its cells' durations (kernel start excluded)."""
    total = 0.0
    for cell in _cells(executed):
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if isinstance(duration, int | float):
            total += duration
    return total


def _cells(executed: bytes | None) -> list[dict[str, Any]]:
    """The executed notebook's cells; nothing when it is missing or not a notebook."""
    if not executed:
        return []
    try:
        cells = json.loads(executed)["cells"]
    except (ValueError, KeyError, TypeError):
        return []
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def _cell_phrase(index: int | None, labels: Sequence[CellLabel]) -> str:
    """`` (in cell 14: "Leaderboard()")``: the cell that ran ``index``-th (from 1), as JupyterLab
    numbers it in the participant's notebook, with its first line."""
    if not index or not 1 <= index <= len(labels):
        return ""
    label = labels[index - 1]
    line = printable(label.first_line)
    line = line if len(line) <= QUOTED else line[: QUOTED - 1] + "…"
    return f' (in cell {label.position}: "{line}")' if line else f" (in cell {label.position})"
