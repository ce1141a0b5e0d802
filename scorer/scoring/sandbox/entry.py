"""Runs one notebook with papermill; executed *inside* the sandbox.

This file is bound alone into the sandbox, so it imports nothing from ``scorer``.
It reads a job description (JSON) from argv[1], applies resource limits, executes
the notebook with a papermill engine that caps cell output, and reports the outcome
as JSON lines on the file descriptor named by argv[2], which the kernel does not inherit.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import sys
import traceback
from typing import Any

PR_SET_DUMPABLE = 4
TRUNCATED = "\n[output truncated: this run reached its limit of {limit} bytes of cell output]\n"


def apply_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


def output_size(content: dict[str, Any]) -> int:
    """Bytes an output adds to the notebook, measured without copying it."""
    if "text" in content:
        return len(content["text"])
    if "data" in content:
        return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in content["data"].values())
    return sum(len(line) for line in content.get("traceback", [])) + len(str(content.get("evalue", "")))


def participant_position(cells: list[Any], index: int) -> int:
    """1-based position of cell ``index`` in the notebook the participant wrote."""
    added = sum(
        1
        for cell in cells[:index]
        if {"injected-parameters", "papermill-error-cell-tag"} & set(cell.get("metadata", {}).get("tags", []))
    )
    return index + 1 - added


def make_engine(output_cap: int, report: Any) -> type:
    from nbformat.v4 import new_output
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class CappedClient(PapermillNotebookClient):
        """Keeps at most ``output_cap`` bytes of outputs, then one truncation notice."""

        kept = 0
        truncated = False

        def output(self, outs, msg, display_id, cell_index):  # noqa: ANN001
            size = output_size(msg.get("content", {}))
            if self.kept + size <= output_cap:
                self.kept += size
                return super().output(outs, msg, display_id, cell_index)
            if not self.truncated:
                self.truncated = True
                notice = TRUNCATED.format(limit=output_cap)
                outs.append(new_output("stream", name="stderr", text=notice))
            return None

    class CappedEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,  # noqa: ANN001
            kernel_name,  # noqa: ANN001
            start_timeout=60,  # noqa: ANN001
            execution_timeout=None,  # noqa: ANN001
            **kwargs,
        ):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(
                kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
            )

            def cell_started(cell: Any, cell_index: int) -> None:
                position = participant_position(nb_man.nb.cells, cell_index)
                report.write(json.dumps({"event": "cell", "cell": position}) + "\n")

            return CappedClient(nb_man, on_cell_start=cell_started, **final).execute()

    return CappedEngine


def describe(exc: BaseException) -> dict[str, Any]:
    """Turn what papermill or nbclient raised into a plain report."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return {
            "kind": "cell_error",
            "cell_index": exc.cell_index,
            "exec_count": exc.exec_count,
            "ename": exc.ename,
            "evalue": str(exc.evalue)[:2000],
            "traceback": [str(line)[:2000] for line in exc.traceback[-20:]],
        }
    if isinstance(exc, CellTimeoutError):
        return {"kind": "cell_timeout", "message": str(exc)[:2000]}
    if isinstance(exc, DeadKernelError):
        return {"kind": "dead_kernel", "message": str(exc)[:2000]}
    if isinstance(exc, RuntimeError) and "Kernel didn't respond" in str(exc):
        return {"kind": "kernel_start", "message": str(exc)[:2000]}
    return {
        "kind": "internal",
        "ename": type(exc).__name__,
        "message": str(exc)[:2000],
        "traceback": traceback.format_exception(exc)[-10:],
    }


def main() -> int:
    report_fd = int(sys.argv[2])
    os.set_inheritable(report_fd, False)
    report = os.fdopen(report_fd, "w", buffering=1)
    with contextlib.suppress(OSError, AttributeError):  # the kernel shares our uid: hide our fds
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    report.write(json.dumps({"event": "started"}) + "\n")
    with open(sys.argv[1], encoding="utf-8") as handle:
        job = json.load(handle)
    apply_limits(job["rlimits"])
    os.environ.pop("COOP_JOB", None)

    import papermill
    from papermill.engines import papermill_engines

    papermill_engines.register("coop", make_engine(int(job["output_cap"]), report))
    outcome: dict[str, Any] = {"event": "finished", "status": "ok"}
    try:
        papermill.execute_notebook(
            job["input"],
            job["output"],
            parameters=job["parameters"],
            engine_name="coop",
            kernel_name=job["kernel_name"],
            language="python",
            cwd=job["cwd"],
            execution_timeout=job["cell_timeout"],
            start_timeout=job.get("start_timeout", 60),
            progress_bar=False,
            request_save_on_cell_execute=True,
        )
    except BaseException as exc:  # every failure is reported, none is raised
        outcome = {"event": "finished", "status": "error", "error": describe(exc)}
    report.write(json.dumps(outcome) + "\n")
    report.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
