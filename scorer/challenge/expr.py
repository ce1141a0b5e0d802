"""A small, safe expression language for computed leaderboard columns.

An organiser writes e.g. ``if(accuracy < 0.5, 0, sqrt(log(1 + 600/time) * (accuracy - 0.5)^2))``.
The text is tokenized and parsed (Pratt parser) into an AST of frozen dataclasses, then turned
into nested Python closures once; nothing is ever handed to ``eval``/``exec``/``compile``.

Evaluation never raises: a missing or ``None`` variable, a non-finite input, a math domain error,
a division by zero or an overflow makes the result ``None`` ("undefined": shown empty, ranked
last). Conditionals and ``and``/``or`` are lazy, so an untaken branch cannot make a value
undefined.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, NoReturn

from scorer.exceptions import ExpressionError

__all__ = [
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "RESERVED_NAMES",
    "Binary",
    "Call",
    "Chain",
    "Conditional",
    "Expression",
    "Name",
    "Node",
    "Number",
    "Unary",
    "parse_expression",
]

MAX_LENGTH: Final = 2000
MAX_DEPTH: Final = 64

#: function name -> (least, most) number of arguments; ``None`` means any number.
FUNCTIONS: Final[Mapping[str, tuple[int, int | None]]] = {
    "abs": (1, 1),
    "exp": (1, 1),
    "if": (3, 3),
    "log": (1, 1),
    "log10": (1, 1),
    "max": (1, None),
    "min": (1, None),
    "sqrt": (1, 1),
}
KEYWORDS: Final = frozenset({"and", "or", "not"})
#: Words that cannot name a variable (a metric whose key is one of these cannot be used).
RESERVED_NAMES: Final = frozenset(FUNCTIONS) | KEYWORDS


# --- AST -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str  # "^" or a comparison
    left: Node
    right: Node


@dataclass(frozen=True)
class Chain:
    """A left-associative run of one precedence level: ``a - b + c``, ``a and b and c``.

    Kept flat (not as nested binaries) so a long sum cannot make the tree deep.
    """

    first: Node
    rest: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Conditional:
    condition: Node
    then: Node
    otherwise: Node


Node = Number | Name | Unary | Binary | Chain | Call | Conditional


# --- tokens ----------------------------------------------------------------------------------

_NUM, _NAME, _OP, _END = "number", "name", "operator", "end"

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>\*\*|<=|>=|==|!=|[-+*/^()<>,?:−×·⋅÷≤≥≠²³])
    """,
    re.VERBOSE | re.ASCII,
)
_CANONICAL = {
    "**": "^", "−": "-", "×": "*", "·": "*", "⋅": "*", "÷": "/", "≤": "<=", "≥": ">=", "≠": "!=",
}  # fmt: skip
_SUPERSCRIPTS = {"²": 2.0, "³": 3.0}
# Characters a user may try, with a better hint than "unexpected character".
_HINTS = {
    "'": "text in quotes is not supported",
    '"': "text in quotes is not supported",
    ".": "attribute access is not supported",
    "[": "indexing is not supported",
    "]": "indexing is not supported",
    "=": "use '==' to compare",
    "&": "use 'and'",
    "|": "use 'or'",
    "!": "use 'not'",
}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            hint = _HINTS.get(char)
            message = f"unexpected character {char!r}" + (f": {hint}" if hint else "")
            raise ExpressionError(message, text, pos)
        kind = match.lastgroup
        end = match.end()
        if kind == "number":
            if end < len(text) and (text[end].isalnum() or text[end] in "._"):
                junk = re.match(r"[\w.]*", text[end:])
                bad = text[pos : end + (junk.end() if junk else 0)]
                raise ExpressionError(f"malformed number {bad!r}", text, pos)
            if not math.isfinite(float(match.group())):
                raise ExpressionError(f"number {match.group()!r} is too large", text, pos)
            tokens.append(_Token(_NUM, match.group(), pos))
        elif kind == "name":
            tokens.append(_Token(_NAME, match.group(), pos))
        elif kind == "op":
            op = match.group()
            tokens.append(_Token(_OP, _CANONICAL.get(op, op), pos))
        pos = end
    tokens.append(_Token(_END, "", len(text)))
    return tokens


# --- parser ----------------------------------------------------------------------------------

_COMPARISONS = frozenset({"<", "<=", ">", ">=", "==", "!="})
# Left binding powers of infix/postfix operators: larger binds tighter.
_LBP = {"?": 1, "or": 2, "and": 3, "+": 6, "-": 6, "*": 7, "/": 7, "^": 9, "²": 10, "³": 10}
_LBP.update(dict.fromkeys(_COMPARISONS, 5))
_NOT_RBP = 3  # `not a < b` is `not (a < b)`; `not a and b` is `(not a) and b`
_NEG_RBP = 7  # `-a * b` is `(-a) * b`; `-a ^ 2` is `-(a ^ 2)`


def _describe(token: _Token) -> str:
    if token.kind == _END:
        return "end of expression"
    return f"{token.kind} {token.text!r}" if token.kind != _OP else repr(token.text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    def fail(self, message: str, pos: int) -> NoReturn:
        raise ExpressionError(message, self.text, pos)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, op: str, context: str) -> None:
        token = self.peek()
        if token.kind == _OP and token.text == op:
            self.index += 1
            return
        self.fail(f"expected {op!r} {context}, found {_describe(token)}", token.pos)

    def close(self, opened_at: int, expected: str = "')'") -> None:
        token = self.peek()
        if token.kind == _OP and token.text == ")":
            self.index += 1
            return
        if token.kind == _END:
            self.fail("unbalanced parenthesis: this '(' is never closed", opened_at)
        self.fail(
            f"expected {expected} (for the '(' at position {opened_at}), found {_describe(token)}",
            token.pos,
        )

    def parse(self) -> Node:
        if not self.text.strip():
            self.fail("empty expression", 0)
        node = self.expression(0)
        token = self.peek()
        if token.kind != _END:
            if token.kind == _OP and token.text == ")":
                self.fail("unmatched ')'", token.pos)
            self.fail(f"unexpected {_describe(token)}: expected an operator", token.pos)
        return node

    def expression(self, rbp: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expression is nested too deeply (more than {MAX_DEPTH} levels)", self.peek().pos)
        left = self.prefix()
        while True:
            token = self.peek()
            lbp = _LBP.get(token.text, 0) if token.kind in (_OP, _NAME) else 0
            if lbp <= rbp:
                break
            self.index += 1
            left = self.infix(token, left, lbp)
        self.depth -= 1
        return left

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind == _NUM:
            return Number(float(token.text))
        if token.kind == _OP:
            if token.text == "(":
                inner = self.expression(0)
                self.close(token.pos)
                return inner
            if token.text == "-":
                operand = self.expression(_NEG_RBP)
                if isinstance(operand, Number):
                    return Number(-operand.value)
                return Unary("-", operand)
            if token.text == "+":
                return self.expression(_NEG_RBP)
        if token.kind == _NAME:
            return self.name(token)
        if token.kind == _END:
            self.fail("unexpected end of expression: expected a number, name or '('", token.pos)
        self.fail(f"unexpected {_describe(token)}: expected a number, name or '('", token.pos)

    def name(self, token: _Token) -> Node:
        word = token.text
        if word == "not":
            return Unary("not", self.expression(_NOT_RBP))
        if word in KEYWORDS:
            self.fail(f"unexpected {word!r}: expected a number, name or '('", token.pos)
        following = self.peek()
        if following.kind == _OP and following.text == "(":
            self.index += 1
            return self.call(token, following.pos)
        if word in FUNCTIONS:
            usage = "if(condition, then, else)" if word == "if" else f"{word}(...)"
            self.fail(f"{word!r} is a function: write {usage}", token.pos)
        return Name(word)

    def call(self, token: _Token, opened_at: int) -> Node:
        word = token.text
        if word not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            self.fail(f"unknown function {word!r} (known: {known})", token.pos)
        args: list[Node] = []
        if not (self.peek().kind == _OP and self.peek().text == ")"):
            args.append(self.expression(0))
            while self.peek().kind == _OP and self.peek().text == ",":
                self.index += 1
                args.append(self.expression(0))
        self.close(opened_at, "',' or ')'")
        least, most = FUNCTIONS[word]
        if len(args) < least or (most is not None and len(args) > most):
            self.fail(f"{_arity(word, least, most)}, got {len(args)}", token.pos)
        if word == "if":
            return Conditional(args[0], args[1], args[2])
        return Call(word, tuple(args))

    def infix(self, token: _Token, left: Node, lbp: int) -> Node:
        op = token.text
        if op in _SUPERSCRIPTS:
            return Binary("^", left, Number(_SUPERSCRIPTS[op]))
        if op == "^":
            return Binary("^", left, self.expression(lbp - 1))  # right-associative
        if op == "?":
            then = self.expression(0)
            self.expect(":", "in 'condition ? then : else'")
            return Conditional(left, then, self.expression(lbp - 1))
        if op in _COMPARISONS:
            right = self.expression(lbp)
            following = self.peek()
            if following.kind == _OP and following.text in _COMPARISONS:
                self.fail("comparisons cannot be chained: combine them with 'and'", following.pos)
            return Binary(op, left, right)
        right = self.expression(lbp)
        # Extend a chain of the same level ((a - b) + c is a - b + c), else start one.
        if isinstance(left, Chain) and _LBP[left.rest[0][0]] == lbp:
            return Chain(left.first, (*left.rest, (op, right)))
        return Chain(left, ((op, right),))


def _arity(word: str, least: int, most: int | None) -> str:
    if word == "if":
        return "if takes 3 arguments (condition, then, else)"
    if most is None:
        return f"{word} takes at least {least} argument{'s' if least > 1 else ''}"
    return f"{word} takes {least} argument{'s' if least > 1 else ''}"


# --- evaluation --------------------------------------------------------------------------------

Variables = Mapping[str, float | None]
_Fn = Callable[[Variables], float]


class _Undefined(Exception):
    """Raised inside evaluation when a value is undefined; becomes ``None``."""


_UNDEFINED_ERRORS = (_Undefined, ArithmeticError, ValueError, KeyError)


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_UNARY_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "exp": math.exp,
    "log": math.log,
    "log10": math.log10,
    "sqrt": math.sqrt,
}


def _compile(node: Node) -> _Fn:
    if isinstance(node, Number):
        value = node.value
        return lambda _v: value
    if isinstance(node, Name):
        return _compile_name(node.name)
    if isinstance(node, Unary):
        operand = _compile(node.operand)
        if node.op == "-":
            return lambda v: -operand(v)
        return lambda v: 0.0 if operand(v) else 1.0
    if isinstance(node, Binary):
        left, right = _compile(node.left), _compile(node.right)
        if node.op == "^":
            pow_ = math.pow  # raises on overflow and on complex results, unlike **
            return lambda v: pow_(left(v), right(v))
        compare = _COMPARE[node.op]
        return lambda v: 1.0 if compare(left(v), right(v)) else 0.0
    if isinstance(node, Chain):
        return _compile_chain(node)
    if isinstance(node, Call):
        args = [_compile(arg) for arg in node.args]
        if node.function in ("min", "max"):
            pick = min if node.function == "min" else max
            return lambda v: pick([arg(v) for arg in args])
        function, (arg,) = _UNARY_FUNCTIONS[node.function], args
        return lambda v: function(arg(v))
    condition, then, otherwise = (
        _compile(node.condition), _compile(node.then), _compile(node.otherwise)
    )  # fmt: skip
    return lambda v: then(v) if condition(v) else otherwise(v)


def _compile_name(name: str) -> _Fn:
    def lookup(variables: Variables) -> float:
        value = variables[name]
        if type(value) is not float:
            if not isinstance(value, int | float):  # None, or not a number at all
                raise _Undefined
            value = float(value)
        if value - value == 0.0:  # finite (inf - inf and nan - nan are nan)
            return value
        raise _Undefined

    return lookup


def _compile_chain(node: Chain) -> _Fn:
    first = _compile(node.first)
    rest = [(op, _compile(operand)) for op, operand in node.rest]
    if rest[0][0] in ("and", "or"):
        if rest[0][0] == "and":
            return lambda v: 1.0 if first(v) and all(fn(v) for _, fn in rest) else 0.0
        return lambda v: 1.0 if first(v) or any(fn(v) for _, fn in rest) else 0.0
    if len(rest) == 1:
        return _BINARY_ARITHMETIC[rest[0][0]](first, rest[0][1])
    steps = [(_ARITHMETIC[op], fn) for op, fn in rest]

    def chain(variables: Variables) -> float:
        value = first(variables)
        for apply, fn in steps:
            value = apply(value, fn(variables))
            if value - value != 0.0:  # inf or nan
                raise _Undefined
        return value

    return chain


# One closure per operator (not a generic one calling `apply`): evaluation is a hot path.
def _add(left: _Fn, right: _Fn) -> _Fn:
    def add(variables: Variables) -> float:
        value = left(variables) + right(variables)
        if value - value == 0.0:  # finite: inf - inf and nan - nan are nan
            return value
        raise _Undefined

    return add


def _sub(left: _Fn, right: _Fn) -> _Fn:
    def sub(variables: Variables) -> float:
        value = left(variables) - right(variables)
        if value - value == 0.0:
            return value
        raise _Undefined

    return sub


def _mul(left: _Fn, right: _Fn) -> _Fn:
    def mul(variables: Variables) -> float:
        value = left(variables) * right(variables)
        if value - value == 0.0:
            return value
        raise _Undefined

    return mul


def _truediv(left: _Fn, right: _Fn) -> _Fn:
    def truediv(variables: Variables) -> float:
        value = left(variables) / right(variables)
        if value - value == 0.0:
            return value
        raise _Undefined

    return truediv


_BINARY_ARITHMETIC: dict[str, Callable[[_Fn, _Fn], _Fn]] = {
    "+": _add,
    "-": _sub,
    "*": _mul,
    "/": _truediv,
}


def _names(node: Node, into: set[str]) -> None:
    if isinstance(node, Name):
        into.add(node.name)
    elif isinstance(node, Unary):
        _names(node.operand, into)
    elif isinstance(node, Binary):
        _names(node.left, into)
        _names(node.right, into)
    elif isinstance(node, Chain):
        _names(node.first, into)
        for _, operand in node.rest:
            _names(operand, into)
    elif isinstance(node, Call):
        for arg in node.args:
            _names(arg, into)
    elif isinstance(node, Conditional):
        for part in (node.condition, node.then, node.otherwise):
            _names(part, into)


@dataclass(frozen=True)
class Expression:
    """A parsed expression; build it with :func:`parse_expression`."""

    text: str
    root: Node
    names: frozenset[str]
    _function: _Fn = field(repr=False, compare=False)

    def evaluate(self, variables: Variables) -> float | None:
        """The value for these variables, or ``None`` when it is undefined. Never raises."""
        try:
            return self._function(variables)
        except _UNDEFINED_ERRORS:
            return None

    def __reduce__(self) -> tuple[Callable[[str], Expression], tuple[str]]:
        return (parse_expression, (self.text,))  # closures do not pickle: parse again


def parse_expression(text: str) -> Expression:
    """Parse ``text``; raise :class:`ExpressionError` (with a 0-based position) if invalid."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is too long ({len(text)} characters, at most {MAX_LENGTH})",
            text[:60] + "…",
        )
    root = _Parser(text).parse()
    names: set[str] = set()
    _names(root, names)
    return Expression(text, root, frozenset(names), _compile(root))
