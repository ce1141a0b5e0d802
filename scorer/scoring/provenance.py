"""What a score depends on besides the notebook: the scorer, the platform's environment and the
challenge environment the kernel ran in."""

from __future__ import annotations

import hashlib
import platform
from functools import cache
from importlib.metadata import distributions

from scorer import __version__
from scorer.environments.model import FOLDER_CHARS

#: Provenance key of a rescore whose challenge environment differs from its original's.
ENVIRONMENT_CHANGED = "environment_changed"


@cache
def environment_hash() -> str:
    """SHA-256 of the Python version and every installed distribution with its version."""
    packages = sorted(
        f"{d.metadata['Name'].lower()}=={d.version}" for d in distributions() if d.metadata["Name"]
    )
    text = "\n".join([platform.python_version(), *packages])
    return hashlib.sha256(text.encode()).hexdigest()


def scorer_version() -> str:
    return __version__


def environment_change(before: str | None, now: str | None) -> str:
    """``environment changed: 1a2b… → 3c4d…`` ("the platform's" stands for no environment)."""

    def short(key: str | None) -> str:
        return key[:FOLDER_CHARS] if key else "the platform's"

    return f"environment changed: {short(before)} → {short(now)}"
