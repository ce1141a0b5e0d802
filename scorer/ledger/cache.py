"""A small cache of ranked leaderboards, one per engine, keyed on the phase's version token.

Every transaction that changes a phase's leaderboard entries replaces the phase's token
(:func:`scorer.ledger.entries.touch`), so a view cached under the old token is never served
again. The token is read before the entries: a view may be fresher than its key, never older.
When the token moved because one person's entries changed, the version says who, and a view
cached under the previous token is updated for that person alone.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from scorer.ledger.models import LeaderboardVersion

#: Ranked views kept per engine (a 5,000-person board takes a few MB).
SIZE = 8
V = TypeVar("V")


class ViewCache(Generic[V]):
    """Least-recently-used values, each valid only for the exact object it was computed from."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[object, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, source: object) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] is not source:
                return None
            self._items.move_to_end(key)
            return item[1]

    def discard(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def put(self, key: Hashable, source: object, value: V) -> None:
        with self._lock:
            self._items[key] = (source, value)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


_caches: WeakKeyDictionary[Engine, ViewCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(session: Session) -> ViewCache:
    """The view cache of the session's engine."""
    engine = session.get_bind().engine
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = ViewCache()
        return cache


def version_token(session: Session, challenge_id: str, phase_id: str) -> str | None:
    """The phase's current version token (``None`` before its first entry)."""
    found = version(session, challenge_id, phase_id)
    return found.token if found else None


@dataclass(frozen=True)
class Version:
    """A phase's version token, the one it replaced, and the one person whose entries changed
    between them (``None``: unknown, or several)."""

    token: str
    previous: str | None
    person_id: int | None


def version(session: Session, challenge_id: str, phase_id: str) -> Version | None:
    """The phase's current version (``None`` before its first entry)."""
    v = LeaderboardVersion
    found = session.execute(
        select(v.token, v.previous, v.person_id).where(v.challenge_id == challenge_id, v.phase_id == phase_id)
    ).first()
    return Version(*found) if found else None
