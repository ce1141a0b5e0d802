"""``Leaderboard()``: a phase's ranked board as a table, the current user's row highlighted, and
on everyone else's row a "Build on this" link (:mod:`coop_widgets.build_on`). Each row shows its
likes; below the table, a like button per row of someone else's toggles your like (a refused
like says why).

Leaderboard()                                   # the current phase's first board
Leaderboard(phase="phase-2", board="speed")     # another one
"""

from __future__ import annotations

import asyncio

import ipywidgets as widgets

from coop_client.client import AsyncCoopClient, CoopClientError, Routes
from coop_client.models import ChallengeOut, LeaderboardOut
from coop_widgets import _html
from coop_widgets._context import WidgetError
from coop_widgets._panel import Panel
from coop_widgets.build_on import build_on_link


class Leaderboard(Panel):
    """A leaderboard of the challenge (the notebook's, unless ``challenge`` names one)."""

    def __init__(
        self,
        phase: str | None = None,
        board: str | None = None,
        *,
        challenge: str | None = None,
        split: str = "public",
        **kwargs: object,
    ) -> None:
        self.phase, self.board, self.challenge, self.split = phase, board, challenge, split
        self.shown: LeaderboardOut | None = None  # the board as last read
        self.liked: set[int] = set()  # the submissions the user likes
        self.like_buttons: dict[int, widgets.Button] = {}  # per submission on someone else's row
        self.liking: asyncio.Task[None] | None = None  # the latest like or unlike sent
        self.likes_box = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        super().__init__(**kwargs)
        self.children = (*self.children, self.likes_box)
        self.start()

    async def load(self, client: AsyncCoopClient) -> None:
        assert self.context is not None
        challenge = await client.send(Routes.challenge(await self.context.challenge(client, self.challenge)))
        phase = self.phase or _default_phase(challenge)
        known = next((p for p in challenge.phases if p.id == phase), None)
        if known is None or not known.leaderboards:
            phases = ", ".join(p.id for p in challenge.phases)
            raise WidgetError(f"{challenge.id} has no phase {phase!r} with a leaderboard (phases: {phases})")
        board = self.board or known.leaderboards[0]
        shown = await client.send(Routes.leaderboard(challenge.id, phase, board, split=self.split))
        self.shown = shown
        if self.context.token:  # an anonymous reader sees the likes, without buttons
            self.liked = set((await client.send(Routes.my_likes())).submissions)
        self.title.value = (
            f"<b>{_html.text(shown.title)}</b> · {_html.text(challenge.title)}, phase {_html.text(phase)}"
            f"{' (private scores)' if shown.split == 'private' else ''}"
        )
        self._show()

    async def toggle(self, submission: int) -> None:
        """Like the submission, or take the like back; a refusal shows why."""
        assert self.context is not None and self.shown is not None
        liked = submission in self.liked
        try:
            async with self.context.client() as client:
                state = await client.send((Routes.unlike if liked else Routes.like)(submission))
        except CoopClientError as exc:
            self.problem.value = _html.line(_html.text(exc.message), "bad")
            return
        (self.liked.add if state.liked else self.liked.discard)(submission)
        for row in self.shown.rows:
            if row.submission == submission:
                row.likes = state.likes
        self.problem.value = ""
        self._show()

    def _show(self) -> None:
        assert self.context is not None and self.shown is not None
        user = self.context.user
        self.body.value = render(self.shown, user)
        self.like_buttons = {
            row.submission: self._like_button(row.submission, row.person, row.likes)
            for row in self.shown.rows
            if row.person != user and self.context.token
        }
        self.likes_box.children = tuple(self.like_buttons.values())

    def _like_button(self, submission: int, person: str, likes: int) -> widgets.Button:
        liked = submission in self.liked
        button = widgets.Button(
            description=f"{'♥' if liked else '♡'} {likes} {person}",
            tooltip=f"{'Unlike' if liked else 'Like'} {person}'s submission {submission}",
            button_style="danger" if liked else "",
            layout=widgets.Layout(width="auto"),
        )
        button.on_click(lambda _b: self._like_clicked(submission))
        return button

    def _like_clicked(self, submission: int) -> None:
        self.liking = self._tasks.start(self.toggle(submission))


def _default_phase(challenge: ChallengeOut) -> str:
    """The open phase, else the one that started last."""
    if challenge.current_phase:
        return challenge.current_phase
    return max(challenge.phases, key=lambda p: p.start).id


def render(board: LeaderboardOut, user: str) -> str:
    """The board as an HTML table; ``user``'s row highlighted, the others' rows with a link to
    build on them."""
    if not board.rows:
        return _html.line("No scored submission yet: be the first.")
    changes = any(row.rank_change is not None for row in board.rows)
    headers = ["#", "person", *(_html.text(c.label) for c in board.columns), "submitted", "♡"]
    if changes:
        headers.append("vs public")
    headers.append("")
    rows = []
    for row in board.rows:
        cells = [str(row.rank), _html.text(row.person)]
        cells += [_html.number(row.values.get(c.key), c.precision) for c in board.columns]
        cells.append(_html.moment(row.submitted_at))
        cells.append(str(row.likes))
        if changes:
            cells.append(f"{row.rank_change:+d}" if row.rank_change else "·")
        cells.append(build_on_link(board.challenge, row.submission) if row.person != user else "")
        rows.append(cells)
    mine = next((i for i, row in enumerate(board.rows) if row.person == user), None)
    return _html.table(headers, rows, highlight=mine)
