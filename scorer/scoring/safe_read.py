"""Reading files the sandboxed notebook could tamper with, without trusting what they are.

Everything in a run's writable folders is participant input: a "file" there may be a symbolic
link to an answer key, a FIFO that blocks forever, or a folder. Only a regular file is read,
through a descriptor opened without following links. Text the run wrote (an error message, a
column name) is made :func:`printable` before a reason quotes it.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

#: Terminal escape sequences (colours, cursor moves, screen clears): removed.
ANSI_ESCAPE = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
#: Characters that reorder the text around them (right-to-left overrides, isolates, marks).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


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


def printable(text: str) -> str:
    """``text`` safe to show in a terminal or a page: escape sequences removed, other control
    characters (but newlines and tabs), bidirectional controls and lone surrogates shown as
    U+FFFD, so that a message cannot clear a screen, recolour itself or read backwards."""
    return "".join(
        "\ufffd"
        if (unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t") or ch in BIDI_CONTROLS
        else ch
        for ch in ANSI_ESCAPE.sub("", text)
    )
