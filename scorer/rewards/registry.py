"""The installed rewarders: entry points of ``coop.rewarders`` (the built-ins are entry points
too), and building one from a phase's ``rewarders:`` entry."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from scorer.exceptions import CoopError
from scorer.registry import Registry
from scorer.rewards.base import Rewarder

REWARDERS = "coop.rewarders"
rewarders = Registry("rewarder", REWARDERS)


class NotARewarder(CoopError):
    """An installed entry point of the group that does not load a :class:`Rewarder` class."""

    http_status = 500


def rewarder_class(name: str) -> type[Rewarder]:
    """The class installed under ``name``; :class:`~scorer.registry.UnknownPlugin` names the
    installed ones otherwise, :class:`NotARewarder` says an installed one is broken."""
    found = _load(name.lower(), tuple(sys.path))
    if not (isinstance(found, type) and issubclass(found, Rewarder)):
        raise NotARewarder(f"the installed rewarder {name!r} ({REWARDERS}) is not a Rewarder class")
    return found


@lru_cache(maxsize=64)
def _load(name: str, path: tuple[str, ...]) -> type:
    """Scanning the installed distributions takes milliseconds and a spec names a rewarder
    several times: a class is kept per name while the import path stays the same."""
    return rewarders.get(name)


def build(
    index: int,
    type: str,
    amount: float,
    threshold: float | None = None,
    params: Mapping[str, Any] | None = None,
) -> Rewarder:
    """The rewarder of one ``rewarders:`` entry (validated again: the spec may be older)."""
    cls = rewarder_class(type)
    model = cls.validate(amount, threshold, params or {})
    return cls(type=type, index=index, amount=amount, threshold=threshold, params=model)
