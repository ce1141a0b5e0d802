"""Organisers' edits of ``challenge.yaml``: values set at paths, the rest of the text kept.

The text goes through ruamel.yaml's round trip, which keeps comments, key order, quoting and
flow or block style. A new value is merged into the one it replaces, so that only the lines
whose values change are written again (an unchanged key keeps its line and its comment); times
are written as ``2026-01-01T00:00:00Z``. ruamel.yaml does not keep indentation, so the text's
own is measured on the parsed nodes (their line and column), never guessed from lines that
may belong to a block of prose. Anchors and aliases are written again as the text had them;
an edit through an alias gets a copy of its own, so the other places using the value keep it.
Last, every changed block of lines that need not change (a quoted string that spanned lines,
which ruamel.yaml writes on one) is put back as it was.

PyYAML reads the spec (YAML 1.1, where ``yes`` is true and ``1:30`` is 90), ruamel.yaml writes
YAML 1.2: a new string PyYAML would read as something else is quoted, and the edited text must
load to exactly the intended data; when it does not (an exotic layout or value), the whole
file is dumped again with PyYAML, which is still correct but drops its comments.
"""

from __future__ import annotations

import copy
import difflib
import io
from collections.abc import Callable, Mapping, Sequence
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
        parent = _owned(intended, path, lambda node: isinstance(node, dict | list))
        if value is REMOVE:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    document = _round_trip(text)
    tree = document.load(text)
    mapping, sequence, offset = _indentation(tree)
    shared = _shared(tree)
    document.representer.ignore_aliases = lambda data: _ignore_alias(data, shared)
    for path, value in changes:
        parent = _owned(tree, path, lambda node: id(node) in shared)
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
    if _same(yaml.safe_load(edited), intended):
        return _fewest_changes(text, edited, intended)
    return yaml.safe_dump(intended, sort_keys=False, allow_unicode=True)


def _fewest_changes(text: str, edited: str, intended: Any) -> str:
    """``edited`` with every changed block of lines that need not change put back as ``text``
    had it (ruamel.yaml writes a quoted string that spanned lines on one line, for example):
    a block goes back when the text still loads to exactly the ``intended`` data."""
    old, new = text.splitlines(keepends=True), edited.splitlines(keepends=True)
    blocks = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(blocks):  # from the end: earlier indexes stay valid
        if tag == "equal":
            continue
        candidate = new[:j1] + old[i1:i2] + new[j2:]
        try:
            restored = _same(yaml.safe_load("".join(candidate)), intended)
        except yaml.YAMLError:
            restored = False
        if restored:
            new = candidate
    return "".join(new)


def _same(a: Any, b: Any) -> bool:
    """Equal data of the same types (``1 == 1.0 == True`` in Python, not in a spec)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _round_trip(text: str) -> YAML:
    document = YAML()  # round trip
    document.preserve_quotes = True
    document.width = 1 << 16  # never fold a long line that was one line
    document.representer.add_representer(datetime, _represent_time)
    return document


def _ignore_alias(data: Any, shared: set[int]) -> bool:
    """Only what the text anchors or shares is written with an anchor and aliases again (one
    new time set twice: no ``&id001``). ruamel.yaml forgets anchors named like its own ``id001``
    but keeps the sharing: ``shared`` has those."""
    anchor = getattr(data, "anchor", None)
    return getattr(anchor, "value", None) is None and id(data) not in shared


def _shared(tree: Any) -> set[int]:
    """The nodes the text uses more than once (an anchor and its aliases); every anchor the
    text writes is marked to be written again, even if an edit leaves it without an alias."""
    seen: set[int] = set()
    shared: set[int] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        anchor = getattr(getattr(node, "anchor", None), "value", None)
        if anchor is not None:
            node.yaml_set_anchor(anchor, always_dump=True)
        if not isinstance(node, CommentedMap | CommentedSeq):
            continue
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        pending += list(node.values()) if isinstance(node, CommentedMap) else list(node)
    return shared


def _owned(data: Any, path: YamlPath, is_shared: Callable[[Any], bool]) -> Any:
    """The parent of ``path``'s last key, every shared node on the way to it (and the node at
    ``path``) replaced by a copy of its own: an edit through an alias must not change the other
    places the aliased value is used."""
    for depth, key in enumerate(path):
        child = _get(data, key)
        if child is not None and is_shared(child):
            child = copy.deepcopy(child)
            if isinstance(child, CommentedMap | CommentedSeq):
                child.yaml_set_anchor(None)
            data[key] = child
        if depth == len(path) - 1:
            return data
        data = child
    return data


def _get(data: Any, key: str | int) -> Any:
    if isinstance(data, Mapping):
        return data.get(key)
    return data[key] if isinstance(key, int) and 0 <= key < len(data) else None


def _represent_time(representer: RoundTripRepresenter, moment: datetime) -> Any:
    written = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return representer.represent_scalar("tag:yaml.org,2002:timestamp", written)


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
