"""A ranked board kept in order, so that one changed entry moves without ranking from scratch.

:class:`RankedBoard` holds the rows of :func:`~scorer.ranking.leaderboard.rank` with each row's
sort key. :meth:`RankedBoard.put` and :meth:`RankedBoard.remove` return a new board (the old
one may still be read elsewhere): the entry leaves its old place and is bisected into its new
one, and only the rows in between are renumbered. A board with a rank-based column
(``average_rank``: every entry moves every other entry's value) is ranked again from its
entries instead. Pure: no I/O.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from scorer.challenge.spec import Challenge, Leaderboard
from scorer.ranking.leaderboard import (
    Entry,
    RankedRow,
    column_values,
    is_rank_based,
    order_key,
    order_sortings,
    rank,
)

SortKey = tuple


@dataclass(frozen=True)
class RankedBoard:
    """``rows`` ranked from ``entries`` (one per person); rows hold the ``shown`` columns only.

    ``keys`` (ascending, best first) and ``key_of`` are ``None`` for a rank-based board.
    """

    challenge: Challenge
    board: Leaderboard
    shown: tuple[str, ...]
    entries: dict[str, Entry]
    rows: list[RankedRow]
    keys: list[SortKey] | None
    key_of: dict[str, SortKey] | None

    def put(self, entry: Entry) -> RankedBoard:
        """The board with ``entry`` standing for its person (added, or replacing theirs)."""
        entries = {**self.entries, entry.person: entry}
        if self.keys is None or self.key_of is None:
            return ranked_board(self.challenge, self.board, entries.values(), self.shown)
        rows, keys, key_of = list(self.rows), list(self.keys), dict(self.key_of)
        old = key_of.get(entry.person)
        left = len(rows) if old is None else _pop(rows, keys, old)
        columns = column_values(self.challenge, self.board, entry.values)
        key = order_key(
            order_sortings(self.challenge, self.board), columns, entry.submitted_at, entry.submission_id
        )
        at = bisect_left(keys, key)
        keys.insert(at, key)
        rows.insert(at, _row(entry, columns, self.shown))
        key_of[entry.person] = key
        # Only the rows between the old place and the new one move (all below, for a newcomer).
        _renumber(rows, min(left, at), len(rows) if old is None else max(left, at) + 1)
        return RankedBoard(self.challenge, self.board, self.shown, entries, rows, keys, key_of)

    def remove(self, person: str) -> RankedBoard:
        """The board without ``person`` (unchanged when they are not on it)."""
        if person not in self.entries:
            return self
        entries = {p: e for p, e in self.entries.items() if p != person}
        if self.keys is None or self.key_of is None:
            return ranked_board(self.challenge, self.board, entries.values(), self.shown)
        rows, keys, key_of = list(self.rows), list(self.keys), dict(self.key_of)
        at = _pop(rows, keys, key_of.pop(person))
        _renumber(rows, at, len(rows))
        return RankedBoard(self.challenge, self.board, self.shown, entries, rows, keys, key_of)


def ranked_board(
    challenge: Challenge, board: Leaderboard, entries: Iterable[Entry], shown: Iterable[str] | None = None
) -> RankedBoard:
    """Rank ``entries`` (one per person) from scratch; ``shown``: column keys rows keep (all)."""
    by_person = {entry.person: entry for entry in entries}
    rows = rank(challenge, board, list(by_person.values()))
    shown = tuple(c.key for c in board.columns) if shown is None else tuple(shown)
    keys: list[SortKey] | None = None
    key_of: dict[str, SortKey] | None = None
    if not any(is_rank_based(c) for c in board.columns):
        sortings = order_sortings(challenge, board)
        keys = [order_key(sortings, r.columns, r.submitted_at, r.submission_id) for r in rows]
        key_of = {row.person: key for row, key in zip(rows, keys, strict=True)}
    hidden = [c.key for c in board.columns if c.key not in shown]
    for row in rows:  # rank() made these dicts for us: trim them in place
        for column in hidden:
            del row.columns[column]
    return RankedBoard(challenge, board, shown, by_person, rows, keys, key_of)


def _pop(rows: list[RankedRow], keys: list[SortKey], key: SortKey) -> int:
    at = bisect_left(keys, key)
    del keys[at], rows[at]
    return at


def _row(entry: Entry, columns: dict[str, float | None], shown: tuple[str, ...]) -> RankedRow:
    """A row of ``entry`` (ranked by :func:`_renumber`)."""
    kept = {k: columns[k] for k in shown}
    return RankedRow(0, entry.person, entry.submission_id, entry.submitted_at, kept)


def _renumber(rows: list[RankedRow], low: int, high: int) -> None:
    """New rows with ranks ``low + 1`` … for ``rows[low:high]`` (rows are shared: never changed)."""
    rows[low:high] = [
        RankedRow(position, r.person, r.submission_id, r.submitted_at, r.columns)
        for position, r in enumerate(rows[low:high], start=low + 1)
    ]
