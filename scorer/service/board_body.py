"""A leaderboard's JSON body: encoded in full once, then updated row by row after a new score.

Building and encoding a :class:`LeaderboardOut` of 5,000 rows takes tens of milliseconds. When
a ranked view only moved one person's entry (``view.follows`` is the version of the view a body
was made for), the new body is assembled from the earlier body's rows: each row's JSON between
its rank and its rank change is kept by submission, and only the new row is encoded; ranks,
rank changes and likes are written in again. Row boundaries are found in the bytes pydantic
wrote: inside a JSON string a quote is escaped, so ``{"rank":`` only ever opens a row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from scorer.challenge.spec import Challenge
from scorer.ledger.queries import LeaderboardView
from scorer.ranking.leaderboard import RankedRow
from scorer.service.convert.challenges import of_leaderboard, of_row

ROWS = b'"rows":['
ROW = b'{"rank":'
CHANGE = b',"rank_change":'
TAIL = b'],"tie_break":'
TOTAL = b',"total":'

#: Submission ids -> how many people like each.
Counts = Callable[[list[int]], dict[int, int]]


@dataclass(frozen=True)
class Body:
    """The JSON of ``view`` (its first ``limit`` rows) with what a later body reuses.

    ``middles`` and ``likes`` only grow while bodies follow one another (a later body adds the
    rows it encodes), and are copied down to the rows shown once they hold twice as many.
    """

    view: LeaderboardView
    json: bytes
    head: bytes  # up to the rows' opening bracket
    tail: bytes  # from the rows' closing bracket, up to the total
    rows: Sequence[RankedRow]  # the rows encoded
    chunks: list[bytes]  # each row's JSON
    middles: dict[int, bytes]  # submission id -> the row's JSON between rank and rank change
    likes: dict[int, int]  # submission id -> likes


def board_body(
    spec: Challenge, view: LeaderboardView, limit: int | None, counts: Counts, before: Body | None = None
) -> Body:
    """The body of ``view``, from ``before`` when ``view`` follows the view it was made for."""
    rows = view.rows[:limit] if limit else view.rows
    if before is None or view.follows is None or view.follows != before.view.version:
        return _full(spec, view, rows, counts)
    # Rows the update left alone are the same objects in the same places (with the same change).
    old, changes, was = before.rows, view.rank_changes, before.view.rank_changes or {}
    kept = min(len(old), len(rows))
    changed = [i for i in range(kept) if old[i] is not rows[i]]
    if changes is not None:
        moved = {i for i in range(kept) if changes.get(rows[i].person) != was.get(rows[i].person)}
        changed = sorted(moved.union(changed))
    changed += range(kept, len(rows))
    middles, likes = before.middles, before.likes
    if len(middles) > 2 * len(rows) + 64:
        middles = {r.submission_id: middles[r.submission_id] for r in old}
        likes = {sid: likes[sid] for sid in middles}
    unknown = [rows[i].submission_id for i in changed if rows[i].submission_id not in likes]
    if unknown:
        likes.update(dict.fromkeys(unknown, 0) | counts(unknown))
    chunks = before.chunks[: len(rows)] + [b""] * (len(rows) - len(before.chunks))
    for i in changed:
        row = rows[i]
        middle = middles.get(row.submission_id)
        if middle is None:
            middle = middles[row.submission_id] = _middle(of_row(row).model_dump_json().encode()[len(ROW) :])
        chunks[i] = _chunk(row, middle, view.rank_changes, likes[row.submission_id])
    json = b"".join((before.head, b",".join(chunks), before.tail, b"%d}" % len(view.rows)))
    return Body(view, json, before.head, before.tail, rows, chunks, middles, likes)


def _full(spec: Challenge, view: LeaderboardView, rows: Sequence[RankedRow], counts: Counts) -> Body:
    likes = counts([row.submission_id for row in rows])
    out = of_leaderboard(spec, replace(view, rows=list(rows)), likes)
    json = out.model_copy(update={"total": len(view.rows)}).model_dump_json().encode()
    start = json.index(ROWS) + len(ROWS)
    end = json.rindex(TAIL)
    chunks = [ROW + chunk for chunk in json[start + len(ROW) : end].split(b"," + ROW)] if rows else []
    middles = {row.submission_id: _middle(chunk[len(ROW) :]) for row, chunk in zip(rows, chunks, strict=True)}
    likes = {sid: likes.get(sid, 0) for sid in middles}
    tail = json[end : json.rindex(TOTAL) + len(TOTAL)]
    return Body(view, json, json[:start], tail, rows, chunks, middles, likes)


def _chunk(row: RankedRow, middle: bytes, changes: dict[str, int] | None, likes: int) -> bytes:
    change = b"null" if changes is None else b"%d" % changes.get(row.person, 0)
    return b'{"rank":%d%s,"rank_change":%s,"likes":%d}' % (row.rank, middle, change, likes)


def _middle(row: bytes) -> bytes:
    """A row's JSON after ``{"rank":``, from the comma past the rank to its rank change."""
    return row[row.index(b",") : row.rindex(CHANGE)]
