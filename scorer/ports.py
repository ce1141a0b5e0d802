"""Loopback ports for programs that must be told their port before they start.

A port found by binding port 0 and closing the socket is free only for that instant: the kernel
gives the same number to the next program that binds port 0 (a Dask worker, a kernel's ZeroMQ
sockets), and a hub told to use it then cannot bind, or sends its requests to whoever took it.
A program we run in-process gets a listening socket instead. Where a program must be given its
port in advance (JupyterHub, its proxy, the services and servers it starts), the port comes
from :func:`hold`, which takes it

- outside the kernel's ephemeral range (``net.ipv4.ip_local_port_range``; below it when there
  is room, else above it), so no ``bind(0)`` and no outgoing connection is ever given it;
- only while no other holder has it, in this process or another: each held port keeps an
  exclusive ``flock`` on a file of its own until released (the kernel drops the lock when the
  process ends, so a crash leaves nothing held);
- only while nothing listens on it (a probe bind, with ``SO_REUSEADDR`` as servers bind).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import random
import socket
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO

from scorer.exceptions import CoopError

EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: Where the kernel's range is unknown (not Linux): IANA's dynamic ports.
DEFAULT_EPHEMERAL = (49152, 65535)
#: Ports below this are left to system services and well-known defaults (8000, 8080, 5432, ...).
LOWEST = 10000
LOCKS = Path(tempfile.gettempdir()) / "coop-ports"


class Ports:
    """Ports held for this process until :meth:`release` (or the end of a ``with`` block)."""

    def __init__(self, numbers: list[int], locks: list[IO[bytes]]) -> None:
        self.numbers = numbers
        self._locks = locks

    def release(self) -> None:
        for lock in self._locks:
            lock.close()
        self._locks = []

    def __enter__(self) -> Ports:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def candidates() -> range:
    """The ports :func:`hold` may hand out: outside the kernel's ephemeral range."""
    try:
        low, high = map(int, EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        low, high = DEFAULT_EPHEMERAL
    below, above = range(LOWEST, low), range(max(LOWEST, high + 1), 65536)
    return below if len(below) >= len(above) else above


def hold(count: int = 1, host: str = "127.0.0.1") -> Ports:
    """``count`` distinct ports on ``host`` that nothing listens on and no other holder has."""
    pool = candidates()
    start = random.randrange(len(pool))  # holders starting at different places rarely meet
    numbers: list[int] = []
    locks: list[IO[bytes]] = []
    for offset in range(len(pool)):
        if len(numbers) == count:
            break
        port = pool[(start + offset) % len(pool)]
        lock = _lock(port)
        if lock is None:
            continue
        if _listening(host, port):
            lock.close()
            continue
        numbers.append(port)
        locks.append(lock)
    if len(numbers) < count:
        for lock in locks:
            lock.close()
        raise CoopError(f"no {count} free ports on {host} in {pool.start}-{pool.stop - 1}")
    return Ports(numbers, locks)


def _lock(port: int) -> IO[bytes] | None:
    """The open, exclusively locked file of ``port``; ``None`` when another holder has it."""
    if not LOCKS.is_dir():
        LOCKS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PermissionError):  # shared by every user, like /tmp itself
            LOCKS.chmod(0o1777)
    path = LOCKS / f"{port}.lock"
    try:
        handle = open(os.open(path, os.O_RDONLY | os.O_CREAT, 0o444), "rb")  # noqa: SIM115
    except PermissionError:
        return None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False
