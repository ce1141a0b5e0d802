"""``Leaderboard()``: a phase's ranked board as a table, the current user's row highlighted, and
on everyone else's row a "Build on this" link (:mod:`coop_widgets.build_on`).

Leaderboard()                                   # the current phase's first board
Leaderboard(phase="phase-2", board="speed")     # another one
"""

from __future__ import annotations

from coop_client.client import AsyncCoopClient, Routes
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
        super().__init__(**kwargs)
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
        self.title.value = (
            f"<b>{_html.text(shown.title)}</b> · {_html.text(challenge.title)}, phase {_html.text(phase)}"
            f"{' (private scores)' if shown.split == 'private' else ''}"
        )
        self.body.value = render(shown, self.context.user)


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
    headers = ["#", "person", *(_html.text(c.label) for c in board.columns), "submitted"]
    if changes:
        headers.append("vs public")
    headers.append("")
    rows = []
    for row in board.rows:
        cells = [str(row.rank), _html.text(row.person)]
        cells += [_html.number(row.values.get(c.key), c.precision) for c in board.columns]
        cells.append(_html.moment(row.submitted_at))
        if changes:
            cells.append(f"{row.rank_change:+d}" if row.rank_change else "·")
        cells.append(build_on_link(board.challenge, row.submission) if row.person != user else "")
        rows.append(cells)
    mine = next((i for i, row in enumerate(board.rows) if row.person == user), None)
    return _html.table(headers, rows, highlight=mine)
