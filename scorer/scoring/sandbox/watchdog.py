"""The watchdog: samples a run's process tree and written files, kills it over a limit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from scorer.scoring.sandbox.runner import RunRequest


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
        kill_group(self.process)

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


def kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
