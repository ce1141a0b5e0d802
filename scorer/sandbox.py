"""Running one notebook in a sandbox (bubblewrap), watched from outside.

A run gets a host folder with three parts, seen inside the sandbox as:
``/coop/work`` (the sanitized checkout, writable), ``/coop/output`` (predictions and the
executed notebook, writable) and ``/coop/data`` (the phase inputs, read-only). Nothing else of the host
is visible but the system folders and the Python environment, read-only: no answer keys,
no database, no home folders, no network, no credentials in the environment.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from scorer.config import ScorerSettings
from scorer.exceptions import SandboxUnavailable
from scorer.spec import Challenge, RunLimits

ENTRY = Path(__file__).with_name("sandbox_entry.py")
#: Where the run's folders appear inside the sandbox.
MOUNT = Path("/coop")
#: Not --unshare-all: as root it adds a user namespace in which our uid is unmapped.
NAMESPACES = (
    "--unshare-pid",
    "--unshare-net",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--die-with-parent",
    "--new-session",
)
#: Folders the sandbox has before the Python environment is bound in.
PRESENT = {Path(p) for p in ("/", "/usr", "/etc", "/proc", "/dev", "/tmp", "/dev/shm")}
BWRAP = "bwrap"
SANDBOX_UID_RANGE = (200_000, 260_000)
#: Extra address space on top of the memory limit: kernels reserve far more than they touch.
ADDRESS_SPACE_HEADROOM = 4 * 1024**3
PASSED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ")
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "ssl",
    "fonts",
    "mime.types",
    "nsswitch.conf",
    "host.conf",
)


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
        total = 0
        for base in (self.work, self.output):
            for dirpath, _dirs, files in os.walk(base):
                for name in files:
                    try:
                        total += os.lstat(os.path.join(dirpath, name)).st_size
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


@dataclass
class RunOutcome:
    """What happened, as seen from outside the sandbox."""

    report: dict[str, Any] | None  # the entry's final report, None if it never finished
    started: bool  # the entry started inside the sandbox
    returncode: int | None
    wall_time: float
    peak_memory: int  # bytes, whole process tree
    killed_for: str | None = None  # "wall_time" | "memory" | "disk"
    cell: int | None = None  # 1-based position of the last cell that started
    log_tail: str = ""
    sandboxed: bool = True
    parameters: dict[str, Any] = field(default_factory=dict)


class Watchdog(threading.Thread):
    """Samples the run's process tree and written files; kills it over a limit."""

    def __init__(self, process: subprocess.Popen[bytes], request: RunRequest, interval: float = 0.1):
        super().__init__(daemon=True, name="coop-watchdog")
        self.process = process
        self.request = request
        self.interval = interval
        self.peak_memory = 0
        self.killed_for: str | None = None
        self._stop_event = threading.Event()
        self._deadline = time.monotonic() + request.limits.wall_time

    def run(self) -> None:
        root = psutil.Process(self.process.pid)
        ticks = 0
        while not self._stop_event.wait(self.interval):
            rss = _tree_memory(root)
            self.peak_memory = max(self.peak_memory, rss)
            if rss > self.request.limits.memory:
                self._kill("memory")
            elif time.monotonic() > self._deadline:
                self._kill("wall_time")
            elif ticks % 5 == 0 and self.request.folders.disk_usage() > self.request.limits.disk:
                self._kill("disk")
            ticks += 1

    def _kill(self, reason: str) -> None:
        if self.killed_for is None:
            self.killed_for = reason
        _kill_group(self.process)

    def stop(self) -> None:
        self._stop_event.set()


def _tree_memory(root: psutil.Process) -> int:
    """Proportional set size of the tree: forked processes share pages, RSS would count them twice."""
    try:
        pids = [root.pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.Error:
        return 0
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError):
            continue
    return total


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Runner:
    """Runs the entry script on a request; subclasses say how it is isolated."""

    sandboxed = True

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
        watchdog = Watchdog(process, request)
        watchdog.start()
        reports, log_tail = _collect(process, read_fd)
        returncode = process.wait()
        _kill_group(process)  # nothing the notebook started outlives the run
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
        return env


class BwrapRunner(Runner):
    """bubblewrap: new namespaces (no network), read-only system, an unprivileged user."""

    def __init__(self, bwrap: str = BWRAP, hidden_packages: Sequence[str] = ()) -> None:
        found = shutil.which(bwrap)
        if not found:
            raise SandboxUnavailable(
                "bubblewrap (bwrap) is not installed, so untrusted notebooks cannot be sandboxed; "
                "install the `bubblewrap` package or explicitly allow unsandboxed runs"
            )
        self.bwrap = found
        self.hidden = [path for name in hidden_packages if (path := _package_folder(name))]
        self.as_root = os.geteuid() == 0
        self.uid = secrets.randbelow(SANDBOX_UID_RANGE[1] - SANDBOX_UID_RANGE[0]) + SANDBOX_UID_RANGE[0]

    def inside(self, request: RunRequest, part: str) -> Path:
        return MOUNT / part

    def inputs_path(self, request: RunRequest) -> Path:
        return MOUNT / "data"

    def job(self, request: RunRequest) -> dict[str, Any]:
        job = super().job(request)
        job["rlimits"]["NPROC"] = request.limits.processes
        return job

    def prepare(self, request: RunRequest) -> None:
        if not self.as_root:
            return
        for base in (request.folders.work, request.folders.output):
            for dirpath, dirs, files in os.walk(base):
                for name in [*dirs, *files]:
                    os.lchown(os.path.join(dirpath, name), self.uid, self.uid)
            os.chown(base, self.uid, self.uid)

    def argv(self, request: RunRequest, job_file: Path, report_fd: int) -> list[str]:
        # Order matters: later mounts go on top of earlier ones (a venv under /tmp must come
        # after the /tmp tmpfs, or the tmpfs hides it).
        argv = [self.bwrap, *NAMESPACES, "--hostname", "sandbox", "--clearenv"]
        argv += _system_binds() + _scratch_mounts(request.limits) + self._environment_binds()
        argv += [
            *("--perms", "0755", "--dir", str(MOUNT)),
            *("--bind", str(request.folders.work), f"{MOUNT}/work"),
            *("--bind", str(request.folders.output), f"{MOUNT}/output"),
            *("--ro-bind", str(request.inputs), f"{MOUNT}/data"),
            *("--perms", "0755", "--dir", f"{MOUNT}/job"),
            *("--ro-bind", str(job_file), f"{MOUNT}/job/job.json"),
            *("--ro-bind", str(ENTRY), f"{MOUNT}/job/entry.py"),
            *("--chdir", f"{MOUNT}/work"),
        ]
        for key, value in self.env(request).items():
            argv += ["--setenv", key, value]
        command = [sys.executable, "-I", f"{MOUNT}/job/entry.py", f"{MOUNT}/job/job.json", str(report_fd)]
        if self.as_root:  # drop to a uid of our own; setpriv needs these two capabilities to do it
            drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"]
            argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", *drop]
            argv += ["--no-new-privs", "--inh-caps=-all", *command]
        else:
            argv += ["--unshare-user", "--disable-userns", "--", *command]
        return argv

    def _environment_binds(self) -> list[str]:
        """The interpreter and the virtual environment, read-only, minus hidden packages."""
        roots = _python_roots()
        argv: list[str] = []
        # bwrap makes missing parents of a mount point mode 0700: make ours traversable first.
        for path in sorted({p for root in roots for p in root.parents} - PRESENT):
            argv += ["--perms", "0755", "--dir", str(path)]
        for path in roots:
            argv += ["--ro-bind", str(path), str(path)]
        for path in self.hidden:
            argv += ["--tmpfs", str(path)]
        return argv

    def env(self, request: RunRequest) -> dict[str, str]:
        env = super().env(request)
        env.update(
            {
                "HOME": "/tmp",
                "USER": "participant",
                "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
                "JUPYTER_CONFIG_DIR": "/tmp/.jupyter",
                "IPYTHONDIR": "/tmp/.ipython",
            }
        )
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


def make_runner(
    mode: str, *, allow_unsandboxed: bool, bwrap: str = BWRAP, hidden_packages: Sequence[str] = ()
) -> Runner:
    """``mode`` is "bwrap", "none" or "auto" (bwrap when installed)."""
    if mode == "none" or (mode == "auto" and shutil.which(bwrap) is None):
        if not allow_unsandboxed:
            why = (
                "the scorer's sandbox setting is `none`" if mode == "none" else "bubblewrap is not installed"
            )
            raise SandboxUnavailable(
                f"refusing to run untrusted notebooks without a sandbox: {why}; install "
                "`bubblewrap`, or allow unsandboxed runs in challenge.yaml (allow_unsandboxed: true) "
                "or with --allow-unsandboxed"
            )
        return UnsandboxedRunner()
    return BwrapRunner(bwrap, hidden_packages)


def _collect(process: subprocess.Popen[bytes], read_fd: int) -> tuple[list[dict[str, Any]], str]:
    """Read the report pipe and keep the last 16 KiB of the run's own log."""
    tail = bytearray()

    def drain() -> None:
        assert process.stdout is not None
        for chunk in iter(lambda: process.stdout.read(65536), b""):
            tail.extend(chunk)
            del tail[:-16384]

    reader = threading.Thread(target=drain, daemon=True)
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


def _scratch_mounts(limits: RunLimits) -> list[str]:
    """Fresh /proc and /dev, and small private tmpfs for /tmp and /dev/shm (RAM, so capped)."""
    tmp_size = min(int(limits.disk), 256 * 1024**2)
    return [
        *("--proc", "/proc", "--dev", "/dev"),
        *("--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp"),
        *("--perms", "1777", "--size", str(64 * 1024**2), "--tmpfs", "/dev/shm"),
    ]


def _system_binds() -> list[str]:
    argv: list[str] = ["--ro-bind", "/usr", "/usr", "--perms", "0755", "--dir", "/etc"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    for name in ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return argv


def _package_folder(name: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _python_roots() -> list[Path]:
    """The interpreter's installation and the virtual environment, outside /usr."""
    roots = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    roots.add(Path(sysconfig.get_paths()["purelib"]).resolve())
    kept = [p for p in sorted(roots) if not str(p).startswith("/usr/")]
    return [p for p in kept if not any(p != q and p.is_relative_to(q) for q in kept)]


def runner_for(settings: ScorerSettings, challenge: Challenge) -> Runner:
    """The sandbox this challenge's notebooks run in; :class:`SandboxUnavailable` when none
    is available and unsandboxed runs were not explicitly allowed."""
    return make_runner(
        settings.sandbox,
        allow_unsandboxed=settings.allow_unsandboxed or challenge.allow_unsandboxed,
        bwrap=settings.bwrap,
        hidden_packages=settings.hidden_packages,
    )
