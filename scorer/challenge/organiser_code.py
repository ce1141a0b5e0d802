"""Loading the organiser's trusted code (data generator, metric functions) from a file."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from scorer.exceptions import CoopError


def load_module(path: Path) -> ModuleType:
    """Import ``path`` under a name unique to its content, so two versions never collide."""
    if not path.is_file():
        raise CoopError(f"the organiser's module {path.name} is missing")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    name = f"coop_organiser_{path.stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CoopError(f"cannot import the organiser's module {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise CoopError(f"the organiser's module {path.name} failed to import: {exc!r}") from exc
    return module


def load_function(folder: Path, reference: str) -> Callable[..., Any]:
    """``file.py:function`` relative to ``folder``."""
    filename, _, function = reference.partition(":")
    module = load_module(folder / filename)
    found = getattr(module, function, None)
    if not callable(found):
        raise CoopError(f"{filename} has no function {function!r}")
    return found
