"""Turning what happened in the sandbox into a failure class a participant understands."""

from __future__ import annotations

import json
import signal
from typing import Any

from scorer.exceptions import (
    ExecutionTimeout,
    InfrastructureError,
    MemoryExceeded,
    NotebookException,
)
from scorer.sandbox import RunOutcome
from scorer.spec import RunLimits


def check_outcome(outcome: RunOutcome, limits: RunLimits, executed: bytes | None) -> None:
    """Raise the :class:`SubmissionFailure` the run ended in; return if it ran to the end."""
    cell = _cell_phrase(executed)
    memory = limits.memory.human_readable(separator=" ")
    details: dict[str, Any] = {"log_tail": outcome.log_tail[-4000:]}
    if outcome.killed_for == "memory":
        raise MemoryExceeded(f"the run used more than its {memory} of memory{cell}", details=details)
    if outcome.killed_for == "wall_time":
        raise ExecutionTimeout(
            f"the run took longer than the phase's limit of {limits.wall_time:g} s{cell}", details=details
        )
    if outcome.killed_for == "disk":
        raise NotebookException(
            f"the run wrote more than the {limits.disk.human_readable(separator=' ')} of files the "
            f"phase allows{cell}",
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
    _raise_for_error(report["error"], limits, memory, cell, outcome, details)


def _raise_for_error(
    error: dict[str, Any],
    limits: RunLimits,
    memory: str,
    cell: str,
    outcome: RunOutcome,
    details: dict[str, Any],
) -> None:
    kind = error.get("kind")
    if kind == "cell_error":
        details.update({k: error.get(k) for k in ("ename", "evalue", "traceback")})
        if error.get("ename") == "MemoryError":
            raise MemoryExceeded(
                f"the notebook ran out of its {memory} of memory (MemoryError){cell}", details=details
            )
        raise NotebookException(f"{error.get('ename')}: {error.get('evalue')}{cell}", details=details)
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


def failing_cell(executed: bytes | None) -> int | None:
    """1-based position, in the participant's notebook, of the cell that was running or failed."""
    if not executed:
        return None
    try:
        cells = json.loads(executed)["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    injected = next(
        (i for i, c in enumerate(cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])),
        None,
    )
    for index, cell in enumerate(cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if status in {"running", "failed"}:
            shift = 1 if injected is not None and index > injected else 0
            return index + 1 - shift
    return None


def run_time(executed: bytes | None) -> float:
    """The notebook's own run time: the sum of its cells' durations (kernel start excluded)."""
    if not executed:
        return 0.0
    cells = json.loads(executed).get("cells", [])
    return float(sum(c.get("metadata", {}).get("papermill", {}).get("duration") or 0 for c in cells))


def _cell_phrase(executed: bytes | None) -> str:
    index = failing_cell(executed)
    return f" (in cell {index})" if index else ""
