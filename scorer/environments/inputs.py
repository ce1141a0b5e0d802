"""Everything an environment is built from, read from the organiser's trusted tree, and its key:
the SHA-256 of the normalised requirements, the local packages' sources, the Python version,
the platform's kernel-side pins and sources, the builder's version and the machine's platform.
Same inputs, same key, same folder: an environment is built once."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from scorer.challenge.spec import EnvironmentSpec
from scorer.environments import platform as coop_platform
from scorer.environments.requirements import MAX_BYTES, Problem, Requirements, check
from scorer.exceptions import EnvironmentBuildFailed, RequirementsInvalid

#: Changes when the way environments are laid out or built changes: every key changes with it.
LAYOUT = 2  # 2: the kernelspec runs the launcher as a file


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: str  # e.g. 3.11.7

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])


@dataclass(frozen=True)
class EnvironmentInputs:
    key: str
    requirements: Requirements
    folder: Path  # the requirements file's folder: local packages are relative to it
    interpreter: Interpreter
    manifest: dict[str, Any] = field(hash=False)

    @property
    def short(self) -> str:
        return self.key[:16]


@cache
def interpreter(version: str | None) -> Interpreter:
    """The platform's own interpreter, or an installed CPython of ``version`` (never downloaded)."""
    own = f"{sys.version_info.major}.{sys.version_info.minor}"
    if version in (None, own):
        return Interpreter(Path(getattr(sys, "_base_executable", sys.executable)), platform.python_version())
    uv = str(Path(sys.executable).with_name("uv"))
    found = subprocess.run(
        [uv, "python", "find", "--no-python-downloads", "--no-config", version],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if found.returncode != 0:
        raise EnvironmentBuildFailed(
            None, f"Python {version} is not installed here (the platform offers {own}); remove `python:`"
        )
    path = Path(found.stdout.strip())
    full = subprocess.run(
        [str(path), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return Interpreter(path, full.stdout.strip())


def file_problems(spec: EnvironmentSpec, tree: Path) -> tuple[Requirements, list[Problem]]:
    """The requirements file of ``spec`` and every problem with it (warnings too), unbuilt."""
    try:
        text = read_requirements(tree, spec.requirements)
    except RequirementsInvalid as exc:
        return Requirements((), ()), [Problem(0, message, True) for message in exc.problems]
    requirements = check(text, coop_platform.kernel_pins())
    problems = list(requirements.problems)
    folder = (tree / spec.requirements).parent
    for name in requirements.local_folders():
        source = _inside(tree, folder / name)
        if source is None or not ((source / "pyproject.toml").is_file() or (source / "setup.py").is_file()):
            message = f"./{name}: not a package folder of the repository (no pyproject.toml or setup.py)"
            problems.append(Problem(0, message, True))
    return requirements, problems


def environment_inputs(spec: EnvironmentSpec, tree: Path) -> EnvironmentInputs:
    """The inputs of ``spec`` in an organiser's tree; :class:`RequirementsInvalid` on errors."""
    requirements, problems = file_problems(spec, tree)
    errors = [str(p) for p in problems if p.error]
    if errors:
        raise RequirementsInvalid(spec.requirements, errors)
    folder = (tree / spec.requirements).parent
    local = {name: coop_platform.tree_digest(folder / name) for name in requirements.local_folders()}
    python = interpreter(spec.python)
    manifest = {
        "layout": LAYOUT,
        "requirements": requirements.index_lines(),
        "local": local,
        "python": f"{sys.implementation.name}-{python.version}",
        "platform_pins": coop_platform.index_pins(),
        "platform_sources": coop_platform.local_digests(),
        "builder": f"uv {metadata.version('uv')}",
        "machine": f"{sysconfig.get_platform()} {'-'.join(platform.libc_ver())}",
    }
    key = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    return EnvironmentInputs(key, requirements, folder, python, manifest)


def read_requirements(tree: Path, relative: str) -> str:
    """The requirements file's text: a regular file inside the tree, of a bounded size."""
    path = _inside(tree, tree / relative)
    if path is None or not path.is_file():
        raise RequirementsInvalid(relative, ["file not found in the challenge repository"])
    if path.stat().st_size > MAX_BYTES:
        raise RequirementsInvalid(relative, [f"the file is larger than the limit of {MAX_BYTES} bytes"])
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RequirementsInvalid(relative, ["not UTF-8 text"]) from None


def _inside(tree: Path, path: Path) -> Path | None:
    """``path`` resolved, or ``None`` when a link takes it out of the tree."""
    resolved = path.resolve()
    return resolved if resolved.is_relative_to(tree.resolve()) else None
