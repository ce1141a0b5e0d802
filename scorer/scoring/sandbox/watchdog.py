"""The watchdog: samples a run's memory and written files from outside, kills it over a limit.

A run's memory is what it holds in RAM, whoever holds it:

- its processes: the proportional set size (PSS) of the process tree, so that pages forked
  processes share are counted once;
- its RAM-backed folders: in the sandbox ``/tmp`` and ``/dev/shm`` are tmpfs, whose files live in
  memory that belongs to no process (a file written and closed is in no PSS). The watchdog reads
  each folder's usage with ``statvfs`` through ``/proc/<pid>/root`` of a process inside the
  sandbox's mount namespace: the blocks used, plus :data:`INODE_COST` per file (an empty file
  holds no block but still costs the kernel an inode and a dentry);
- a page of such a file that a process maps is in its PSS too, so it is counted once: when
  ``smaps_rollup`` shows shared memory mapped (``Pss_Shmem``), the mappings of files on those
  folders' devices (``/proc/<pid>/smaps``) are taken out of the process's share.

Why count rather than size the folders inside the limit (the heap's limit being the memory limit
minus 256 MB of ``/tmp`` and 64 MB of ``/dev/shm``)? That would take 320 MB off every run's heap,
whether it writes a temporary file or not; counting what is used keeps the limit the organiser
wrote for the whole run, and the reason names what used the memory. A cgroup would account
everything in the kernel, but the scorer also runs where it cannot make one (an unprivileged
container, a Dask worker), so the accounting stays with the watchdog, which runs everywhere.

Memory it could not see is refused instead: a System V shared memory segment no process has
attached and a ``memfd`` file held only by a descriptor live on the kernel's internal shm mount,
out of sight from outside the sandbox's IPC namespace, so the sandbox denies ``shmget`` and
``memfd_create`` (a seccomp filter, :data:`~scorer.scoring.sandbox.bwrap.DENIED_SYSCALLS`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from scorer.scoring.sandbox.runner import RunRequest

#: What a file in a tmpfs costs the kernel besides its data: an inode and a dentry (about 1 KiB).
INODE_COST = 1024


@dataclass(frozen=True)
class MemoryUse:
    """A sample of a run's memory: its processes' and its RAM-backed folders' (bytes)."""

    processes: int
    folders: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.processes + sum(self.folders.values())


class Watchdog(threading.Thread):
    """Samples the run's memory and written files; kills it over a limit.

    ``ram_folders`` are the paths, inside the sandbox, of folders whose files are kept in memory
    (the runner's tmpfs mounts); their use counts against the memory limit.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        request: RunRequest,
        ram_folders: Sequence[str] = (),
        interval: float = 0.1,
    ):
        super().__init__(daemon=True, name="coop-watchdog")
        self.process = process
        self.request = request
        self.ram_folders = tuple(ram_folders)
        self.interval = interval
        self.peak_memory = 0
        self.killed_for: str | None = None
        #: The sample that went over the memory limit.
        self.memory_use: MemoryUse | None = None
        self._stop_event = threading.Event()
        self._deadline = time.monotonic() + request.limits.wall_time

    def run(self) -> None:
        root = psutil.Process(self.process.pid)
        ticks = 0
        while not self._stop_event.wait(self.interval):
            use = memory_use(root, self.ram_folders)
            self.peak_memory = max(self.peak_memory, use.total)
            if use.total > self.request.limits.memory:
                self.memory_use = self.memory_use or use
                self._kill("memory")
            elif time.monotonic() > self._deadline:
                self._kill("wall_time")
            elif ticks % 5 == 0 and self.request.folders.disk_usage() > self.request.limits.disk:
                self._kill("disk")
            ticks += 1

    def _kill(self, reason: str) -> None:
        if self.killed_for is None:
            self.killed_for = reason
        kill_group(self.process)

    def stop(self) -> None:
        self._stop_event.set()


def memory_use(root: psutil.Process, ram_folders: Sequence[str] = ()) -> MemoryUse:
    """The memory of ``root``'s process tree and of its RAM-backed folders, each page once."""
    try:
        pids = [root.pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.Error:
        return MemoryUse(0)
    folders, devices = _folders_use(pids, ram_folders)
    return MemoryUse(sum(pss(pid, devices) for pid in pids), folders)


def _folders_use(pids: list[int], ram_folders: Sequence[str]) -> tuple[dict[str, int], set[str]]:
    """Bytes held by each folder, seen by the first process in another mount namespace whose
    folders are not the host's own (bwrap is still setting up before that), and their devices
    as ``/proc/<pid>/smaps`` writes them."""
    if not ram_folders:
        return {}, set()
    host_namespace = os.readlink("/proc/self/ns/mnt")
    host_devices = {_device(os.stat(folder).st_dev) for folder in ram_folders if os.path.isdir(folder)}
    for pid in pids:
        try:
            if os.readlink(f"/proc/{pid}/ns/mnt") == host_namespace:
                continue
            use: dict[str, int] = {}
            devices: set[str] = set()
            for folder in ram_folders:
                path = f"/proc/{pid}/root{folder}"
                device = _device(os.stat(path).st_dev)
                if device in host_devices:
                    raise FileNotFoundError(path)  # the host's folder: the sandbox is not ready
                fs = os.statvfs(path)
                files = fs.f_files - fs.f_ffree
                use[folder] = (fs.f_blocks - fs.f_bfree) * fs.f_frsize + files * INODE_COST
                devices.add(device)
            return use, devices
        except OSError:
            continue
    return {}, set()


def _device(st_dev: int) -> str:
    return f"{os.major(st_dev):02x}:{os.minor(st_dev):02x}"


def pss(pid: int, ram_devices: Set[str] = frozenset()) -> int:
    """A process's PSS, without its share of the mapped files on ``ram_devices`` (counted with
    their folders). Only a process that maps shared memory has its full ``smaps`` read."""
    pss = shmem = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith(b"Pss_Shmem:"):
                    shmem = int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    if shmem and ram_devices:
        with contextlib.suppress(OSError, ValueError):  # gone meanwhile: the whole PSS is counted
            pss -= mapped_pss(pid, ram_devices)
    return pss


def mapped_pss(pid: int, devices: Set[str]) -> int:
    """The PSS of a process's mappings of files on ``devices`` (``major:minor`` in hex)."""
    total, counted = 0, False
    with open(f"/proc/{pid}/smaps", "rb") as handle:
        for line in handle:
            fields = line.split()
            if not fields:
                continue
            if not fields[0].endswith(b":"):  # a mapping: address perms offset device inode path
                counted = len(fields) > 3 and fields[3].decode() in devices
            elif counted and fields[0] == b"Pss:":
                total += int(fields[1]) * 1024
    return total


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
