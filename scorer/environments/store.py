"""The environments root: built environments (``<key[:16]>/``, never changed once there), which
phase uses which, leases held by runs, and garbage collection of what nothing refers to.

Layout: ``<root>/<key[:16]>/`` environments; ``.phases/<challenge>/<phase>`` the key a phase
was last prepared with; ``.building/`` builds under way; ``.wheels/`` fetched wheels;
``.locks/`` one lock per key being built.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scorer.challenge.spec import Challenge, environment_spec
from scorer.config import ScorerSettings
from scorer.environments.inputs import environment_inputs
from scorer.environments.model import Environment, folder_name
from scorer.exceptions import EnvironmentNotPrepared

#: Written last into a built environment: what it was built from.
MANIFEST = ".coop-environment.json"
#: Runs hold a shared lock on this file while they use the environment; GC takes it exclusively.
LEASE = ".coop-lease"
_FOLDER = re.compile(r"^[0-9a-f]{16}$")
log = logging.getLogger("coop")


def environment_at(settings: ScorerSettings, key: str) -> Environment:
    return Environment(key, settings.environments / folder_name(key))


def is_built(environment: Environment) -> bool:
    return (environment.path / MANIFEST).is_file()


def environment_for(
    settings: ScorerSettings, challenge: Challenge, phase_id: str, tree: Path
) -> Environment | None:
    """The built environment a phase runs in, from the organiser's trusted ``tree``; ``None`` for
    the platform's own. While a changed environment is not built, the phase's previous one
    serves; :class:`EnvironmentNotPrepared` when there is none."""
    spec = environment_spec(challenge, phase_id)
    if spec is None:
        return None
    inputs = environment_inputs(spec, tree)
    environment = environment_at(settings, inputs.key)
    if not is_built(environment):
        previous = used_by(settings, challenge.id, phase_id)
        if previous is not None and is_built(previous):  # its change is not built (yet, or failed)
            log.warning(
                "%s/%s: environment %s is not built; %s keeps serving",
                challenge.id,
                phase_id,
                inputs.short,
                previous.short,
            )
            return previous
        raise EnvironmentNotPrepared(
            f"the software environment of {challenge.id}/{phase_id} is not ready yet",
            f"environment {inputs.short} of {challenge.id}/{phase_id} ({spec.requirements}) is not built "
            f"under {settings.environments}: run `coop challenge prepare`",
        )
    return environment


@contextmanager
def lease(environment: Environment) -> Iterator[Environment]:
    """Hold ``environment`` while a run uses it: garbage collection leaves it alone."""
    try:
        handle = open(environment.path / LEASE, "rb")  # noqa: SIM115 (held across the yield)
    except FileNotFoundError:
        raise EnvironmentNotPrepared(
            "the phase's software environment is not ready", f"environment {environment.path} is gone"
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:  # collected between our open and our lock: the folder is gone
            if not os.path.samestat(os.fstat(handle.fileno()), os.stat(environment.path / LEASE)):
                raise FileNotFoundError(environment.path)
        except FileNotFoundError:
            raise EnvironmentNotPrepared(
                "the phase's software environment is not ready",
                f"environment {environment.path} was collected",
            ) from None
        yield environment


def record_use(
    settings: ScorerSettings, challenge_id: str, phase_id: str, environment: Environment | None
) -> None:
    """Remember which environment a phase now uses (or none): what GC keeps."""
    path = settings.environments / ".phases" / challenge_id / phase_id
    if environment is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
        handle.write(environment.key)
    os.replace(handle.name, path)


def used_by(settings: ScorerSettings, challenge_id: str, phase_id: str) -> Environment | None:
    """The environment a phase was last prepared with, if any."""
    path = settings.environments / ".phases" / challenge_id / phase_id
    return environment_at(settings, path.read_text().strip()) if path.is_file() else None


def uses(settings: ScorerSettings) -> dict[str, list[str]]:
    """Environment key → the ``challenge/phase``s that use it."""
    found: dict[str, list[str]] = {}
    for path in sorted((settings.environments / ".phases").glob("*/*")):
        found.setdefault(path.read_text().strip(), []).append(f"{path.parent.name}/{path.name}")
    return found


@dataclass(frozen=True)
class Collected:
    folder: str
    size: int  # bytes
    kept_for: str | None  # why it stays, or None when it was (or would be) removed


def collect(settings: ScorerSettings, challenges: set[str], *, dry_run: bool = False) -> list[Collected]:
    """Remove every environment no phase of a challenge in ``challenges`` (the ledger's) uses and
    no run holds; half-finished builds nobody is working on go too."""
    root = settings.environments
    used = {
        key[:16]: phases
        for key, all_phases in uses(settings).items()
        if (phases := [p for p in all_phases if p.split("/")[0] in challenges])
    }
    result = []
    for folder in sorted(p for p in root.glob("*") if _FOLDER.match(p.name) and p.is_dir()):
        size = _size(folder)
        if folder.name in used:
            result.append(Collected(folder.name, size, "used by " + ", ".join(used[folder.name])))
            continue
        with _exclusive(folder / LEASE) as free:
            if not free:
                result.append(Collected(folder.name, size, "held by a running submission"))
                continue
            if not dry_run:
                _remove(root, folder)
        result.append(Collected(folder.name, size, None))
    for stale in sorted((root / ".building").glob("*")):
        with _exclusive(root / ".locks" / f"{stale.name[:16]}.lock") as free:
            if free and not dry_run:
                shutil.rmtree(stale, ignore_errors=True)
    return result


@contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    """Whether nobody holds ``path`` (a missing file is free), held exclusively meanwhile."""
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        yield True
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def _remove(root: Path, folder: Path) -> None:
    """Out of its name at once (a lookup cannot find it half-deleted), then deleted."""
    trash = root / ".trash"
    trash.mkdir(exist_ok=True)
    doomed = Path(tempfile.mkdtemp(prefix=folder.name, dir=trash))
    folder.rename(doomed / "env")
    shutil.rmtree(doomed, ignore_errors=True)


def _size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir())


def manifest(environment: Environment) -> dict[str, object]:
    return dict(json.loads((environment.path / MANIFEST).read_text()))
