"""What the platform adds to every challenge environment: what a kernel needs under papermill
and what participants' notebooks need for the Submit widget, each pinned to the version the
platform itself runs (read from its installed distributions, dependencies followed)."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from scorer.exceptions import EnvironmentBuildFailed

#: The kernel side: papermill talks to ipykernel; notebooks show widgets and the Submit button.
KERNEL_SIDE = ("ipykernel", "ipywidgets", "coop-client", "coop-widgets")
#: The platform's own packages, built from their source folders (they are not on any index).
LOCAL_PACKAGES = ("coop-client", "coop-widgets")
_SKIPPED_PARTS = {"__pycache__", "build", "dist", "node_modules", ".ipynb_checkpoints"}


@cache
def kernel_pins() -> dict[str, str]:
    """Canonical name → installed version of :data:`KERNEL_SIDE` and everything they require,
    extras included (markers evaluated for this interpreter)."""
    environment = {key: str(value) for key, value in default_environment().items()}
    pins: dict[str, str] = {}
    done: set[tuple[str, str]] = set()
    todo = [(name, "") for name in KERNEL_SIDE]
    while todo:
        name, extra = todo.pop()
        name = canonicalize_name(name)
        if (name, extra) in done:
            continue
        done.add((name, extra))
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise EnvironmentBuildFailed(
                name, f"the platform's {name} is not installed, so environments cannot include it"
            ) from None
        pins[name] = distribution.version
        for text in distribution.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or marker.evaluate({**environment, "extra": extra}):
                todo += [(requirement.name, e) for e in ["", *requirement.extras]]
    return dict(sorted(pins.items()))


def index_pins() -> list[str]:
    """The kernel side's pins that come from the package index (``name==version``)."""
    return [f"{name}=={version}" for name, version in kernel_pins().items() if name not in LOCAL_PACKAGES]


def local_source(name: str) -> Path:
    """The project folder a platform package was installed from (pip records it)."""
    distribution = metadata.distribution(name)
    direct = distribution.read_text("direct_url.json")
    url = json.loads(direct).get("url", "") if direct else ""
    folder = Path(unquote(urlparse(url).path)) if url.startswith("file://") else None
    if folder is None or not (folder / "pyproject.toml").is_file():
        raise EnvironmentBuildFailed(
            name,
            f"the platform's {name} was not installed from its source folder (pip install ./extensions/…)",
        )
    return folder


def tree_digest(folder: Path) -> str:
    """SHA-256 over a source folder's files (names and contents), build products left out."""
    digest = hashlib.sha256()
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_PARTS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(dirpath, name)
            if path.suffix in (".pyc", ".pyo") or path.is_symlink():
                continue
            digest.update(str(path.relative_to(folder)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def local_digests() -> dict[str, str]:
    """Canonical name → digest of the source of each of the platform's own packages."""
    return {name: tree_digest(local_source(name)) for name in LOCAL_PACKAGES}
