"""Organisers' edits of ``challenge.yaml``: values set at paths, the rest of the text kept.

The text goes through ruamel.yaml's round trip, which keeps comments, key order, quoting and
flow or block style. A new value is merged into the one it replaces, so that only the lines
whose values change are written again (an unchanged key keeps its line and its comment); times
are written as ``2026-01-01T00:00:00Z``. ruamel.yaml does not keep indentation, so the text's
own is measured on the parsed nodes (their line and column), never guessed from lines that
may belong to a block of prose.

PyYAML reads the spec (YAML 1.1, where ``yes`` is true and ``1:30`` is 90), ruamel.yaml writes
YAML 1.2: a new string PyYAML would read as something else is quoted, and the edited text must
load to exactly the intended data; when it does not (an exotic layout or value), the whole
file is dumped again with PyYAML, which is still correct but drops its comments.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import SingleQuotedScalarString

YamlPath = tuple[str | int, ...]
#: The value that removes a key from its mapping.
REMOVE: Any = object()

_STR_TAG = "tag:yaml.org,2002:str"
_PYYAML = yaml.resolver.Resolver()  # how PyYAML types a plain scalar


@dataclass(frozen=True)
class SpecEdit:
    """What a change does to ``challenge.yaml``: values to set, and a summary for people."""

    action: str
    changes: Sequence[tuple[YamlPath, Any]]
    before: dict[str, Any]
    after: dict[str, Any]
    message: str
    placed: Mapping[YamlPath, str] = field(default_factory=dict)  # a new key -> the key it follows


def set_in_yaml(
    text: str, changes: Sequence[tuple[YamlPath, Any]], placed: Mapping[YamlPath, str] | None = None
) -> str:
    """``text`` with the value at each path set (a missing last key is added after the key
    ``placed`` names for its path, else at the end of its mapping; :data:`REMOVE` removes it),
    keeping every other line as it was where the layout allows."""
    intended = yaml.safe_load(text)
    for path, value in changes:
        parent = _parent(intended, path)
        if value is REMOVE:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    document = _round_trip(text)
    tree = document.load(text)
    mapping, sequence, offset = _indentation(tree)
    for path, value in changes:
        parent = _parent(tree, path)
        last = path[-1]
        if value is REMOVE:
            parent.pop(last, None)
            continue
        has_old = last in parent if isinstance(parent, Mapping) else 0 <= int(last) < len(parent)
        follows = (placed or {}).get(path)
        if has_old:
            parent[last] = _merge(parent[last], value)
        elif isinstance(parent, CommentedMap) and follows in parent:
            parent.insert(list(parent).index(follows) + 1, last, _fresh(value, flow=False))
        else:
            parent[last] = _fresh(value, flow=False)
    document.indent(mapping=mapping, sequence=sequence, offset=offset)
    written = io.StringIO()
    document.dump(tree, written)
    edited = written.getvalue()
    if yaml.safe_load(edited) == intended:
        return edited
    return yaml.safe_dump(intended, sort_keys=False, allow_unicode=True)


def _round_trip(text: str) -> YAML:
    document = YAML()  # round trip
    document.preserve_quotes = True
    document.width = 1 << 16  # never fold a long line that was one line
    document.representer.ignore_aliases = lambda _data: True  # one time set twice: no &id001
    document.representer.add_representer(datetime, _represent_time)
    return document


def _represent_time(representer: RoundTripRepresenter, moment: datetime) -> Any:
    written = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return representer.represent_scalar("tag:yaml.org,2002:timestamp", written)


def _parent(data: Any, path: YamlPath) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


def _merge(old: Any, new: Any) -> Any:
    """``new``, reusing ``old``'s nodes (with their comments and style) wherever they are equal."""
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        for key in [key for key in old if key not in new]:
            del old[key]
        for key, value in new.items():
            old[key] = _merge(old[key], value) if key in old else _fresh(value, flow=old.fa.flow_style())
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list) and len(old) == len(new):
        for index, value in enumerate(new):
            old[index] = _merge(old[index], value)
        return old
    if not isinstance(old, dict | list) and old == new and isinstance(old, bool) == isinstance(new, bool):
        return old  # the same scalar (1 == True, but not the same value in a spec), written as it was
    flow = isinstance(old, CommentedMap | CommentedSeq) and old.fa.flow_style()
    return _fresh(new, flow=bool(flow))


def _fresh(value: Any, *, flow: bool) -> Any:
    """``value`` as round-trip nodes, in flow style where it replaces a flow collection."""
    if isinstance(value, Mapping):
        mapping = CommentedMap((key, _fresh(item, flow=flow)) for key, item in value.items())
        if flow:
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        sequence = CommentedSeq(_fresh(item, flow=flow) for item in value)
        if flow:
            sequence.fa.set_flow_style()
        return sequence
    if isinstance(value, str) and _PYYAML.resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG:
        return SingleQuotedScalarString(value)  # PyYAML would read it plain as a bool, number or time
    return value


def _indentation(tree: Any) -> tuple[int, int, int]:
    """How the text indents a block mapping under its key, and a block sequence's items and
    dashes under theirs (ruamel.yaml's ``mapping``, ``sequence`` and ``offset``)."""
    mapping = sequence = offset = None
    pending = [tree] if isinstance(tree, CommentedMap) else []
    while pending and (mapping is None or sequence is None):
        parent = pending.pop(0)
        for key, child in parent.items():
            column = parent.lc.key(key)[1]
            if isinstance(child, CommentedMap | CommentedSeq) and not child.fa.flow_style() and child:
                if isinstance(child, CommentedMap) and mapping is None:
                    mapping = child.lc.key(next(iter(child)))[1] - column
                elif isinstance(child, CommentedSeq) and sequence is None:
                    sequence, offset = child.lc.item(0)[1] - column, child.lc.col - column
            items = child if isinstance(child, CommentedSeq) else [child]
            pending += [item for item in items if isinstance(item, CommentedMap)]
    return mapping or 2, sequence or 2, offset or 0
