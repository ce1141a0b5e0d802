"""Reading ``challenge.yaml`` from a folder or a git tree, with errors that name file and field."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from coop_client.layout import SPEC_FILE
from scorer.challenge.spec import Challenge
from scorer.exceptions import SpecError, SpecProblem


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML keeps the last of two equal keys without a word; a challenge spec must not."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[object, int] = {}
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def parse_spec(text: str, filename: str = SPEC_FILE) -> Challenge:
    """Validate the YAML text of a challenge; raise :class:`SpecError` listing every problem."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
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
    return problems


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
                message += f" (got {error['input']!r:.60})"
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
