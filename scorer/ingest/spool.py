"""Push-to-score from the spool: the served repositories' post-receive hook writes each push's ref
updates to ``<home>/spool/<time>-<pid>.json`` (:mod:`scorer.ingest.hook_script`) and the service
records and queues them (:func:`scorer.ingest.push.on_push`), at once when the hook asks
(:func:`process`) and, for whatever a stopped or killed service left, from its background loop
(:func:`drain`).

An entry is deleted only once what it led to is committed. Whoever processes one holds an
exclusive lock on its file, so the hook's request and the loop never process it together; one
processed again after a crash creates nothing twice, since a commit is recorded (and its
notebooks queued) only when it first arrives.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scorer.facade import CoopAPI
from scorer.ingest.push import PushLine, Update, on_push, parse_refs

log = logging.getLogger("coop.service.spool")

SPOOL = "spool"
FAILED = "failed"
#: Seconds the background loop leaves a fresh entry to the hook's own request.
GRACE = 5.0


def spool_dir(home: Path) -> Path:
    return Path(home) / SPOOL


@dataclass(frozen=True)
class Entry:
    """One push as its post-receive hook spooled it."""

    repository: Path
    pusher: str
    status_url: str
    pushed_at: datetime
    updates: list[Update]
    refs: list[tuple[str, str]]  # (sha, ref) as the push left them


def parse_entry(text: str) -> Entry:
    """An entry from its file's JSON; :class:`ValueError` (or ``KeyError``) when malformed."""
    data = json.loads(text)
    lines = (line.split() for line in data["updates"].splitlines())
    updates = [(p[0], p[1], p[2]) for p in lines if len(p) == 3]
    return Entry(
        repository=Path(data["repository"]),
        pusher=str(data["pusher"]),
        status_url=str(data.get("status_url", "")),
        pushed_at=datetime.fromtimestamp(float(data["pushed_at"]), UTC),
        updates=updates,
        refs=parse_refs(data["refs"]),
    )


def is_entry_name(name: str) -> bool:
    return name.endswith(".json") and not name.startswith(".") and "/" not in name


@contextmanager
def claimed(path: Path, *, wait: bool) -> Iterator[Entry | None]:
    """The entry at ``path`` while this thread holds it; ``None`` when it is gone (processed) or,
    without ``wait``, held by someone else."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield None
        return
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield None
            return
        if os.fstat(descriptor).st_nlink == 0:  # processed and deleted while we waited
            yield None
            return
        with open(descriptor, encoding="utf-8", closefd=False) as stream:
            text = stream.read()
        try:
            entry = parse_entry(text)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            set_aside(path, f"{type(exc).__name__}: {exc}")
            yield None
            return
        yield entry
    finally:
        os.close(descriptor)  # releases the lock


def set_aside(path: Path, why: str) -> None:
    """Move an unreadable entry to ``spool/failed/`` for the operator (it would fail forever)."""
    failed = path.parent / FAILED
    failed.mkdir(exist_ok=True)
    path.rename(failed / path.name)
    log.error("spooled push %s is unreadable (%s): moved to %s", path.name, why, failed)


def process(api: CoopAPI, path: Path, *, wait: bool = True) -> list[PushLine] | None:
    """Record and queue the spooled push at ``path``, then delete it; what the pusher is told,
    or ``None`` when someone else processed (or is processing) it."""
    with claimed(path, wait=wait) as entry:
        if entry is None:
            return None
        if entry.repository.parent.resolve() != (api.settings.home_path / "git").resolve():
            set_aside(path, f"{entry.repository} is not a served repository")
            return None
        lines = on_push(
            api,
            entry.repository,
            entry.pusher,
            entry.updates,
            entry.pushed_at,
            status_url=entry.status_url,
            refs=entry.refs,
        )
        path.unlink()
        fsync_directory(path.parent)
    return lines


def fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def pending(home: Path, older_than: float = GRACE, now: float | None = None) -> list[Path]:
    """The spooled entries older than ``older_than`` seconds, oldest push first."""
    folder = spool_dir(home)
    if not folder.is_dir():
        return []
    moment = now if now is not None else datetime.now(UTC).timestamp()
    found = []
    for path in folder.iterdir():
        if not is_entry_name(path.name):
            continue
        try:
            if moment - path.stat().st_mtime >= older_than:
                found.append(path)
        except FileNotFoundError:  # processed meanwhile
            continue
    return sorted(found, key=lambda p: p.name)


def drain(api: CoopAPI, older_than: float = GRACE) -> int:
    """Process what the spool holds that no hook's request is processing; how many entries.
    An entry that fails stays for the next round; the ones after it wait behind it."""
    done = 0
    for path in pending(api.settings.home_path, older_than):
        lines = process(api, path, wait=False)
        if lines is not None:
            done += 1
            log.info("spooled push %s: %s", path.name, "; ".join(map(str, lines)) or "nothing to queue")
    return done
