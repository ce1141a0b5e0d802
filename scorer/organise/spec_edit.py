"""Organisers' edits of ``challenge.yaml``: values set at paths, the rest of the text kept.

The text goes through ruamel.yaml's round trip, which keeps comments, key order, quoting and
flow or block style. A new value is merged into the one it replaces, so that only the lines
whose values change are written again (an unchanged key keeps its line and its comment); times
are written as ``2026-01-01T00:00:00Z``. ruamel.yaml does not keep indentation, so the text's
own is measured and used.

PyYAML reads the spec (YAML 1.1, where ``yes`` is true and ``1:30`` is 90), ruamel.yaml writes
YAML 1.2: a new string PyYAML would read as something else is quoted, and the edited text must
load to exactly the intended data; when it does not (an exotic layout or value), the whole
file is dumped again with PyYAML, which is still correct but drops its comments.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import SingleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

YamlPath = tuple[str | int, ...]

_STR_TAG = "tag:yaml.org,2002:str"
_PYYAML = yaml.resolver.Resolver()  # how PyYAML types a plain scalar
_INDENT = re.compile(r" *(?:- +)*")  # a line's indentation, its sequence dashes included


@dataclass(frozen=True)
class SpecEdit:
    """What a change does to ``challenge.yaml``: values to set, and a summary for people."""

    action: str
    changes: Sequence[tuple[YamlPath, Any]]
    before: dict[str, Any]
    after: dict[str, Any]
    message: str


def set_in_yaml(text: str, changes: Sequence[tuple[YamlPath, Any]]) -> str:
    """``text`` with the value at each path set (a missing last key is added at the end of its
    mapping), keeping every other line as it was where the layout allows."""
    intended = yaml.safe_load(text)
    for path, value in changes:
        parent = _parent(intended, path)
        parent[path[-1]] = value
    document = _round_trip(text)
    tree, sequence, offset = load_yaml_guess_indent(text, yaml=document)
    for path, value in changes:
        parent = _parent(tree, path)
        last = path[-1]
        has_old = last in parent if isinstance(parent, Mapping) else 0 <= int(last) < len(parent)
        parent[last] = _merge(parent[last], value) if has_old else _fresh(value, flow=False)
    document.indent(mapping=_mapping_indent(text), sequence=sequence or 2, offset=offset or 0)
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


def _mapping_indent(text: str) -> int:
    """How far the text indents a mapping under its key (2 when it never does)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line, following in itertools.pairwise(lines):
        key_only = line.rstrip().endswith(":") and not following.lstrip().startswith("- ")
        step = _depth(following) - _depth(line)
        if key_only and step > 0:
            return step
    return 2


def _depth(line: str) -> int:
    match = _INDENT.match(line)
    return match.end() if match else 0
