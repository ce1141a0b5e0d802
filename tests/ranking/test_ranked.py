"""A ranked board updated one entry at a time equals the board ranked from scratch."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorer.ranking.leaderboard import Entry, build_leaderboard, select_representatives
from scorer.ranking.ranked import RankedBoard, ranked_board
from tests.test_leaderboard import TRACKML, board, challenge, entry

BOARDS: dict[str, dict[str, Any]] = {
    "best, descending, a hidden column": board(
        [{"key": "accuracy"}, {"key": "loss", "hidden": True}, {"key": "time"}], "accuracy"
    ),
    "last, ascending, tie broken by a descending column": board(
        [{"key": "loss"}, {"key": "accuracy"}], "loss", tie_break=["accuracy"], select="last"
    ),
    "best on a weighted sum, tie broken by a hidden column": board(
        [
            {"key": "mix", "computation": {"weighted_sum": {"accuracy": 2, "loss": -1}}},
            {"key": "runtime", "metric": "time", "hidden": True},
        ],
        "mix",
        tie_break=["runtime"],
    ),
    "best on an expression, two tie breaks": board(
        [
            {"key": "score", "computation": {"expression": TRACKML}, "sorting": "desc"},
            {"key": "loss"},
            {"key": "accuracy"},
        ],
        "score",
        tie_break=["loss", "accuracy"],
    ),
    "last on an average rank": board(
        [
            {"key": "accuracy"},
            {"key": "loss"},
            {"key": "avg", "computation": {"average_rank": ["accuracy", "loss"]}},
        ],
        "avg",
        tie_break=["loss"],
        select="last",
    ),
    "best, an average rank beside the primary": board(
        [
            {"key": "accuracy"},
            {"key": "loss", "hidden": True},
            {"key": "avg", "computation": {"average_rank": ["accuracy", "loss"]}},
        ],
        "accuracy",
    ),
}

VALUES = st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.floats(-2, 2))
SCORE = st.tuples(st.sampled_from("abcdef"), st.integers(0, 4), VALUES, VALUES, VALUES)
REMOVE = st.sampled_from("abcdef")  # the person's entries leave the board (an invalidation)


def offer(ranked: RankedBoard, new: Entry) -> RankedBoard:
    """What the ledger does with a new score: keep it if the board's ``select`` prefers it."""
    held = ranked.entries.get(new.person)
    if held is None:
        return ranked.put(new)
    (chosen,) = select_representatives(ranked.challenge, ranked.board, [held, new])
    return ranked if chosen is held else ranked.put(chosen)


@pytest.mark.parametrize("kind", BOARDS)
@given(st.lists(st.one_of(SCORE, REMOVE), max_size=40))
def test_one_entry_at_a_time_equals_from_scratch(kind: str, steps: list[Any]) -> None:
    ch = challenge(BOARDS[kind])
    b = ch.leaderboards[0]
    shown = [c.key for c in b.columns if not c.hidden]
    ranked = ranked_board(ch, b, [], shown)
    scored: list[Entry] = []
    for sid, step in enumerate(steps):
        if isinstance(step, str):
            ranked = ranked.remove(step)
            scored = [e for e in scored if e.person != step]
        else:
            person, minutes, accuracy, loss, time = step
            new = entry(person, sid, minutes, accuracy=accuracy, loss=loss, time=time)
            ranked = offer(ranked, new)
            scored.append(new)
        expected = [
            replace(r, columns={k: r.columns[k] for k in shown}) for r in build_leaderboard(ch, b, scored)
        ]
        assert ranked.rows == expected
        assert ranked.rows == ranked_board(ch, b, ranked.entries.values(), shown).rows


def test_a_board_is_never_changed_by_its_successors() -> None:
    ch = challenge(BOARDS["best, descending, a hidden column"])
    first = ranked_board(
        ch, ch.leaderboards[0], [entry("ann", 1, accuracy=0.5), entry("bob", 2, accuracy=0.4)]
    )
    rows = list(first.rows)
    second = first.put(entry("cid", 3, accuracy=0.9)).remove("ann")
    assert first.rows == rows and [r.rank for r in first.rows] == [1, 2]
    assert [(r.person, r.rank) for r in second.rows] == [("cid", 1), ("bob", 2)]
