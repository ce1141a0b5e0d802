"""An organiser's requirements file, checked line by line (pure: text in, entries and problems
out). Pins (``numpy==2.4.6``) make an environment reproducible; anything looser is a warning,
anything the platform cannot build from its package index alone is an error."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

#: Lines a requirements file may have: a lock file of a large scientific stack has a few hundred.
MAX_LINES = 2000
#: Bytes a requirements file may have.
MAX_BYTES = 512 * 1024
_COMMENT = re.compile(r"(^|\s+)#.*$")
_LOCAL = re.compile(r"^\.{1,2}/|^[A-Za-z0-9_.-]+/$")


@dataclass(frozen=True)
class Problem:
    line: int  # 1-based; 0 for the whole file
    message: str
    error: bool

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}"


@dataclass(frozen=True)
class Entry:
    """One requirement: from the package index (``requirement``) or a folder of the repository
    (``local``, relative to the file's folder)."""

    line: int
    requirement: Requirement | None = None
    local: str | None = None

    @property
    def name(self) -> str:
        return canonicalize_name(self.requirement.name) if self.requirement else f"./{self.local}"

    @property
    def pinned_version(self) -> str | None:
        if self.requirement is None:
            return None
        specs = list(self.requirement.specifier)
        if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
            return specs[0].version
        return None


@dataclass(frozen=True)
class Requirements:
    entries: tuple[Entry, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.error]

    def index_lines(self) -> list[str]:
        """The requirements from the package index, normalised and sorted (order does not matter
        to an install, so it does not change the environment's hash)."""
        return sorted({_normal(e.requirement) for e in self.entries if e.requirement is not None})

    def local_folders(self) -> list[str]:
        return sorted({e.local for e in self.entries if e.local is not None})


def check(text: str, platform_pins: Mapping[str, str]) -> Requirements:
    """Every entry and every problem of a requirements file. ``platform_pins`` are the packages
    the platform installs into every environment (canonical name → version)."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        return Requirements(
            (), (Problem(0, f"the file is larger than the limit of {MAX_BYTES} bytes", True),)
        )
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        message = f"the file has {len(lines)} lines; the limit is {MAX_LINES} (list what notebooks import)"
        return Requirements((), (Problem(0, message, True),))
    entries: list[Entry] = []
    problems: list[Problem] = []
    for number, raw in _logical_lines(lines):
        line = _COMMENT.sub("", raw).strip()
        if not line:
            continue
        entry, problem = _entry(number, line)
        if problem:
            problems.append(problem)
        if entry:
            entries.append(entry)
    problems += _conflicts(entries, platform_pins)
    return Requirements(tuple(entries), tuple(sorted(problems, key=lambda p: p.line)))


def _logical_lines(lines: list[str]) -> list[tuple[int, str]]:
    """Lines joined where one ends in a backslash, each with the number of its first line."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, line in enumerate(lines, 1):
        start, text = pending if pending else (number, "")
        text += line
        if text.endswith("\\"):
            pending = (start, text[:-1])
            continue
        pending = None
        joined.append((start, text))
    if pending:
        joined.append(pending)
    return joined


def _entry(number: int, line: str) -> tuple[Entry | None, Problem | None]:
    if line.startswith("-"):
        option = line.split()[0].split("=")[0]
        if option in ("-r", "--requirement", "-c", "--constraint"):
            why = "list every package in this one file"
        elif option in ("-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index"):
            why = "the platform's settings choose where packages come from"
        elif option in ("-e", "--editable"):
            why = "write the folder as ./folder: environments are built once, never edited"
        else:
            why = "options are not supported in a challenge's requirements"
        return None, Problem(number, f"{option} is not allowed: {why}", True)
    if "--hash" in line:
        return None, Problem(number, "--hash options are not supported: pin versions with ==", True)
    if _LOCAL.match(line):
        folder = line.removeprefix("./").rstrip("/")
        if line.startswith("../") or ".." in folder.split("/") or not folder:
            return None, Problem(
                number, f"{line}: a local package must be a folder inside the repository", True
            )
        return Entry(number, local=folder), None
    try:
        requirement = Requirement(line)
    except InvalidRequirement as exc:
        return None, Problem(number, f"{line!r} is not a requirement: {exc}", True)
    if requirement.url:
        message = f"{requirement.name} @ {requirement.url}: direct URLs are not allowed; pin a version"
        return None, Problem(number, message, True)
    entry = Entry(number, requirement=requirement)
    if entry.pinned_version is None:
        how = f"{requirement.name}{requirement.specifier}" if requirement.specifier else requirement.name
        message = f"{how} is not pinned: write {requirement.name}==<version> so every build installs the same"
        return entry, Problem(number, message, False)
    return entry, None


def _conflicts(entries: list[Entry], platform_pins: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, Entry] = {}
    for entry in entries:
        requirement = entry.requirement
        if requirement is None or requirement.marker is not None:
            continue
        name = entry.name
        platform = platform_pins.get(name)
        if platform is not None and not requirement.specifier.contains(platform, prereleases=True):
            problems.append(
                Problem(
                    entry.line,
                    f"{requirement} conflicts with the platform's {name}=={platform} (every environment has "
                    f"it: the kernel and the Submit widget need it); drop the line or pin {name}=={platform}",
                    True,
                )
            )
        earlier = first.setdefault(name, entry)
        if earlier is not entry and earlier.requirement is not None:
            both = earlier.requirement.specifier & requirement.specifier
            versions = {v for e in (earlier, entry) if (v := e.pinned_version) is not None}
            if len(versions) > 1 or any(not both.contains(v, prereleases=True) for v in versions):
                problems.append(
                    Problem(
                        entry.line,
                        f"{requirement} conflicts with {earlier.requirement} (line {earlier.line})",
                        True,
                    )
                )
    return problems


def _normal(requirement: Requirement) -> str:
    normal = Requirement(str(requirement))
    normal.name = canonicalize_name(normal.name)
    return str(normal)
