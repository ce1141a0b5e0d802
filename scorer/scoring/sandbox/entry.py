"""Runs one notebook with papermill; executed *inside* the sandbox.

This file is bound alone into the sandbox, so it imports nothing from ``scorer``.
It reads a job description (JSON) from argv[1], applies resource limits, executes
the notebook with a papermill engine that caps cell output, and reports the outcome
as JSON lines on the file descriptor named by argv[2], which the kernel does not inherit.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import platform
import resource
import sys
import traceback
from typing import Any

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
#: Per machine: the audit architecture a seccomp filter checks, and system call numbers.
SYSCALLS = {
    "x86_64": (0xC000003E, {"shmget": 29, "memfd_create": 319}),
    "aarch64": (0xC00000B7, {"shmget": 194, "memfd_create": 279}),
}
X32_SYSCALL_BIT = 0x40000000
TRUNCATED = "\n[output truncated: this run reached its limit of {limit} bytes of cell output]\n"


def apply_limits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


class SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def deny_syscalls(names: list[str]) -> None:
    """Make the named system calls fail with EPERM for this process and all it starts (a seccomp
    filter). The sandbox denies what would hold memory its watchdog cannot see from outside: a
    System V shared memory segment left detached, a ``memfd`` file kept only by a descriptor."""
    known = SYSCALLS.get(platform.machine())
    if not names or known is None:
        return
    arch, numbers = known
    denied = [numbers[name] for name in names if name in numbers]
    n = len(denied)
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, …|JGE|K, BPF_RET|K
    program = [
        (load, 0, 0, 4),  # seccomp_data.arch
        (jeq, 0, n + 3, arch),  # another ABI (32-bit calls, int 0x80): every call denied
        (load, 0, 0, 0),  # seccomp_data.nr
        (jge, n + 1, 0, X32_SYSCALL_BIT),  # x32 numbers of the same calls: every one denied
        *((jeq, n - i, 0, number) for i, number in enumerate(denied)),
        (ret, 0, 0, 0x7FFF0000),  # SECCOMP_RET_ALLOW
        (ret, 0, 0, 0x00050000 | 1),  # SECCOMP_RET_ERRNO | EPERM
    ]
    filters = (SockFilter * len(program))(*(SockFilter(*op) for op in program))
    prog = SockFprog(len(program), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) or libc.prctl(
        PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0
    ):
        raise OSError(ctypes.get_errno(), "cannot install the seccomp filter")


def pin_platform_kernel() -> None:
    """Start the platform's kernel (``python3``) from the launcher's file, not as ``python -m
    ipykernel_launcher``: the kernel starts in the notebook's folder, where ``-m`` would find a
    participant's ``ipykernel_launcher.py`` first, and that kernel would never answer. Run as a
    file, the launcher has its own folder first on ``sys.path``; IPython adds the notebook's
    folder once the kernel runs, so the notebook still imports its own modules."""
    spec = importlib.util.find_spec("ipykernel_launcher")
    if spec is None or spec.origin is None:
        return
    folder = os.path.join(os.environ.get("JUPYTER_RUNTIME_DIR", "/tmp/jupyter"), "kernels-path")
    os.makedirs(os.path.join(folder, "kernels", "python3"), exist_ok=True)
    kernel = {
        "argv": [sys.executable, spec.origin, "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    with open(os.path.join(folder, "kernels", "python3", "kernel.json"), "w", encoding="utf-8") as handle:
        json.dump(kernel, handle)
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [folder, os.environ.get("JUPYTER_PATH")]))


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
    deny_syscalls(job.get("deny_syscalls", []))
    os.environ.pop("COOP_JOB", None)
    if job["kernel_name"] == "python3":
        pin_platform_kernel()

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
