"""Registries of pluggable parts, filled with built-ins first, then an entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Generic, TypeVar

from scorer.exceptions import CoopError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named implementations of one kind of extension (executors, rewarders, forges…)."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str, item: T) -> None:
        self._items[name] = item

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise CoopError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for entry in entry_points(group=self.group):
            self._items.setdefault(entry.name, entry.load())
