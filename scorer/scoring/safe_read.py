"""Reading files the sandboxed notebook could tamper with, without trusting what they are.

Everything in a run's writable folders is participant input: a "file" there may be a symbolic
link to an answer key, a FIFO that blocks forever, or a folder. Only a regular file is read,
through a descriptor opened without following links.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotARegularFile(OSError):
    """The path exists but is a link, a FIFO, a folder or another special file."""


def read_regular(path: Path, limit: int) -> bytes | None:
    """The file's bytes; ``None`` when absent. Raise for a non-regular file or one over ``limit``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: the last component is a symbolic link
        raise NotARegularFile(f"{path.name} is not a regular file") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise NotARegularFile(f"{path.name} is larger than {limit // 1024**2} MiB")
        return handle.read(limit + 1)[:limit]
