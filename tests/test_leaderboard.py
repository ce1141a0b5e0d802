"""Leaderboard ranking: selection, ordering, computed columns, formatting."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorer.challenge.spec import Challenge
from scorer.ranking.leaderboard import (
    Entry,
    RankedRow,
    build_leaderboard,
    column_computation,
    column_precision,
    column_values,
    format_value,
    rank,
    rank_changes,
    select_representatives,
    selection_key,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
TRACKML = "if(accuracy < 0.5, 0, sqrt(log(1 + 600/time) * (accuracy - 0.5)^2))"


def challenge(*boards: dict[str, Any], metrics: list[dict[str, Any]] | None = None) -> Challenge:
    return Challenge.model_validate(
        {
            "id": "toy",
            "title": "Toy",
            "metrics": metrics
            or [
                {"key": "accuracy", "function": "accuracy", "precision": 3},
                {"key": "loss", "function": "loss", "direction": "minimize"},
            ],
            "leaderboards": list(boards),
            "phases": [
                {
                    "id": "p1",
                    "title": "Phase 1",
                    "start": "2025-01-01T00:00:00Z",
                    "baseline": "baselines/p1.ipynb",
                    "predictions": {"columns": ["y"]},
                }
            ],
        }
    )


def board(columns: list[dict[str, Any]], primary: str, **fields: Any) -> dict[str, Any]:
    return {"key": "main", "columns": columns, "primary": primary, **fields}


def entry(person: str, sid: int, minutes: int = 0, **values: float | None) -> Entry:
    return Entry(person, sid, T0 + timedelta(minutes=minutes), values)


def people(rows: list[RankedRow]) -> list[str]:
    return [row.person for row in rows]


ACCURACY_BOARD = board([{"key": "accuracy"}, {"key": "loss"}, {"key": "time"}], "accuracy")


# --- column values -----------------------------------------------------------------------------


def test_column_values_of_every_kind() -> None:
    ch = challenge(
        board(
            [
                {"key": "accuracy"},
                {"key": "err", "metric": "loss", "hidden": True},
                {"key": "runtime", "metric": "time"},
                {"key": "combo", "computation": {"weighted_sum": {"accuracy": 2, "loss": -1}}},
                {"key": "score", "computation": {"expression": TRACKML}},
                {"key": "avg", "computation": {"average_rank": ["accuracy", "err"]}},
            ],
            "accuracy",
        )
    )
    values = column_values(ch, ch.leaderboards[0], {"accuracy": 0.9, "loss": 0.25, "time": 2.0, "memory": 10})
    assert values == {
        "accuracy": 0.9,
        "err": 0.25,
        "runtime": 2.0,
        "combo": pytest.approx(1.55),
        "score": pytest.approx(0.4 * math.sqrt(math.log(301))),
        "avg": None,
    }


def test_a_computed_column_says_how_in_words() -> None:
    spec = challenge(
        board(
            [
                {"key": "accuracy"},
                {"key": "loss"},
                {"key": "avg", "computation": {"average_rank": ["accuracy", "loss"]}},
                {"key": "mix", "computation": {"weighted_sum": {"accuracy": 2, "loss": -0.5}}},
                {"key": "score", "computation": {"expression": "2 * accuracy"}},
            ],
            "accuracy",
        )
    )
    said = [column_computation(c) for c in spec.leaderboards[0].columns]
    assert said == [
        None,
        None,
        "average rank of accuracy, loss",
        "2 × accuracy + -0.5 × loss",
        "2 * accuracy",
    ]


def test_weighted_sum_is_none_when_a_term_is_missing() -> None:
    ch = challenge(board([{"key": "ws", "computation": {"weighted_sum": {"accuracy": 1, "loss": 1}}}], "ws"))
    b = ch.leaderboards[0]
    assert column_values(ch, b, {"accuracy": 1.0})["ws"] is None
    assert column_values(ch, b, {"accuracy": 1.0, "loss": None})["ws"] is None
    assert column_values(ch, b, {"accuracy": 1.0, "loss": 2.0})["ws"] == 3.0


def test_unusable_metric_values_become_none() -> None:
    ch = challenge(ACCURACY_BOARD)
    b = ch.leaderboards[0]
    for bad in (math.nan, math.inf, -math.inf, None):
        assert column_values(ch, b, {"accuracy": bad})["accuracy"] is None
    assert column_values(ch, b, {})["loss"] is None
    assert column_values(ch, b, {"accuracy": 1})["accuracy"] == 1.0


# --- selection ---------------------------------------------------------------------------------


def test_select_best_per_person() -> None:
    ch = challenge(ACCURACY_BOARD)
    b = ch.leaderboards[0]
    entries = [
        entry("ann", 1, 0, accuracy=0.7),
        entry("bob", 2, 1, accuracy=0.6),
        entry("ann", 3, 2, accuracy=0.9),
        entry("ann", 4, 3, accuracy=0.8),
        entry("bob", 5, 4, accuracy=None),
    ]
    chosen = select_representatives(ch, b, entries)
    assert [(e.person, e.submission_id) for e in chosen] == [("ann", 3), ("bob", 2)]


def test_select_best_for_a_minimised_primary() -> None:
    ch = challenge(board([{"key": "loss"}], "loss"))
    entries = [entry("ann", 1, 0, loss=0.5), entry("ann", 2, 1, loss=0.2), entry("ann", 3, 2)]
    (chosen,) = select_representatives(ch, ch.leaderboards[0], entries)
    assert chosen.submission_id == 2


def test_select_best_ties_prefer_the_earlier_then_the_smaller_id() -> None:
    ch = challenge(ACCURACY_BOARD)
    b = ch.leaderboards[0]
    entries = [entry("ann", 7, 5, accuracy=0.9), entry("ann", 3, 9, accuracy=0.9)]
    assert select_representatives(ch, b, entries)[0].submission_id == 7
    same_time = [entry("ann", 7, 5, accuracy=0.9), entry("ann", 3, 5, accuracy=0.9)]
    assert select_representatives(ch, b, same_time)[0].submission_id == 3


def test_select_best_uses_value_based_tie_breaks() -> None:
    ch = challenge(board([{"key": "accuracy"}, {"key": "time"}], "accuracy", tie_break=["time"]))
    entries = [
        entry("ann", 1, 0, accuracy=0.9, time=30.0),
        entry("ann", 2, 1, accuracy=0.9, time=3),
    ]
    assert select_representatives(ch, ch.leaderboards[0], entries)[0].submission_id == 2


def test_select_last() -> None:
    ch = challenge({**ACCURACY_BOARD, "select": "last"})
    b = ch.leaderboards[0]
    entries = [
        entry("ann", 1, 0, accuracy=0.9),
        entry("ann", 2, 5, accuracy=0.1),
        entry("ann", 3, 3, accuracy=0.5),
        entry("bob", 4, 2, accuracy=0.5),
        entry("bob", 6, 2, accuracy=0.4),
        entry("bob", 5, 2, accuracy=0.3),
    ]
    assert [e.submission_id for e in select_representatives(ch, b, entries)] == [2, 6]


def test_selection_key_larger_is_better_and_none_is_worst() -> None:
    ch = challenge(board([{"key": "loss"}, {"key": "accuracy"}], "loss"))
    b = ch.leaderboards[0]
    low, high, missing = (
        selection_key(ch, b, {"loss": 0.1}),
        selection_key(ch, b, {"loss": 0.9}),
        selection_key(ch, b, {}),
    )
    assert low > high > missing


def test_selection_key_with_a_rank_based_primary_uses_the_first_value_based_column() -> None:
    ch = challenge(
        board(
            [
                {"key": "loss"},
                {"key": "accuracy"},
                {"key": "avg", "computation": {"average_rank": ["loss", "accuracy"]}},
            ],
            "avg",
            select="last",
        )
    )
    b = ch.leaderboards[0]
    assert selection_key(ch, b, {"loss": 0.1, "accuracy": 0.0}) > selection_key(
        ch, b, {"loss": 0.2, "accuracy": 1.0}
    )


# --- ranking -----------------------------------------------------------------------------------


def test_rank_descending_and_ascending() -> None:
    entries = [
        entry("ann", 1, accuracy=0.7, loss=0.3),
        entry("bob", 2, accuracy=0.9, loss=0.5),
        entry("cat", 3, accuracy=0.8, loss=0.1),
    ]
    by_accuracy = challenge(ACCURACY_BOARD)
    rows = rank(by_accuracy, by_accuracy.leaderboards[0], entries)
    assert people(rows) == ["bob", "cat", "ann"]
    assert [row.rank for row in rows] == [1, 2, 3]
    by_loss = challenge(board([{"key": "accuracy"}, {"key": "loss"}], "loss"))
    assert people(rank(by_loss, by_loss.leaderboards[0], entries)) == ["cat", "ann", "bob"]
    # An explicit sorting overrides the metric's direction.
    reversed_ = challenge(board([{"key": "accuracy", "sorting": "asc"}], "accuracy"))
    assert people(rank(reversed_, reversed_.leaderboards[0], entries)) == ["ann", "cat", "bob"]


def test_builtin_time_column_sorts_ascending() -> None:
    ch = challenge(board([{"key": "time"}], "time"))
    entries = [entry("slow", 1, time=30.0), entry("fast", 2, time=3.0)]
    assert people(rank(ch, ch.leaderboards[0], entries)) == ["fast", "slow"]


@pytest.mark.parametrize("sorting", ["asc", "desc"])
def test_none_is_last_whatever_the_direction(sorting: str) -> None:
    ch = challenge(board([{"key": "accuracy", "sorting": sorting}], "accuracy"))
    entries = [
        entry("none1", 1, 0),
        entry("low", 2, 1, accuracy=0.1),
        entry("none2", 3, 2, accuracy=math.nan),
        entry("high", 4, 3, accuracy=0.9),
    ]
    rows = rank(ch, ch.leaderboards[0], entries)
    assert people(rows)[2:] == ["none1", "none2"]
    assert set(people(rows)[:2]) == {"low", "high"}


def test_tie_breaks_each_with_its_own_sorting() -> None:
    ch = challenge(
        board(
            [{"key": "accuracy"}, {"key": "loss"}, {"key": "time"}],
            "accuracy",
            tie_break=["time", "loss"],
        )
    )
    entries = [
        entry("ann", 1, accuracy=0.9, time=10.0, loss=0.5),
        entry("bob", 2, accuracy=0.9, time=5.0, loss=0.9),
        entry("cat", 3, accuracy=0.9, time=10.0, loss=0.2),
        entry("dan", 4, accuracy=0.9, loss=0.0),  # no time: after every timed entry
        entry("eve", 5, accuracy=0.95, time=99.0, loss=1.0),
    ]
    assert people(rank(ch, ch.leaderboards[0], entries)) == ["eve", "bob", "cat", "ann", "dan"]


def test_full_ties_go_to_the_earlier_submission_then_the_smaller_id() -> None:
    ch = challenge(ACCURACY_BOARD)
    entries = [
        entry("late", 1, 10, accuracy=0.5),
        entry("early", 9, 0, accuracy=0.5),
        entry("same_time_big_id", 8, 5, accuracy=0.5),
        entry("same_time_small_id", 7, 5, accuracy=0.5),
    ]
    assert people(rank(ch, ch.leaderboards[0], entries)) == [
        "early",
        "same_time_small_id",
        "same_time_big_id",
        "late",
    ]


def test_rows_carry_every_column_including_hidden_and_computed_ones() -> None:
    ch = challenge(
        board(
            [
                {"key": "accuracy"},
                {"key": "time", "hidden": True},
                {"key": "score", "computation": {"expression": TRACKML}, "hidden": True},
                {"key": "ws", "computation": {"weighted_sum": {"accuracy": 10}}},
            ],
            "score",
        )
    )
    rows = rank(
        ch,
        ch.leaderboards[0],
        [
            entry("ann", 1, accuracy=0.9, time=2.0),
            entry("bob", 2, accuracy=0.95, time=600.0),
            entry("cat", 3, accuracy=0.4, time=0.1),
        ],
    )
    assert people(rows) == ["ann", "bob", "cat"]
    first = rows[0]
    assert first == RankedRow(
        1,
        "ann",
        1,
        T0,
        {"accuracy": 0.9, "time": 2.0, "score": pytest.approx(0.95558, abs=1e-5), "ws": 9.0},
    )
    assert rows[1].columns["score"] == pytest.approx(0.45 * math.sqrt(math.log(2)))
    assert rows[2].columns["score"] == 0.0


def test_an_undefined_expression_ranks_last() -> None:
    ch = challenge(
        board([{"key": "accuracy"}, {"key": "s", "computation": {"expression": "log(loss)"}}], "s")
    )
    entries = [entry("zero", 1, loss=0.0), entry("one", 2, loss=1.0), entry("half", 3, loss=0.5)]
    rows = rank(ch, ch.leaderboards[0], entries)
    assert people(rows) == ["one", "half", "zero"]
    assert rows[2].columns["s"] is None


def test_average_rank_with_ties_and_none() -> None:
    ch = challenge(
        board(
            [
                {"key": "accuracy"},
                {"key": "loss"},
                {"key": "avg", "computation": {"average_rank": ["accuracy", "loss"]}},
            ],
            "avg",
            select="last",
        )
    )
    entries = [  # accuracy rank, loss rank
        entry("ann", 1, 0, accuracy=0.9, loss=0.3),  # 1.5 (tied with bob), 2
        entry("bob", 2, 1, accuracy=0.9, loss=0.1),  # 1.5, 1
        entry("cat", 3, 2, accuracy=0.5),  # 3, 4 (None is last)
        entry("dan", 4, 3, loss=0.4),  # 4 (None is last), 3
    ]
    rows = rank(ch, ch.leaderboards[0], entries)
    averages = {row.person: row.columns["avg"] for row in rows}
    assert averages == {"bob": 1.25, "ann": 1.75, "cat": 3.5, "dan": 3.5}
    # Ascending by default; the tie between cat and dan goes to the earlier submission.
    assert people(rows) == ["bob", "ann", "cat", "dan"]


def test_average_rank_shares_positions_among_nones() -> None:
    ch = challenge(
        board(
            [{"key": "loss"}, {"key": "r", "computation": {"average_rank": ["loss"]}}],
            "r",
            select="last",
        )
    )
    entries = [entry("a", 1, loss=0.2), entry("b", 2), entry("c", 3), entry("d", 4, loss=0.2)]
    rows = rank(ch, ch.leaderboards[0], entries)
    assert {row.person: row.columns["r"] for row in rows} == {
        "a": 1.5,
        "d": 1.5,
        "b": 3.5,
        "c": 3.5,
    }


def test_average_rank_of_an_average_rank() -> None:
    ch = challenge(
        board(
            [
                {"key": "accuracy"},
                {"key": "loss"},
                {"key": "r1", "computation": {"average_rank": ["accuracy"]}},
                {"key": "r2", "computation": {"average_rank": ["r1", "loss"]}},
            ],
            "r2",
            select="last",
        )
    )
    entries = [entry("a", 1, accuracy=0.9, loss=0.9), entry("b", 2, accuracy=0.1, loss=0.1)]
    rows = rank(ch, ch.leaderboards[0], entries)
    assert {row.person: row.columns["r2"] for row in rows} == {"a": 1.5, "b": 1.5}
    assert people(rows) == ["a", "b"]


def test_rank_of_nothing() -> None:
    ch = challenge(
        board(
            [{"key": "loss"}, {"key": "r", "computation": {"average_rank": ["loss"]}}],
            "r",
            select="last",
        )
    )
    assert rank(ch, ch.leaderboards[0], []) == []


def test_build_leaderboard_selects_then_ranks() -> None:
    ch = challenge(ACCURACY_BOARD)
    entries = [
        entry("ann", 1, 0, accuracy=0.5),
        entry("bob", 2, 1, accuracy=0.7),
        entry("ann", 3, 2, accuracy=0.8),
    ]
    rows = build_leaderboard(ch, ch.leaderboards[0], entries)
    assert [(row.rank, row.person, row.submission_id) for row in rows] == [
        (1, "ann", 3),
        (2, "bob", 2),
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d", "e"]),
            st.one_of(st.none(), st.floats(0, 1), st.sampled_from([0.0, 0.5, 1.0, math.nan])),
            st.integers(0, 5),
        ),
        max_size=30,
    )
)
def test_ranking_is_a_permutation_ordered_by_the_primary(
    rows: list[tuple[str, float | None, int]],
) -> None:
    ch = challenge(ACCURACY_BOARD)
    entries = [entry(p, i, minutes, accuracy=acc) for i, (p, acc, minutes) in enumerate(rows)]
    ranked = build_leaderboard(ch, ch.leaderboards[0], entries)
    assert sorted(people(ranked)) == sorted({p for p, _, _ in rows})
    assert [row.rank for row in ranked] == list(range(1, len(ranked) + 1))
    values = [row.columns["accuracy"] for row in ranked]
    defined = [v for v in values if v is not None]
    assert values == defined + [None] * (len(values) - len(defined))
    assert defined == sorted(defined, reverse=True)
    # The order does not depend on the order of the input.
    again = build_leaderboard(ch, ch.leaderboards[0], list(reversed(entries)))
    assert [(r.person, r.submission_id) for r in again] == [(r.person, r.submission_id) for r in ranked]


# --- rank changes, precision, formatting ------------------------------------------------------


def test_rank_changes_public_minus_private() -> None:
    def row(position: int, person: str) -> RankedRow:
        return RankedRow(position, person, position, T0, {})

    public = [row(1, "ann"), row(2, "bob"), row(3, "cat"), row(4, "gone")]
    private = [row(1, "cat"), row(2, "ann"), row(3, "bob"), row(4, "new")]
    assert rank_changes(public, private) == {"cat": 2, "ann": -1, "bob": -1}


def test_column_precision() -> None:
    ch = challenge(
        board(
            [
                {"key": "accuracy"},
                {"key": "loss", "precision": 6},
                {"key": "time"},
                {"key": "err", "metric": "loss"},
                {"key": "s", "computation": {"expression": "accuracy * 2"}},
            ],
            "accuracy",
        )
    )
    b = ch.leaderboards[0]
    assert [column_precision(ch, c) for c in b.columns] == [3, 6, 4, 4, 4]


@pytest.mark.parametrize(
    ("value", "precision", "text"),
    [
        (None, 3, "—"),
        (math.nan, 3, "—"),
        (0.95558, 3, "0.956"),
        (2.0, 0, "2"),
        (1234.5, 2, "1234.50"),
        (-0.00001, 3, "0.000"),
        (-0.4, 0, "0"),
        (-1.5, 1, "-1.5"),
        (0.0, 4, "0.0000"),
    ],
)
def test_format_value(value: float | None, precision: int, text: str) -> None:
    assert format_value(value, precision) == text
