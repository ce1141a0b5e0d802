"""The bubblewrap sandbox: seen inside as ``/coop/work`` (writable), ``/coop/output`` (writable)
and ``/coop/data`` (the phase inputs, read-only). Nothing else of the host is visible but the
system folders, the platform's Python environment and the challenge's (where the kernel runs),
read-only, each at its host path: no answer keys, no database, no home
folders, no network, no credentials in the environment.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scorer.challenge.spec import RunLimits
from scorer.environments.model import Environment
from scorer.exceptions import SandboxUnavailable
from scorer.scoring.sandbox.runner import ENTRY, Runner, RunRequest

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
#: Memory the watchdog could not count from outside (see watchdog.py): refused in the sandbox.
DENIED_SYSCALLS = ("shmget", "memfd_create")
SANDBOX_UID_RANGE = (200_000, 260_000)
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


class BwrapRunner(Runner):
    """bubblewrap: new namespaces (no network), read-only system, an unprivileged user."""

    ram_folders = ("/tmp", "/dev/shm")

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
        job["deny_syscalls"] = list(DENIED_SYSCALLS)
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
        argv += system_binds() + _scratch_mounts(request.limits)
        argv += self._environment_binds(request.environment)
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

    def _environment_binds(self, environment: Environment | None) -> list[str]:
        """The interpreter and the virtual environment papermill runs in, and the challenge
        environment the kernel runs from with its interpreter: read-only, minus hidden packages."""
        roots = python_roots()
        if environment:
            roots = _outermost([*roots, *_environment_roots(environment)])
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


def _scratch_mounts(limits: RunLimits) -> list[str]:
    """Fresh /proc and /dev, and small private tmpfs for /tmp and /dev/shm (RAM, so capped, and
    counted against the memory limit by the watchdog: :attr:`BwrapRunner.ram_folders`)."""
    tmp_size = min(int(limits.disk), 256 * 1024**2)
    return [
        *("--proc", "/proc", "--dev", "/dev"),
        *("--perms", "1777", "--size", str(tmp_size), "--tmpfs", "/tmp"),
        *("--perms", "1777", "--size", str(64 * 1024**2), "--tmpfs", "/dev/shm"),
    ]


def system_binds() -> list[str]:
    """The host's system folders and the few /etc files programs need, read-only (what every
    sandbox here sees: scored runs and environment builds)."""
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


def python_roots() -> list[Path]:
    """The interpreter's installation and the virtual environment, outside /usr."""
    roots = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
    return _outermost([*roots, Path(sysconfig.get_paths()["purelib"]).resolve()])


def _environment_roots(environment: Environment) -> list[Path]:
    """A challenge environment and the interpreter it was made from; the environment at its own
    path too, which its kernelspec names, when that path goes through a link."""
    return [environment.path.absolute(), environment.path.resolve(), environment.base_prefix()]


def _outermost(paths: list[Path]) -> list[Path]:
    """The folders outside /usr, without those inside another one."""
    kept = [p for p in sorted(set(paths)) if not str(p).startswith("/usr/")]
    return [p for p in kept if not any(p != q and p.is_relative_to(q) for q in kept)]
