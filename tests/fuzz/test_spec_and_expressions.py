"""Hypothesis over the spec loader and the expression language: any text loads or raises a
:class:`SpecError` / :class:`ExpressionError` naming the problem, never another exception;
YAML bombs and deep nesting (to 10k levels) are refused before anything is expanded."""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scorer.challenge.expr import MAX_DEPTH as EXPR_DEPTH
from scorer.challenge.expr import MAX_LENGTH, parse_expression
from scorer.challenge.load import MAX_DEPTH, parse_spec
from scorer.challenge.scaffold import scaffold
from scorer.exceptions import ExpressionError, SpecError
from tests.fuzz.strategies import FUZZ, JSON

#: YAML's spellings that are not what they look like, and numbers at the edges.
ODD = st.sampled_from(
    ["~", "yes", "no", ".inf", "-.inf", ".nan", "1e999", "0x1F", "2026-13-45", "&a", "*a", "!!str"]
)
YAML_VALUES = st.recursive(
    JSON | ODD | st.datetimes() | st.floats(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8) | ODD, inner, max_size=3),
    max_leaves=10,
)
OPENERS = {"[": "]", "{a: ": "}", "- ": ""}


@pytest.fixture(scope="module")
def spec_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    text = (scaffold("Curve", tmp_path_factory.mktemp("spec") / "curve") / "challenge.yaml").read_text()
    parse_spec(text)  # the scaffold is valid: the fuzz starts from something that loads
    return text


def loads_or_names_the_problem(text: str) -> None:
    try:
        parse_spec(text)
    except SpecError as exc:
        assert exc.problems and all(problem.message for problem in exc.problems)


def swap_one(data: Any, draw: st.DrawFn) -> Any:
    """``data`` with one value, anywhere, replaced by any YAML value."""
    if isinstance(data, dict) and data and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(data, key=str)))
        return {**data, key: swap_one(data[key], draw)}
    if isinstance(data, list) and data and draw(st.booleans()):
        index = draw(st.integers(0, len(data) - 1))
        return [*data[:index], swap_one(data[index], draw), *data[index + 1 :]]
    return draw(YAML_VALUES)


@FUZZ
@given(data=st.data())
def test_any_spec_text_loads_or_raises_a_spec_error(spec_text: str, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["swapped", "edited", "text"]))
    if kind == "swapped":
        text = yaml.safe_dump(swap_one(yaml.safe_load(spec_text), data.draw), allow_unicode=True)
    elif kind == "edited":  # a slice of the valid text replaced by any text
        start = data.draw(st.integers(0, len(spec_text)))
        end = data.draw(st.integers(start, min(len(spec_text), start + 20)))
        text = spec_text[:start] + data.draw(st.text(max_size=10)) + spec_text[end:]
    else:
        text = data.draw(st.text(max_size=300))
    loads_or_names_the_problem(text)


@settings(FUZZ, max_examples=25)
@given(st.integers(MAX_DEPTH + 1, 10_000), st.sampled_from(sorted(OPENERS)), st.booleans())
def test_deep_nesting_is_refused_naming_the_limit(depth: int, opener: str, in_a_key: bool) -> None:
    nested = opener * depth + "1" + OPENERS[opener] * depth
    with pytest.raises(SpecError, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_spec(f"title:\n  {nested}" if in_a_key else nested)


@settings(FUZZ, max_examples=25)
@given(st.integers(5, 12), st.integers(9, 12))
def test_a_yaml_bomb_is_refused_without_expanding(width: int, levels: int) -> None:
    lines = ['lol0: &l0 "lol"'] + [
        f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1)
    ]
    text = "\n".join(lines)
    tracemalloc.start()
    try:
        with pytest.raises(
            SpecError,
            match=f"line {levels + 1}, .*the alias \\*l{levels - 1} expands to .* write the values out",
        ):
            parse_spec(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000 * len(text) + 10 * 1024**2, "the bomb was (partly) expanded"


@settings(FUZZ, max_examples=25)
@given(st.integers(2, 60), st.integers(2, 100))
def test_aliases_nesting_deeper_than_the_limit_are_refused(height: int, anchors: int) -> None:
    """Each anchor wraps the one before in ``height`` levels: small text, deep data."""
    lines = ["a0: &a0 x"] + [
        f"a{i}: &a{i} " + "[" * height + f"*a{i - 1}" + "]" * height for i in range(1, anchors)
    ]
    with pytest.raises(SpecError) as refused:
        parse_spec("\n".join(lines))
    message = str(refused.value)
    if (anchors - 1) * height + 2 > MAX_DEPTH:
        assert f"nests more than {MAX_DEPTH} levels deep" in message
    else:
        assert "required key is missing" in message  # loaded, then validated


VOCABULARY = st.sampled_from(
    ["a", "b.c", "0", "1.5", "1e308", "(", ")", ",", "+", "-", "*", "/", "^", "<", "<=", "==", "!=", ">",
     "and", "or", "not", "if", "min", "max", "log", "sqrt", "abs", "exp", "log10", "?", "×", "é", "\x00"]
)  # fmt: skip


@FUZZ
@given(st.lists(VOCABULARY | st.text(max_size=3), max_size=400), st.booleans())
def test_any_expression_parses_or_raises_an_expression_error(tokens: list[str], spaced: bool) -> None:
    text = (" " if spaced else "").join(tokens)
    try:
        expression = parse_expression(text)
    except ExpressionError as exc:
        assert str(exc) and (exc.position is None or 0 <= exc.position <= len(text))
        return
    value = expression.evaluate({"a": 1e308, "b.c": -0.0})
    assert value is None or math.isfinite(value)


@FUZZ
@given(st.integers(EXPR_DEPTH + 1, 10_000), st.sampled_from(["(", "-", "not ", "abs(", "2^", "if(1, 1, "]))
def test_deep_expressions_are_refused_naming_the_limit(depth: int, opener: str) -> None:
    closer = ")" if opener.endswith("(") or opener.startswith("if") else ""
    text = opener * depth + "1" + closer * depth
    too = "too long" if len(text) > MAX_LENGTH else f"nested too deeply (more than {EXPR_DEPTH} levels)"
    with pytest.raises(ExpressionError, match=too.replace("(", r"\(").replace(")", r"\)")):
        parse_expression(text)
