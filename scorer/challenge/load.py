"""Reading ``challenge.yaml`` from a folder or a git tree, with errors that name file and field."""

from __future__ import annotations

import reprlib
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from coop_client.layout import SPEC_FILE
from scorer.challenge.spec import Challenge
from scorer.environments.inputs import file_problems as requirement_problems
from scorer.exceptions import SpecError, SpecProblem

#: How much larger than the text its aliases may make the data, in nodes plus scalar characters:
#: reusing a block is fine, a "billion laughs" (aliases of aliases) is not.
ALIAS_ALLOWANCE = 100_000
#: How deeply collections may nest, aliases written out: far beyond any real spec, and well within
#: what the recursive steps after loading (validation, JSON for the ledger) can walk.
MAX_DEPTH = 64
#: Input quoted in an error message: a short, bounded rendering, never the whole value.
_QUOTE = reprlib.Repr()
_QUOTE.maxlevel, _QUOTE.maxlist, _QUOTE.maxdict, _QUOTE.maxstring, _QUOTE.maxother = 2, 4, 4, 60, 60


class _SpecLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys, nesting beyond :data:`MAX_DEPTH` and aliases
    expanding far beyond the text.

    YAML keeps the last of two equal keys without a word; a challenge spec must not. An alias
    shares one node, so loading a bomb is cheap, but anything that walks the data (validation,
    an error message, JSON for the ledger) expands it: its expanded size is measured on the
    composed nodes, memoised per node, before anything is constructed.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.aliases: list[tuple[str, yaml.Node, yaml.Mark]] = []
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        alias = self.peek_event() if self.check_event(yaml.AliasEvent) else None
        if self.depth >= MAX_DEPTH:  # refused on the way down: the composer recurses
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", mark)
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if alias is not None and node is not None:
            self.aliases.append((alias.anchor, node, alias.start_mark))
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[object, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {_QUOTE.repr(key)} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _expanded(node: yaml.Node, level: int, sizes: dict[int, tuple[int, int]], open_nodes: set[int]) -> int:
    """Nodes plus scalar characters of ``node`` (at ``level``) with every alias written out;
    ``sizes`` keeps each node's size and height. :class:`_TooDeep` once the level plus the height
    passes :data:`MAX_DEPTH`, checked on the way down: the walk never recurses deeper."""
    key = id(node)
    if key in open_nodes:
        raise _Recursive(node)
    if key not in sizes:
        if level >= MAX_DEPTH:
            raise _TooDeep(node)
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1 + len(node.value), 1
        else:
            open_nodes.add(key)
            children = (
                [p for pair in node.value for p in pair] if isinstance(node, yaml.MappingNode) else node.value
            )
            size = 1 + sum(_expanded(child, level + 1, sizes, open_nodes) for child in children)
            sizes[key] = size, 1 + max((sizes[id(child)][1] for child in children), default=0)
            open_nodes.discard(key)
    size, height = sizes[key]
    if level + height > MAX_DEPTH:
        raise _TooDeep(node)
    return size


class _Recursive(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _TooDeep(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _check_aliases(loader: _SpecLoader, root: yaml.Node, text: str, filename: str) -> None:
    """Refuse a document whose aliases refer to themselves, nest it beyond :data:`MAX_DEPTH` or
    expand it beyond the allowance."""
    if not loader.aliases:
        return
    sizes: dict[int, tuple[int, int]] = {}
    try:
        total = _expanded(root, 0, sizes, set())
    except _Recursive as exc:
        anchor, _node, mark = next(a for a in loader.aliases if a[1] is exc.node)
        raise SpecError(
            [SpecProblem(filename, _line(mark), f"the alias *{anchor} refers to itself (a recursive value)")]
        ) from None
    except _TooDeep as exc:
        raise SpecError(
            [
                SpecProblem(
                    filename,
                    _line(exc.node.start_mark),
                    f"with its aliases written out, the document nests more than {MAX_DEPTH} levels "
                    "deep here: write the values out instead of nesting aliases",
                )
            ]
        ) from None
    bound = 2 * len(text) + ALIAS_ALLOWANCE
    if total <= bound:
        return
    anchor, _node, mark = max(loader.aliases, key=lambda a: sizes[id(a[1])][0])
    raise SpecError(
        [
            SpecProblem(
                filename,
                _line(mark),
                f"the alias *{anchor} expands to {sizes[id(_node)][0]:,} nodes and characters, and the "
                f"document to {total:,} (at most {bound:,} for this file): write the values out "
                "instead of nesting aliases",
            )
        ]
    )


def _line(mark: yaml.Mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _load(text: str, filename: str) -> Any:
    loader = _SpecLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_aliases(loader, root, text, filename)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def parse_spec(text: str, filename: str = SPEC_FILE) -> Challenge:
    """Validate the YAML text of a challenge; raise :class:`SpecError` listing every problem."""
    try:
        data = _load(text, filename)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _line(mark) if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([SpecProblem(filename, where, f"not valid YAML: {problem}")]) from exc
    if not isinstance(data, dict):
        raise SpecError([SpecProblem(filename, "", "must be a mapping of keys to values")])
    try:
        return Challenge.model_validate(data)
    except ValidationError as exc:
        raise SpecError(_problems(exc, filename)) from exc


def load_spec(folder: Path) -> Challenge:
    """Load and validate ``folder/challenge.yaml``, then check the files it names exist."""
    path = folder / SPEC_FILE
    if not path.is_file():
        raise SpecError([SpecProblem(str(path), "", "file not found")])
    challenge = parse_spec(path.read_text(encoding="utf-8"), str(path))
    problems = file_problems(challenge, folder, str(path))
    if problems:
        raise SpecError(problems)
    return challenge


def file_problems(challenge: Challenge, folder: Path, filename: str) -> list[SpecProblem]:
    """Problems with files the spec names (baselines, scoring module, generator)."""
    problems = []
    for index, phase in enumerate(challenge.phases):
        if not (folder / phase.baseline).is_file():
            problems.append(SpecProblem(filename, f"phases[{index}].baseline", f"{phase.baseline} not found"))
    if not (folder / challenge.data.scoring_module).is_file():
        problems.append(
            SpecProblem(filename, "data.scoring_module", f"{challenge.data.scoring_module} not found")
        )
    generator_file = challenge.data.generator.partition(":")[0]
    if not (folder / generator_file).is_file():
        problems.append(SpecProblem(filename, "data.generator", f"{generator_file} not found"))
    return problems + environment_problems(challenge, folder, filename)


def environment_problems(
    challenge: Challenge, folder: Path, filename: str, *, warnings: bool = False
) -> list[SpecProblem]:
    """Errors (or, with ``warnings``, only warnings) of the requirements files the spec names."""
    declared = [("environment", challenge.environment)]
    declared += [(f"phases[{i}].environment", p.environment) for i, p in enumerate(challenge.phases)]
    found = []
    for field, spec in declared:
        if spec is None:
            continue
        for problem in requirement_problems(spec, folder)[1]:
            if problem.error != warnings:
                found.append(
                    SpecProblem(filename, f"{field}.requirements", f"{spec.requirements}: {problem}")
                )
    return found


def _problems(exc: ValidationError, filename: str) -> list[SpecProblem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = _field_path(error["loc"])
        kind = error["type"]
        if kind == "extra_forbidden":
            message = "unknown key"
        elif kind == "missing":
            message = "required key is missing"
        else:
            message = error["msg"].removeprefix("Value error, ")
            if "input" in error and kind not in {"value_error", "assertion_error"}:
                message += f" (got {_QUOTE.repr(error['input'])})"
        problems.append(SpecProblem(filename, loc, message))
    return problems


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in {"AverageRank", "WeightedSum", "ExpressionComputation"} or "[" in str(item):
            continue  # pydantic's name for a union member: noise to a reader
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)
