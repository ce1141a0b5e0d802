"""The leaderboard expression language: parsing, evaluation, errors."""

from __future__ import annotations

import contextlib
import math
import pickle

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from scorer.challenge.expr import (
    MAX_DEPTH,
    MAX_LENGTH,
    RESERVED_NAMES,
    Binary,
    Call,
    Chain,
    Conditional,
    Name,
    Node,
    Number,
    Unary,
    parse_expression,
)
from scorer.exceptions import ExpressionError

TRACKML = "if(accuracy < 0.5, 0, sqrt(log(1 + 600/time_per_event) * (accuracy - 0.5)^2))"


def show(node: Node) -> str:
    """A fully parenthesised rendering of the AST, to check precedence and associativity."""
    if isinstance(node, Number):
        return f"{node.value:g}"
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        return f"({node.op} {show(node.operand)})"
    if isinstance(node, Binary):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, Chain):
        text = show(node.first)
        for op, operand in node.rest:
            text += f" {op} {show(operand)}"
        return f"({text})"
    if isinstance(node, Call):
        return f"{node.function}({', '.join(show(a) for a in node.args)})"
    assert isinstance(node, Conditional)
    return f"if({show(node.condition)}, {show(node.then)}, {show(node.otherwise)})"


def value(text: str, **variables: float | None) -> float | None:
    return parse_expression(text).evaluate(variables)


def error(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    return info.value


# --- syntax ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("(1 + 2) * 3", "((1 + 2) * 3)"),
        ("1 - 2 - 3", "(1 - 2 - 3)"),
        ("1 - (2 - 3)", "(1 - (2 - 3))"),
        ("8 / 4 / 2", "(8 / 4 / 2)"),
        ("a * b + c * d", "((a * b) + (c * d))"),
        ("2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"),
        ("-a ^ 2", "(- (a ^ 2))"),
        ("a ^ -b", "(a ^ (- b))"),
        ("2 ^ -1", "(2 ^ -1)"),
        ("-a * b", "((- a) * b)"),
        ("- - a", "(- (- a))"),
        ("+a", "a"),
        ("a + b < c * d", "((a + b) < (c * d))"),
        ("a < b and c >= d or e != f", "(((a < b) and (c >= d)) or (e != f))"),
        ("a or b and c", "(a or (b and c))"),
        ("not a < b", "(not (a < b))"),
        ("not a and b", "((not a) and b)"),
        ("a and b and c", "(a and b and c)"),
        ("a ? b : c ? d : e", "if(a, b, if(c, d, e))"),
        ("a < 1 ? b + 1 : c", "if((a < 1), (b + 1), c)"),
        ("if(a, b, c)", "if(a, b, c)"),
        ("min(a, b + 1, 3)", "min(a, (b + 1), 3)"),
        ("1e-3 + .5 + 2. + 1E3", "(0.001 + 0.5 + 2 + 1000)"),
        ("a ** 2", "(a ^ 2)"),
        ("x²", "(x ^ 2)"),
        ("-x³", "(- (x ^ 3))"),
    ],
)
def test_precedence_and_associativity(text: str, tree: str) -> None:
    assert show(parse_expression(text).root) == tree


@pytest.mark.parametrize(
    ("unicode", "ascii_"),
    [
        ("a − b", "a - b"),
        ("a × b", "a * b"),
        ("a · b", "a * b"),
        ("a ÷ b", "a / b"),
        ("−a", "-a"),
        ("a ≤ b", "a <= b"),
        ("a ≥ b", "a >= b"),
        ("a ≠ b", "a != b"),
    ],
)
def test_unicode_operators(unicode: str, ascii_: str) -> None:
    assert parse_expression(unicode).root == parse_expression(ascii_).root


def test_the_formula_as_written_in_the_brief_parses() -> None:
    brief = parse_expression("sqrt(log(1+600/t)·(A−0.5)²)")
    plain = parse_expression("sqrt(log(1 + 600/t) * (A - 0.5)^2)")
    assert brief.root == plain.root


def test_whitespace_is_free() -> None:
    assert parse_expression(" \t1+\n2 ").root == parse_expression("1 + 2").root


def test_names_are_every_variable_referenced() -> None:
    assert parse_expression(TRACKML).names == {"accuracy", "time_per_event"}
    assert parse_expression("if(a, b, c) + min(d, 1)").names == {"a", "b", "c", "d"}
    assert parse_expression("log(2) + 3").names == frozenset()
    assert parse_expression("_x1 + X_2").names == {"_x1", "X_2"}


def test_expressions_pickle() -> None:
    expression = parse_expression(TRACKML)
    again = pickle.loads(pickle.dumps(expression))
    assert again == expression
    assert again.evaluate({"accuracy": 0.9, "time_per_event": 2.0}) == pytest.approx(0.95558, abs=1e-5)


def test_expression_keeps_its_text_and_compares_by_tree() -> None:
    expression = parse_expression("a+1")
    assert expression.text == "a+1"
    assert expression == parse_expression("a+1")
    assert hash(expression) == hash(parse_expression("a+1"))


# --- evaluation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("2 ^ 3 ^ 2", 512.0),
        ("-2 ^ 2", -4.0),
        ("2 ^ -1", 0.5),
        ("10 - 4 - 3", 3.0),
        ("2 ^ 0.5", math.sqrt(2)),
        ("7 / 2", 3.5),
        ("1 − 2 × 3 ÷ 4", -0.5),
        ("log(e_)", 1.0),
        ("log(1)", 0.0),
        ("log10(1000)", 3.0),
        ("exp(0)", 1.0),
        ("exp(1)", math.e),
        ("sqrt(16)", 4.0),
        ("abs(-3)", 3.0),
        ("abs(3)", 3.0),
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2)", 3.0),
        ("min(4)", 4.0),
        ("if(1, 2, 3)", 2.0),
        ("if(0, 2, 3)", 3.0),
        ("if(-0.1, 2, 3)", 2.0),
        ("1 ? 2 : 3", 2.0),
        ("1 < 2", 1.0),
        ("2 < 1", 0.0),
        ("2 <= 2", 1.0),
        ("2 > 2", 0.0),
        ("2 >= 2", 1.0),
        ("2 == 2", 1.0),
        ("2 != 2", 0.0),
        ("1 and 2", 1.0),
        ("1 and 0", 0.0),
        ("0 or 0", 0.0),
        ("0 or 3", 1.0),
        ("not 0", 1.0),
        ("not 5", 0.0),
        ("(1 < 2) + (3 < 4)", 2.0),
    ],
)
def test_evaluation(text: str, expected: float) -> None:
    assert value(text, e_=math.e) == pytest.approx(expected)


def test_trackml_speed_accuracy_score_matches_a_hand_computation() -> None:
    # accuracy 0.9, 2 s per event: sqrt(ln(1 + 600/2) * 0.4^2) = 0.4 * sqrt(ln 301)
    expected = 0.4 * math.sqrt(math.log(301))
    assert expected == pytest.approx(0.95558, abs=1e-5)
    score = parse_expression(TRACKML)
    assert score.evaluate({"accuracy": 0.9, "time_per_event": 2.0}) == pytest.approx(expected)
    assert score.evaluate({"accuracy": 0.3, "time_per_event": 2.0}) == 0.0
    assert score.evaluate({"accuracy": 0.5, "time_per_event": 2.0}) == 0.0


def test_conditionals_are_lazy() -> None:
    # For A < 0.5 the else branch would be undefined (t = 0: division by zero).
    formula = "if(A < 0.5, 0, sqrt(log(1 + 600/t) * (A - 0.5)^2))"
    assert value(formula, A=0.2, t=0.0) == 0.0
    assert value(formula, A=0.2) == 0.0  # t missing but not needed
    assert value(formula, A=0.9, t=0.0) is None
    assert value("if(1, 5, log(-1))") == 5.0
    assert value("if(0, log(-1), 5)") == 5.0
    assert value("0 ? 1/0 : 7") == 7.0
    assert value("0 and 1/0") == 0.0
    assert value("1 or sqrt(-1)") == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "log(0)",
        "log(-1)",
        "log10(0)",
        "sqrt(-1)",
        "1 / 0",
        "0 / 0",
        "1 / (a - a)",
        "exp(1000)",
        "10 ^ 400",
        "0 ^ -1",
        "(-8) ^ (1/3)",
        "1e308 * 10",
        "1e308 + 1e308",
        "-1e308 - 1e308",
        "1e308 / 1e-308",
        "1e308 * 10 * 0",
        "1 / (1e308 * 10)",
        "min(1, log(0))",
        "if(log(0), 1, 2)",
        "not log(0)",
        "log(0) < 1",
        "1 and log(0)",
    ],
)
def test_undefined_results_are_none(text: str) -> None:
    assert value(text, a=3.0) is None


@pytest.mark.parametrize(
    "variables",
    [{}, {"a": None}, {"a": math.nan}, {"a": math.inf}, {"a": -math.inf}, {"a": "1"}],
)
def test_missing_or_unusable_variables_make_the_result_none(variables: dict) -> None:
    assert parse_expression("a + 1").evaluate(variables) is None
    assert parse_expression("-a").evaluate(variables) is None
    assert parse_expression("max(a, 2)").evaluate(variables) is None


def test_integer_and_boolean_variables_are_numbers() -> None:
    assert value("a + b", a=2, b=True) == 3.0
    assert isinstance(value("a", a=2), float)


def test_names_are_case_sensitive() -> None:
    assert value("Acc - acc", Acc=3.0, acc=1.0) == 2.0
    assert value("Acc", acc=1.0) is None


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty expression", 0),
        ("   ", "empty expression", 0),
        ("1 +", "unexpected end of expression", 3),
        ("1 + * 2", "unexpected '*'", 4),
        ("1 2", "unexpected number '2': expected an operator", 2),
        ("a b", "unexpected name 'b'", 2),
        ("(1 + 2", "unbalanced parenthesis: this '(' is never closed", 0),
        ("((1)", "unbalanced parenthesis", 0),
        ("1 + 2)", "unmatched ')'", 5),
        (")", "unexpected ')'", 0),
        ("()", "unexpected ')'", 1),
        ("(1 2)", "expected ')' (for the '(' at position 0), found number '2'", 3),
        ("max(1 2)", "expected ',' or ')' (for the '(' at position 3)", 6),
        ("max(1,)", "unexpected ')'", 6),
        ("min(1", "unbalanced parenthesis", 3),
        ("1, 2", "unexpected ','", 1),
        ("foo(1)", "unknown function 'foo' (known: abs, exp, if, log, log10, max, min, sqrt)", 0),
        ("Log(1)", "unknown function 'Log'", 0),
        ("sqrt(1, 2)", "sqrt takes 1 argument, got 2", 0),
        ("log()", "log takes 1 argument, got 0", 0),
        ("exp(1, 2)", "exp takes 1 argument, got 2", 0),
        ("abs()", "abs takes 1 argument, got 0", 0),
        ("log10(1, 2)", "log10 takes 1 argument, got 2", 0),
        ("min()", "min takes at least 1 argument, got 0", 0),
        ("max()", "max takes at least 1 argument, got 0", 0),
        ("if(a, b)", "if takes 3 arguments (condition, then, else), got 2", 0),
        ("if(a, b, c, d)", "if takes 3 arguments (condition, then, else), got 4", 0),
        ("sqrt + 1", "'sqrt' is a function: write sqrt(...)", 0),
        ("if", "'if' is a function: write if(condition, then, else)", 0),
        ("and", "unexpected 'and'", 0),
        ("1 or", "unexpected end of expression", 4),
        ("a ? b", "expected ':' in 'condition ? then : else', found end of expression", 5),
        ("a : b", "unexpected ':'", 2),
        ("1 < 2 < 3", "comparisons cannot be chained: combine them with 'and'", 6),
        ("1 = 1", "unexpected character '=': use '==' to compare", 2),
        ("a && b", "use 'and'", 2),
        ("a || b", "use 'or'", 2),
        ("!a", "use 'not'", 0),
        ("2x", "malformed number '2x'", 0),
        ("1.2.3", "malformed number '1.2.3'", 0),
        ("1e", "malformed number '1e'", 0),
        ("1e999", "number '1e999' is too large", 0),
        ("a # comment", "unexpected character '#'", 2),
        ("α + 1", "unexpected character 'α'", 0),
        ("a $ b", "unexpected character '$'", 2),
    ],
)
def test_error_messages(text: str, message: str, position: int) -> None:
    exc = error(text)
    assert message in exc.user_message
    assert exc.position == position
    assert exc.expression == text
    assert f"at position {position}" in str(exc)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "text in quotes is not supported"),
        ("__import__(os)", "unknown function '__import__'"),
        ("open(a)", "unknown function 'open'"),
        ("eval(a)", "unknown function 'eval'"),
        ("a.b", "attribute access is not supported"),
        ("a.__class__", "attribute access is not supported"),
        ("(1).real", "attribute access is not supported"),
        ("a[0]", "indexing is not supported"),
        ("'text'", "text in quotes is not supported"),
        ('"text"', "text in quotes is not supported"),
        ("lambda x: x", "unexpected name 'x'"),
        ("lambda: 1", "unexpected ':'"),
        ("[x for x in a]", "indexing is not supported"),
        ("{1: 2}", "unexpected character '{'"),
        ("a; b", "unexpected character ';'"),
        ("a = 1", "use '=='"),
        ("f'{a}'", "text in quotes"),
        ("a if b else c", "unexpected name 'if'"),
        ("@a", "unexpected character '@'"),
        ("`a`", "unexpected character '`'"),
        ("\\x41", "unexpected character '\\\\'"),
    ],
)
def test_python_is_not_accepted(text: str, message: str) -> None:
    assert message in error(text).user_message


def test_reserved_names() -> None:
    assert {"and", "or", "not", "if", "log", "min"} <= RESERVED_NAMES
    assert "time" not in RESERVED_NAMES


def test_too_long() -> None:
    text = "a + " * (MAX_LENGTH // 4) + "a"
    exc = error(text)
    assert f"too long ({len(text)} characters, at most {MAX_LENGTH})" in exc.user_message
    assert exc.position is None
    assert len(str(exc)) < 200  # the message does not repeat the whole text


def test_longest_allowed_flat_sum_evaluates() -> None:
    # A long flat chain is not "deep": it parses and evaluates without recursion trouble.
    text = "+".join(["1"] * (MAX_LENGTH // 2))
    assert len(text) <= MAX_LENGTH
    assert value(text) == MAX_LENGTH // 2
    assert value("*".join(["a"] * 500), a=1.0) == 1.0


def test_too_deep() -> None:
    nested = "(" * 100 + "1" + ")" * 100
    exc = error(nested)
    assert f"nested too deeply (more than {MAX_DEPTH} levels)" in exc.user_message
    assert "nested too deeply" in error("-" * 200 + "1").user_message
    assert "nested too deeply" in error("2^" * 200 + "2").user_message
    assert "nested too deeply" in error("sqrt(" * 100 + "1" + ")" * 100).user_message
    assert "nested too deeply" in error("not " * 100 + "1").user_message


def test_reasonable_nesting_is_fine() -> None:
    depth = MAX_DEPTH // 2 - 1
    assert value("(" * depth + "1" + ")" * depth) == 1.0
    assert value("sqrt(" * 10 + "a" + ")" * 10, a=1.0) == 1.0


# --- properties --------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False)
anything = st.one_of(
    st.none(), st.floats(), st.integers(-(10**6), 10**6), st.sampled_from([0.0, -0.0, 1e308])
)


@given(finite, finite)
def test_arithmetic_matches_python(a: float, b: float) -> None:
    variables = {"a": a, "b": b}
    for text, expected in [
        ("a + b", lambda: a + b),
        ("a - b", lambda: a - b),
        ("a * b", lambda: a * b),
        ("a / b", lambda: a / b),
        ("a - b * a", lambda: a - b * a),
        ("(a + b) / 2", lambda: (a + b) / 2),
        ("-a + b", lambda: -a + b),
    ]:
        try:
            result = expected()
        except ZeroDivisionError:
            result = None
        if result is not None and not math.isfinite(result):
            result = None
        assert parse_expression(text).evaluate(variables) == result, text


@given(finite, finite)
def test_comparisons_match_python(a: float, b: float) -> None:
    variables = {"a": a, "b": b}
    assert value("a < b", **variables) == float(a < b)
    assert value("a >= b", **variables) == float(a >= b)
    assert value("a == b", **variables) == float(a == b)
    assert value("min(a, b)", **variables) == min(a, b)
    assert value("if(a > b, a, b)", **variables) == max(a, b)


_LEAVES = st.one_of(
    st.sampled_from(["a", "b", "c", "0", "1", "0.5", "1e308", "2"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=0).map(repr),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children, st.sampled_from(["+", "-", "*", "/", "^", "<", "==", "and", "or"]), children
    ).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["-", "not ", "log", "log10", "exp", "sqrt", "abs"]), children).map(
        lambda t: f"{t[0]}({t[1]})"
    )
    calls = st.tuples(st.sampled_from(["min", "max", "if"]), st.lists(children, min_size=3, max_size=3))
    return st.one_of(binary, unary, calls.map(lambda t: f"{t[0]}({', '.join(t[1])})"))


expressions = st.recursive(_LEAVES, _combine, max_leaves=20)


@given(expressions, anything, anything, anything)
def test_evaluate_never_raises(text: str, a: object, b: object, c: object) -> None:
    result = parse_expression(text).evaluate({"a": a, "b": b, "c": c})  # type: ignore[dict-item]
    assert result is None or (isinstance(result, float) and math.isfinite(result))


@given(st.text(max_size=60))
def test_parser_raises_only_expression_errors(text: str) -> None:
    try:
        expression = parse_expression(text)
    except ExpressionError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
        return
    assert expression.evaluate({}) is None or math.isfinite(expression.evaluate({}))


@given(st.text(alphabet="ab01.+-*/^()<>=!,?: ×−÷", max_size=40))
def test_parser_on_operator_soup(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        result = parse_expression(text).evaluate({"a": 1.0, "b": 2.0})
        assert result is None or math.isfinite(result)


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_numbers_parse_like_python(whole: int, fraction: int) -> None:
    text = f"{whole}.{fraction}"
    assume(len(text) < 30)
    assert value(text) == float(text)
