"""What a score depends on besides the notebook: the scorer and its environment."""

from __future__ import annotations

import hashlib
import platform
from functools import cache
from importlib.metadata import distributions

from scorer import __version__


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
