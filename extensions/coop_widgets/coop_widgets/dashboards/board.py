"""A leaderboard as a viewer browses it: every column (direction, precision, computed ones),
likes, links to each entry's executed notebook and its diff, the private ranking with each
entry's Δ from its public rank, and sorting, filtering and paging. The page opens with the
board's first rows only (what the first screen shows of thousands); the whole board is read
once, when the viewer first sorts, filters or turns the page, and every later change is drawn
from the rows already read.

The table is :func:`board_html`, a pure function; :class:`BoardView` wraps it in controls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from coop_client.models import ColumnOut, LeaderboardOut, RowOut
from coop_widgets import _html
from coop_widgets.dashboards import page

#: Rows per page: a board of 10 000 entries is a hundred pages, each drawn on its own.
PAGE_ROWS = 100
RANK, PERSON, SUBMITTED, LIKES = "#rank", "#person", "#submitted", "#likes"


@dataclass(frozen=True)
class Order:
    """How the rows are shown: ``key`` a column key or one of RANK, PERSON, SUBMITTED, LIKES."""

    key: str = RANK
    reverse: bool = False
    person: str = ""  # shown: people whose name holds this (any case)


def direction(column: ColumnOut) -> str:
    return "↑" if column.sorting == "asc" else "↓"


def ordered(board: LeaderboardOut, order: Order) -> list[RowOut]:
    """The rows filtered and sorted; a column sorts its own way (best first), missing values last."""
    needle = order.person.strip().casefold()
    rows = [row for row in board.rows if needle in row.person.casefold()]
    if order.key == PERSON:
        rows.sort(key=lambda row: row.person.casefold())
    elif order.key == SUBMITTED:
        rows.sort(key=lambda row: row.submitted_at)
    elif order.key == LIKES:
        rows.sort(key=lambda row: -row.likes)
    elif order.key != RANK:
        column = next(c for c in board.columns if c.key == order.key)
        sign = 1 if column.sorting == "asc" else -1
        present = [row for row in rows if row.values.get(column.key) is not None]
        missing = [row for row in rows if row.values.get(column.key) is None]
        present.sort(key=lambda row: (sign * (row.values[column.key] or 0.0), row.rank))
        rows = present + missing
    return rows[::-1] if order.reverse else rows


def change(value: int | None) -> str:
    """A private rank's move from the public one, in words as well as arrows."""
    if not value:
        return "= same"
    return f"▲ up {value}" if value > 0 else f"▼ down {-value}"


def caption(board: LeaderboardOut) -> str:
    """How the board ranks, in words."""
    labels = {c.key: c.label for c in board.columns}
    primary = next((c for c in board.columns if c.key == board.primary), None)
    said = f"{board.title}: ranked by {labels.get(board.primary, board.primary)}"
    if primary is not None:
        said += " (higher first)" if primary.sorting != "asc" else " (lower first)"
    if board.tie_break:
        said += ", ties broken by " + ", ".join(labels.get(k, k) for k in board.tie_break)
    if board.select:
        said += f"; each person's {board.select} submission"
    said += "; ↓ higher is better, ↑ lower is better"
    if board.split == "private":
        said += "; private scores, Δ from the public rank"
    return said


def board_html(board: LeaderboardOut, rows: Sequence[RowOut], *, start: int = 0) -> str:
    """``rows`` (a page of the board, from ``start``) as a table with the board's caption."""
    private = board.split == "private"
    headers = ["#", "person"]
    headers += [f"{c.label} {direction(c)}" + (" ƒ" if c.computation else "") for c in board.columns]
    headers += ["submitted", "likes"]
    if private:
        headers += ["public #", "Δ"]
    headers.append("solution")
    body = []
    for row in rows[start : start + PAGE_ROWS]:
        cells = [str(row.rank), page.anchor(page.profile_link(row.person), row.person)]
        cells += [_html.number(row.values.get(c.key), c.precision) for c in board.columns]
        likes = "1 like" if row.likes == 1 else f"{row.likes} likes"
        cells += [_html.moment(row.submitted_at), f"♥ {likes}"]
        if private:
            public = row.rank + row.rank_change if row.rank_change is not None else None
            cells += [str(public) if public is not None else "—", change(row.rank_change)]
        cells.append(solution_links(row.submission))
        body.append(cells)
    numeric = [0, *range(2, 2 + len(board.columns))]
    table = page.table(headers, body, numeric=numeric, caption=caption(board))
    computed = "".join(
        f"<li>ƒ {page.text(c.label)} = {page.text(c.computation)}</li>"
        for c in board.columns
        if c.computation
    )
    return table + (f'<ul class="coop-rules">{computed}</ul>' if computed else "")


def solution_links(submission: int) -> str:
    """The entry's executed notebook and its diff from the version it continues."""
    notebook = page.anchor(page.notebook_link(submission), "notebook", title=f"submission {submission}")
    diff = page.anchor(page.diff_link(submission), "diff", title="its changes from the version it continues")
    return f"{notebook} · {diff}"


def pages_line(total: int, start: int) -> str:
    if total == 0:
        return "no entry"
    return f"rows {start + 1}–{min(start + PAGE_ROWS, total)} of {total}"


#: Reads the whole board of a split ("public" or "private") when only its first rows were read.
Whole = Callable[[str], LeaderboardOut]


def partial(board: LeaderboardOut) -> bool:
    """Whether ``board`` holds only its first rows."""
    return board.total is not None and len(board.rows) < board.total


class BoardView(widgets.VBox):
    """One board's table with its controls: filter by person, sort, pages; ``boards`` holds the
    public board and, once the phase shows it, the private one (shown first); ``whole`` reads a
    board whose first rows only were read, when the viewer first needs the others."""

    def __init__(self, boards: Sequence[LeaderboardOut], whole: Whole | None = None) -> None:
        self.boards = {board.split: board for board in boards}
        self.whole = whole
        self.board = self.boards.get("private") or boards[0]
        self.order = Order()
        self.start = 0
        self.split = widgets.ToggleButtons(
            options=[("private ranking (final)", "private"), ("public ranking", "public")],
            value=self.board.split,
            description="Show",
            layout=widgets.Layout(display="" if len(self.boards) > 1 else "none"),
        )
        self.person = widgets.Text(description="Person", placeholder="filter by name")
        self.sort = widgets.Dropdown(description="Sort by", options=self._sort_options())
        self.reverse = widgets.Checkbox(description="reverse", indent=False)
        self.previous = widgets.Button(description="◀ Previous", tooltip="Previous rows")
        self.next = widgets.Button(description="Next ▶", tooltip="Next rows")
        self.where = widgets.HTML()
        self.table = widgets.HTML()
        controls = widgets.HBox([self.person, self.sort, self.reverse])
        paging = widgets.HBox([self.previous, self.where, self.next])
        super().__init__([self.split, controls, self.table, paging])
        self.add_class("coop-board")
        self.split.observe(self._split_changed, "value")
        for control in (self.person, self.sort, self.reverse):
            control.observe(self._order_changed, "value")
        self.previous.on_click(lambda _b: self._turn(-PAGE_ROWS))
        self.next.on_click(lambda _b: self._turn(PAGE_ROWS))
        self._draw()

    def _sort_options(self) -> list[tuple[str, str]]:
        columns = [(f"{c.label} {direction(c)}", c.key) for c in self.board.columns]
        return [("rank", RANK), ("person", PERSON), *columns, ("submitted", SUBMITTED), ("likes", LIKES)]

    def _split_changed(self, change: dict[str, object]) -> None:
        self.board = self.boards[str(change["new"])]
        self.start = 0
        self._draw()

    def _order_changed(self, _change: dict[str, object]) -> None:
        self.order = Order(str(self.sort.value), bool(self.reverse.value), str(self.person.value))
        self.start = 0
        self._draw()

    def _turn(self, step: int) -> None:
        self.start = max(0, self.start + step)
        self._draw()

    def _draw(self) -> None:
        if partial(self.board) and self.whole is not None and (self.order != Order() or self.start > 0):
            self.board = self.boards[self.board.split] = self.whole(self.board.split)
        rows = ordered(self.board, self.order)
        total = self.board.total if partial(self.board) and self.board.total is not None else len(rows)
        self.start = min(self.start, max(0, (total - 1) // PAGE_ROWS * PAGE_ROWS))
        self.table.value = (
            board_html(self.board, rows, start=self.start)
            if rows
            else f"<p>{'No one matches.' if self.order.person else 'No scored submission yet.'}</p>"
        )
        self.where.value = f"<span>{pages_line(total, self.start)}</span>"
        self.previous.disabled = self.start == 0
        self.next.disabled = self.start + PAGE_ROWS >= total
        paged = total > PAGE_ROWS or self.start > 0
        self.previous.layout.display = self.next.layout.display = "" if paged else "none"
