"""Ranking a leaderboard: pure functions over plain data (no I/O, no database).

A board's columns are *value-based* (a metric, a weighted sum, an expression: computed from one
submission alone) or *rank-based* (``average_rank``: depends on every entry on the board).
``None`` means "undefined": it is shown as "—" and always ranked last, whatever the direction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import groupby

from scorer.challenge.expr import Expression, parse_expression
from scorer.challenge.spec import (
    AverageRank,
    Challenge,
    Column,
    Leaderboard,
    Selection,
    Sorting,
    WeightedSum,
    column_sorting,
)

DEFAULT_PRECISION = 4
EMPTY = "—"

Values = Mapping[str, float | None]


@dataclass(frozen=True)
class Entry:
    """One scored submission as seen by a leaderboard."""

    person: str
    submission_id: int
    submitted_at: datetime
    #: metric keys plus "time" (run time in s) and "memory" (peak MiB)
    values: Values


@dataclass(slots=True)
class RankedRow:
    """One row of a ranked board; ``columns`` holds raw values of every column (hidden too).

    Rows are shared by cached views and the boards updated from them: never change one. (Not
    frozen: a frozen row takes four times as long to make, and an update after a new score
    makes a new row for each one it moves.)
    """

    rank: int
    person: str
    submission_id: int
    submitted_at: datetime
    columns: dict[str, float | None]


# --- value-based columns -----------------------------------------------------------------------


@lru_cache(maxsize=256)
def _expression(text: str) -> Expression:
    return parse_expression(text)


def _clean(value: object) -> float | None:
    """A finite float, or ``None`` (missing, NaN, infinite or not a number)."""
    if type(value) is float:
        return value if value - value == 0.0 else None  # inf - inf and nan - nan are nan
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _metric_getter(key: str) -> Callable[[Values], float | None]:
    return lambda values: _clean(values.get(key))


def _weighted_sum_getter(weights: Mapping[str, float]) -> Callable[[Values], float | None]:
    items = tuple(weights.items())

    def weighted_sum(values: Values) -> float | None:
        total = 0.0
        for key, weight in items:
            value = _clean(values.get(key))
            if value is None:
                return None
            total += weight * value
        return _clean(total)

    return weighted_sum


def _value_getters(board: Leaderboard) -> dict[str, Callable[[Values], float | None]]:
    """Column key -> function of one submission's values, for every value-based column."""
    getters: dict[str, Callable[[Values], float | None]] = {}
    for column in board.columns:
        comp = column.computation
        if comp is None:
            getters[column.key] = _metric_getter(column.source_metric)
        elif isinstance(comp, WeightedSum):
            getters[column.key] = _weighted_sum_getter(comp.weighted_sum)
        elif not isinstance(comp, AverageRank):
            getters[column.key] = _expression(comp.expression).evaluate
    return getters


def is_rank_based(column: Column) -> bool:
    """Whether the column's value depends on the other entries of the board."""
    return isinstance(column.computation, AverageRank)


def column_values(challenge: Challenge, board: Leaderboard, values: Values) -> dict[str, float | None]:
    """Every column of ``board`` for one submission; rank-based columns are ``None`` here."""
    getters = _value_getters(board)
    return {c.key: getters[c.key](values) if c.key in getters else None for c in board.columns}


def column_precision(challenge: Challenge, column: Column) -> int:
    """Digits shown: the column's precision, else its metric's, else 4."""
    if column.precision is not None:
        return column.precision
    if column.computation is None:
        for metric in challenge.metrics:
            if metric.key == column.source_metric:
                return metric.precision
    return DEFAULT_PRECISION


def column_computation(column: Column) -> str | None:
    """How a computed column is computed, in words (``None`` for a metric's column)."""
    computation = column.computation
    if computation is None:
        return None
    if isinstance(computation, AverageRank):
        return "average rank of " + ", ".join(computation.average_rank)
    if isinstance(computation, WeightedSum):
        return " + ".join(f"{weight:g} × {key}" for key, weight in computation.weighted_sum.items())
    return computation.expression


def format_value(value: float | None, precision: int) -> str:
    """``value`` with ``precision`` decimals, or "—" when undefined."""
    if value is None or math.isnan(value):
        return EMPTY
    text = f"{value:.{precision}f}"
    if text.startswith("-") and not text.strip("-0."):
        return text[1:]  # no "-0.00"
    return text


# --- selection ---------------------------------------------------------------------------------


def _better_key(value: float | None, sorting: Sorting) -> float:
    """Larger is better; ``None`` is worst (values are finite)."""
    if value is None:
        return -math.inf
    return value if sorting == Sorting.DESC else -value


def _selection_columns(board: Leaderboard) -> list[Column]:
    value_based = [c for c in board.columns if not is_rank_based(c)]
    primary = board.column(board.primary)
    if is_rank_based(primary):
        return value_based[:1]
    tie_breaks = [board.column(k) for k in board.tie_break]
    return [primary, *(c for c in tie_breaks if not is_rank_based(c))]


def selection_key(challenge: Challenge, board: Leaderboard, values: Values) -> tuple:
    """A key where larger means better, to choose a person's best submission.

    The primary column then the value-based tie-break columns; or, when the primary column is
    rank-based, the first value-based column of the board.
    """
    getters = _value_getters(board)
    return tuple(
        _better_key(getters[c.key](values), column_sorting(challenge, c)) for c in _selection_columns(board)
    )


def select_representatives(challenge: Challenge, board: Leaderboard, entries: Iterable[Entry]) -> list[Entry]:
    """One entry per person (in order of first appearance), chosen by the board's ``select``.

    ``best``: largest :func:`selection_key`, then earlier, then smaller submission id.
    ``last``: latest ``submitted_at``, then larger submission id.
    """
    chosen: dict[str, Entry] = {}
    if board.select == Selection.LAST:
        for entry in entries:
            current = chosen.get(entry.person)
            if current is None or (entry.submitted_at, entry.submission_id) > (
                current.submitted_at,
                current.submission_id,
            ):
                chosen[entry.person] = entry
        return list(chosen.values())

    getters = _value_getters(board)
    columns = [(getters[c.key], column_sorting(challenge, c)) for c in _selection_columns(board)]
    keys: dict[str, tuple] = {}
    for entry in entries:
        key = tuple(_better_key(get(entry.values), sorting) for get, sorting in columns)
        current = chosen.get(entry.person)
        if (
            current is None
            or key > keys[entry.person]
            or (
                key == keys[entry.person]
                and (entry.submitted_at, entry.submission_id) < (current.submitted_at, current.submission_id)
            )
        ):
            chosen[entry.person] = entry
            keys[entry.person] = key
    return list(chosen.values())


# --- ranking -----------------------------------------------------------------------------------


def _order_keys(values: Sequence[float | None], sorting: Sorting) -> list[float]:
    """Ascending sort keys putting the best first and ``None`` last (values are finite)."""
    if sorting == Sorting.DESC:
        return [math.inf if v is None else -v for v in values]
    return [math.inf if v is None else v for v in values]


def order_sortings(challenge: Challenge, board: Leaderboard) -> list[tuple[str, Sorting]]:
    """The columns :func:`rank` orders by, each with its sorting: the primary, then tie breaks."""
    return [(k, column_sorting(challenge, board.column(k))) for k in [board.primary, *board.tie_break]]


def order_key(
    sortings: Sequence[tuple[str, Sorting]], columns: Values, submitted_at: datetime, submission_id: int
) -> tuple:
    """One row's ascending sort key in :func:`rank`'s order (value-based columns only)."""
    return (
        *(_order_keys([columns[k]], sorting)[0] for k, sorting in sortings),
        submitted_at,
        submission_id,
    )


def _average_ranks(keys: Sequence[float]) -> list[float]:
    """1-based positions after sorting by ``keys``; tied entries share their mean position."""
    ranks = [0.0] * len(keys)
    position = 0
    for _, group in groupby(sorted(range(len(keys)), key=keys.__getitem__), keys.__getitem__):
        members = list(group)
        shared = position + (len(members) + 1) / 2
        for i in members:
            ranks[i] = shared
        position += len(members)
    return ranks


def rank(challenge: Challenge, board: Leaderboard, entries: Sequence[Entry]) -> list[RankedRow]:
    """Rank already-selected entries (one per person), computing every column.

    Order: the primary column, then each tie-break column (each in its own sorting), then the
    earlier submission, then the smaller submission id. ``None`` is always last.
    """
    getters = _value_getters(board)
    sortings = {c.key: column_sorting(challenge, c) for c in board.columns}
    # Column key -> one value per entry; columns in board order, so an average_rank column
    # finds the columns it averages (the spec requires them defined before it).
    table: dict[str, list[float | None]] = {}
    for column in board.columns:
        comp = column.computation
        if isinstance(comp, AverageRank):
            per_column = [_average_ranks(_order_keys(table[k], sortings[k])) for k in comp.average_rank]
            table[column.key] = [sum(ranks) / len(ranks) for ranks in zip(*per_column, strict=True)]
        else:
            get = getters[column.key]
            table[column.key] = [get(entry.values) for entry in entries]

    keys = list(
        zip(
            *(_order_keys(table[k], sortings[k]) for k in [board.primary, *board.tie_break]),
            [entry.submitted_at for entry in entries],
            [entry.submission_id for entry in entries],
            strict=True,
        )
    )
    per_entry = list(zip(*table.values(), strict=True)) if entries else []
    names = list(table)
    rows = []
    for position, i in enumerate(sorted(range(len(entries)), key=keys.__getitem__), start=1):
        entry = entries[i]
        columns = dict(zip(names, per_entry[i], strict=True))
        rows.append(RankedRow(position, entry.person, entry.submission_id, entry.submitted_at, columns))
    return rows


def build_leaderboard(challenge: Challenge, board: Leaderboard, entries: Iterable[Entry]) -> list[RankedRow]:
    """:func:`select_representatives` then :func:`rank`: all of a phase's scored submissions in."""
    return rank(challenge, board, select_representatives(challenge, board, entries))


def rank_changes(public: Sequence[RankedRow], private: Sequence[RankedRow]) -> dict[str, int]:
    """Person -> public rank minus private rank (positive: moved up), for persons on both."""
    public_ranks = {row.person: row.rank for row in public}
    return {row.person: public_ranks[row.person] - row.rank for row in private if row.person in public_ranks}


def column_label(challenge: Challenge, column: Column) -> str:
    """A column's heading: its own label, else its metric's label, else its key."""
    if column.label:
        return column.label
    if column.computation is None:
        for metric in challenge.metrics:
            if metric.key == column.source_metric and metric.label:
                return metric.label
    return column.key
