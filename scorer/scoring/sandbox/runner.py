"""Running one notebook in a separate process, watched from outside: the run's folders, the
request, the outcome, and the :class:`Runner` template that sandboxes specialise.

A run gets a host folder with three parts: ``work`` (the sanitized checkout, writable),
``output`` (predictions and the executed notebook, writable) and the phase inputs (read-only).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from scorer.challenge.spec import RunLimits
from scorer.environments.model import KERNEL_NAME, Environment
from scorer.scoring.sandbox.watchdog import MemoryUse, Watchdog, kill_group

ENTRY = Path(__file__).with_name("entry.py")
#: Extra address space on top of the memory limit: kernels reserve far more than they touch.
ADDRESS_SPACE_HEADROOM = 4 * 1024**3
#: The least a file or folder takes on disk, counted against the disk limit.
BLOCK = 4096
PASSED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ")
#: The kernel a notebook runs in when its phase declares no environment: the platform's own.
PLATFORM_KERNEL = "python3"


@dataclass(frozen=True)
class RunFolders:
    """The host side of a run: ``work`` and ``output`` are writable inside the sandbox."""

    root: Path
    work: Path
    output: Path
    job: Path

    @classmethod
    def create(cls, root: Path) -> RunFolders:
        folders = cls(root, root / "work", root / "output", root / "job")
        for path in (folders.work, folders.output, folders.job):
            path.mkdir(parents=True, exist_ok=True)
        return folders

    def disk_usage(self) -> int:
        """Bytes of the writable parts; a file or folder counts at least :data:`BLOCK`, what it
        takes on disk (else a run could make millions of empty files for nothing)."""
        total = 0
        for base in (self.work, self.output):
            for dirpath, dirs, files in os.walk(base):
                total += BLOCK * len(dirs)
                for name in files:
                    try:
                        total += max(os.lstat(os.path.join(dirpath, name)).st_size, BLOCK)
                    except OSError:
                        continue
        return total


@dataclass(frozen=True)
class RunRequest:
    folders: RunFolders
    notebook: str  # path relative to ``folders.work``
    parameters: dict[str, Any]  # the phase's; the runner adds inputs_dir and predictions_path
    inputs: Path
    limits: RunLimits
    predictions_file: str
    #: The challenge environment the kernel runs from; None: the platform's own Python.
    environment: Environment | None = None

    @property
    def kernel_name(self) -> str:
        return KERNEL_NAME if self.environment else PLATFORM_KERNEL


@dataclass
class RunOutcome:
    """What happened, as seen from outside the sandbox."""

    report: dict[str, Any] | None  # the entry's final report, None if it never finished
    started: bool  # the entry started inside the sandbox
    returncode: int | None
    wall_time: float
    peak_memory: int  # bytes, whole process tree
    killed_for: str | None = None  # "wall_time" | "memory" | "disk"
    memory_use: MemoryUse | None = None  # what held the memory when the run went over its limit
    cell: int | None = None  # 1-based position of the last cell that started
    log_tail: str = ""
    sandboxed: bool = True
    parameters: dict[str, Any] = field(default_factory=dict)


class Runner:
    """Runs the entry script on a request; subclasses say how it is isolated."""

    sandboxed = True
    #: Folders, as the notebook sees them, whose files are kept in memory: counted as memory.
    ram_folders: tuple[str, ...] = ()

    def run(self, request: RunRequest) -> RunOutcome:
        job = self.job(request)
        job_file = request.folders.job / "job.json"
        job_file.write_text(json.dumps(job), encoding="utf-8")
        self.prepare(request)
        read_fd, write_fd = os.pipe()
        argv = self.argv(request, job_file, write_fd)
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env(request),
                cwd=request.folders.root,
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        watchdog = Watchdog(process, request, self.ram_folders)
        watchdog.start()
        reports, log_tail = _collect(process, read_fd)
        returncode = process.wait()
        kill_group(process)  # nothing the notebook started outlives the run
        watchdog.stop()
        watchdog.join()
        finished = [r for r in reports if r.get("event") == "finished"]
        cells = [r["cell"] for r in reports if r.get("event") == "cell" and isinstance(r.get("cell"), int)]
        return RunOutcome(
            report=finished[-1] if finished else None,
            started=any(r.get("event") == "started" for r in reports),
            returncode=returncode,
            wall_time=time.monotonic() - started,
            peak_memory=watchdog.peak_memory,
            killed_for=watchdog.killed_for,
            memory_use=watchdog.memory_use,
            cell=cells[-1] if cells else None,
            log_tail=log_tail,
            sandboxed=self.sandboxed,
            parameters=job["parameters"],
        )

    def job(self, request: RunRequest) -> dict[str, Any]:
        limits = request.limits
        rlimits = {
            "AS": int(limits.memory) + ADDRESS_SPACE_HEADROOM,
            "FSIZE": int(limits.disk),
            "CORE": 0,
        }
        return {
            "input": str(self.inside(request, "work") / request.notebook),
            "output": str(self.inside(request, "output") / "executed.ipynb"),
            "cwd": str((self.inside(request, "work") / request.notebook).parent),
            "parameters": {
                **request.parameters,
                "inputs_dir": str(self.inputs_path(request)),
                "predictions_path": str(self.inside(request, "output") / request.predictions_file),
            },
            "kernel_name": request.kernel_name,
            "cell_timeout": limits.cell_time,
            "output_cap": int(limits.output),
            "rlimits": rlimits,
        }

    def inside(self, request: RunRequest, part: str) -> Path:
        """Where a part of the run folder is seen by the notebook."""
        return getattr(request.folders, part)

    def inputs_path(self, request: RunRequest) -> Path:
        return request.inputs

    def prepare(self, request: RunRequest) -> None:
        """Hook: make the run folders usable by the sandbox's user."""

    def argv(self, request: RunRequest, job_file: Path, report_fd: int) -> list[str]:
        raise NotImplementedError

    def env(self, request: RunRequest) -> dict[str, str]:
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "PYTHONNOUSERSITE": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        env.update({k: os.environ[k] for k in PASSED_ENV if k in os.environ})
        if request.environment:  # papermill stays in our Python; it finds the kernel here
            env["JUPYTER_PATH"] = str(request.environment.jupyter_path)
        return env


class UnsandboxedRunner(Runner):
    """No isolation at all: only for challenges whose organiser explicitly allowed it."""

    sandboxed = False

    def argv(self, request: RunRequest, job_file: Path, report_fd: int) -> list[str]:
        return [sys.executable, "-I", str(ENTRY), str(job_file), str(report_fd)]

    def env(self, request: RunRequest) -> dict[str, str]:
        env = super().env(request)
        runtime = request.folders.root / "home"
        runtime.mkdir(exist_ok=True)
        env.update({"HOME": str(runtime), "JUPYTER_RUNTIME_DIR": str(runtime / "jupyter")})
        return env


def _collect(process: subprocess.Popen[bytes], read_fd: int) -> tuple[list[dict[str, Any]], str]:
    """Read the report pipe and keep the last 16 KiB of the run's own log."""
    tail = bytearray()

    def drain(log: IO[bytes]) -> None:
        for chunk in iter(lambda: log.read(65536), b""):
            tail.extend(chunk)
            del tail[:-16384]

    assert process.stdout is not None
    reader = threading.Thread(target=drain, args=(process.stdout,), daemon=True)
    reader.start()
    reports = []
    with os.fdopen(read_fd, "rb") as pipe:
        for line in pipe.read(1 << 20).splitlines():
            try:
                reports.append(json.loads(line))
            except ValueError:
                continue
    reader.join(timeout=5)
    return reports, tail.decode("utf-8", "replace")
