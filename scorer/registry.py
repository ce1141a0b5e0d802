"""Pluggable classes, found by entry-point name (built-ins included: they are entry points too).

:class:`PluginType` is the setting that chooses one class, as JupyterHub's ``EntryPointType``
(a class, an import string or an entry-point name); :class:`Registry` looks classes up by name
where each use names its own (a forge per challenge). Both give the same error for an unknown
name, listing the installed ones.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from jupyterhub.traitlets import EntryPointType

from scorer.exceptions import CoopError


def installed(group: str) -> dict[str, EntryPoint]:
    """The entry points of ``group`` by lower-case name, as JupyterHub's EntryPointType reads them."""
    return {entry.name.lower(): entry for entry in entry_points(group=group)}


class UnknownPlugin(CoopError):
    """A name that no installed entry point of the group carries."""

    http_status = 404

    def __init__(self, kind: str, name: str, group: str, *, importable: bool = False) -> None:
        known = ", ".join(sorted(installed(group))) or "none"
        also = "; or a class's import string" if importable else ""
        super().__init__(f"unknown {kind} {name!r} (known: {known}{also})")


class PluginType(EntryPointType):
    """A class setting that takes a class, an import string (``package.module.Class``) or the
    name of an entry point in ``entry_point_group``; a string naming neither is refused with the
    installed names."""

    def __init__(self, *args: Any, kind: str, entry_point_group: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(*args, entry_point_group=entry_point_group, **kwargs)

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str) and "." not in value and value.lower() not in self.load_entry_points():
            raise UnknownPlugin(self.kind, value, self.entry_point_group, importable=True)
        return super().validate(obj, value)


class Registry:
    """The classes of one entry-point group, looked up by name (case-insensitive)."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group

    def names(self) -> list[str]:
        return sorted(installed(self.group))

    def get(self, name: str) -> type:
        entry = installed(self.group).get(name.lower())
        if entry is None:
            raise UnknownPlugin(self.kind, name, self.group)
        return entry.load()
