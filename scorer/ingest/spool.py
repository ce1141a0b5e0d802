"""Pushes from the spool. The served repositories' post-receive hook writes each push's ref
updates to ``<home>/spool/<time>-<pid>.json`` (:mod:`scorer.ingest.hook_script`) and the service
records and queues them (:func:`scorer.ingest.push.on_push`), at once when the hook asks
(:func:`process`). A forge's webhook delivery, once its signature is checked, is written to
``<home>/spool/forge/`` (:func:`spool_delivery`) before it is answered, and taken from there
(:func:`process_delivery`, :mod:`scorer.ingest.forge_push`). Whatever a stopped or killed service
left is taken by its background loop (:func:`drain`).

A push the policy lets in is first written down as an intent (``spool/intents/``, named by its
repository and ref updates), which its post-receive entry clears: a service killed after the refs
moved but before post-receive spooled them (git then dies writing to it) leaves the intent, and
the loop takes it as the push once :data:`INTENT_AGE` has passed, when its commits are on the
refs (else the push never happened and the intent goes).

An entry is deleted only once what it led to is committed. Whoever processes one holds an
exclusive lock on its file, so a request and the loop never process it together; one processed
again after a crash creates nothing twice: a commit is recorded (and its notebooks queued) only
when it first arrives, a delivery once per id. An entry that fails is tried again after
:data:`RETRY` seconds, one that never can (unreadable, or refused as malformed) is moved to
``spool/failed/``.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from coop_client.git import ZERO_SHA, call
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI
from scorer.ingest.forge_push import WebhookReceipt, receive
from scorer.ingest.hook_script import write_entry
from scorer.ingest.push import PushLine, Update, on_push, parse_refs

log = logging.getLogger("coop.service.spool")

SPOOL = "spool"
DELIVERIES = "forge"
INTENTS = "intents"
#: Seconds after which the loop takes an intent that no post-receive entry cleared.
INTENT_AGE = 60.0
FAILED = "failed"
#: Seconds the background loop leaves a fresh entry to the request that wrote it.
GRACE = 5.0
#: Seconds before an entry that failed is tried again (a forge or database that is down).
RETRY = 60.0
#: Request headers never written to the spool (a delivery's signature headers are kept).
UNKEPT = frozenset({"authorization", "cookie"})


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
    refs: list[tuple[str, str]] | None  # (sha, ref) as the push left them; None: an intent


def parse_entry(text: str) -> Entry:
    """An entry from its file's JSON; :class:`ValueError` (or ``KeyError``) when malformed."""
    data = json.loads(text)
    return Entry(
        repository=Path(data["repository"]),
        pusher=str(data["pusher"]),
        status_url=str(data.get("status_url", "")),
        pushed_at=datetime.fromtimestamp(float(data["pushed_at"]), UTC),
        updates=parse_updates(data["updates"]),
        refs=None if data.get("refs") is None else parse_refs(data["refs"]),
    )


def parse_updates(text: str) -> list[Update]:
    """The ``<old> <new> <ref>`` lines git gives a hook."""
    lines = (line.split() for line in text.splitlines())
    return [(p[0], p[1], p[2]) for p in lines if len(p) == 3]


def intent_path(home: Path, repository: Path, updates: Sequence[Update]) -> Path:
    key = json.dumps([str(repository), [list(update) for update in updates]])
    return spool_dir(home) / INTENTS / f"{hashlib.sha256(key.encode()).hexdigest()}.json"


def spool_intent(
    home: Path, repository: Path, pusher: str, updates: str, status_url: str, now: datetime
) -> Path:
    """A push the policy let in, written down before its refs move."""
    path = intent_path(home, repository, parse_updates(updates))
    data = {
        "repository": str(repository),
        "pusher": pusher,
        "status_url": status_url,
        "pushed_at": now.timestamp(),
        "updates": updates,
        "refs": None,
    }
    write_entry(str(path.parent), data, path.name)
    return path


def happened(repository: Path, updates: Sequence[Update]) -> bool:
    """Whether the refs hold what an intent's push brought (participants never rewrite a ref)."""
    return all(
        call(repository, "merge-base", "--is-ancestor", new, ref, bare=True).ok
        for _old, new, ref in updates
        if new != ZERO_SHA
    )


def is_entry_name(name: str) -> bool:
    return name.endswith(".json") and not name.startswith(".") and "/" not in name


@contextmanager
def claimed(path: Path, *, wait: bool) -> Iterator[str | None]:
    """The text of the entry at ``path`` while this thread holds it; ``None`` when it is gone
    (processed) or, without ``wait``, held by someone else."""
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
            yield stream.read()
    finally:
        os.close(descriptor)  # releases the lock


def set_aside(path: Path, why: str) -> None:
    """Move an unreadable entry to ``spool/failed/`` for the operator (it would fail forever)."""
    failed = path.parent / FAILED
    failed.mkdir(exist_ok=True)
    path.rename(failed / path.name)
    log.error("spool entry %s cannot be taken (%s): moved to %s", path.name, why, failed)


def postpone(path: Path) -> None:
    """Have :func:`drain` try the entry again in :data:`RETRY` seconds (its time moved ahead)."""
    moment = time.time() + RETRY
    with contextlib.suppress(FileNotFoundError):  # set aside meanwhile
        os.utime(path, (moment, moment))


def process(api: CoopAPI, path: Path, *, wait: bool = True) -> list[PushLine] | None:
    """Record and queue the spooled push at ``path``, then delete it; what the pusher is told,
    or ``None`` when someone else processed (or is processing) it."""
    with claimed(path, wait=wait) as text:
        if text is None:
            return None
        try:
            entry = parse_entry(text)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            set_aside(path, f"{type(exc).__name__}: {exc}")
            return None
        if entry.repository.parent.resolve() != (api.settings.home_path / "git").resolve():
            set_aside(path, f"{entry.repository} is not a served repository")
            return None
        if entry.refs is None and not happened(entry.repository, entry.updates):
            path.unlink()  # an intent whose push never moved the refs
            return None
        try:
            lines = on_push(
                api,
                entry.repository,
                entry.pusher,
                entry.updates,
                entry.pushed_at,
                status_url=entry.status_url,
                refs=entry.refs,
            )
        except Exception:
            postpone(path)
            raise
        path.unlink()
        fsync_directory(path.parent)
        with contextlib.suppress(FileNotFoundError):  # the push's intent, taken with it
            intent_path(api.settings.home_path, entry.repository.resolve(), entry.updates).unlink()
    return lines


def fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def spool_delivery(
    home: Path, forge: str, headers: Mapping[str, str], body: bytes, status_url: str, now: datetime
) -> Path:
    """A forge's delivery (its signature checked), on disk before it is answered."""
    data = {
        "forge": forge,
        "headers": {k: v for k, v in headers.items() if k.lower() not in UNKEPT},
        "body": base64.b64encode(body).decode(),
        "status_url": status_url,
        "received_at": now.timestamp(),
    }
    folder = spool_dir(home) / DELIVERIES
    return folder / write_entry(str(folder), data)


def process_delivery(api: CoopAPI, path: Path, *, wait: bool = True) -> WebhookReceipt | None:
    """Take the spooled delivery at ``path`` (:func:`scorer.ingest.forge_push.receive`), then
    delete it; what it led to, or ``None`` when someone else took (or is taking) it. Its errors
    are raised: one that says the delivery is wrong sets it aside, any other has it retried."""
    with claimed(path, wait=wait) as text:
        if text is None:
            return None
        try:
            data = json.loads(text)
            forge, headers = str(data["forge"]), dict(data["headers"])
            body, status_url = base64.b64decode(data["body"]), str(data["status_url"])
            now = datetime.fromtimestamp(float(data["received_at"]), UTC)
        except (ValueError, KeyError, TypeError) as exc:
            set_aside(path, f"{type(exc).__name__}: {exc}")
            return None
        try:
            receipt = receive(api, api.forges.get(forge)(), headers, body, status_url=status_url, now=now)
        except CoopError as exc:
            if exc.http_status < 500:
                set_aside(path, exc.log_message)
            else:
                postpone(path)
            raise
        except Exception:
            postpone(path)
            raise
        path.unlink()
        fsync_directory(path.parent)
    return receipt


def pending(folder: Path, older_than: float = GRACE, now: float | None = None) -> list[Path]:
    """The entries of ``folder`` older than ``older_than`` seconds, oldest first."""
    if not folder.is_dir():
        return []
    moment = now if now is not None else time.time()
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


def drain(api: CoopAPI, older_than: float = GRACE, intent_age: float = INTENT_AGE) -> int:
    """Take what the spool holds that no request is taking, oldest first; how many entries. One
    that fails is logged and tried again after :data:`RETRY` seconds; the others go on."""
    folder = spool_dir(api.settings.home_path)
    pushes = pending(folder, older_than) + pending(folder / INTENTS, max(older_than, intent_age))
    done = 0
    for path in pushes + pending(folder / DELIVERIES, older_than):
        try:
            if path.parent.name == DELIVERIES:
                receipt = process_delivery(api, path, wait=False)
                told = None if receipt is None else "; ".join(receipt.messages) or receipt.status
            else:
                lines = process(api, path, wait=False)
                told = None if lines is None else "; ".join(map(str, lines)) or "nothing to queue"
        except Exception:
            log.exception("spool entry %s failed; trying again in %.0f s", path.name, RETRY)
            continue
        if told is not None:
            done += 1
            log.info("spool entry %s: %s", path.name, told)
    return done
