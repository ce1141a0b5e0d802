"""A challenge's page (``challenge.ipynb?id=<challenge>[&phase=<id>][&board=<key>]``): its phases
on a timeline with their rules, the description (sanitised Markdown), and every leaderboard of
the phase shown (the open one unless the address names another), the board named first. Once a
phase shows its private scores, each board shows the private ranking with every entry's Δ from
its public rank; before, a notice says they stay hidden and until when.

    from coop_widgets.dashboards.challenge import page
    page()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import ipywidgets as widgets

from coop_client.client import CoopClient
from coop_client.models import ChallengeOut, LeaderboardOut, PhaseOut
from coop_widgets import _html
from coop_widgets.dashboards import first_render
from coop_widgets.dashboards import page as shared
from coop_widgets.dashboards.board import PAGE_ROWS, BoardView, Whole
from coop_widgets.dashboards.markdown import to_html
from coop_widgets.dashboards.timeline import ENDED, UPCOMING, badge, challenge_state, phase_state, timeline


@dataclass(frozen=True)
class Shown:
    """What the page shows: the challenge, its phase, and each board's first rows (public, and
    private if shown), read for the board shown first (``None``: read when its tab is chosen)."""

    challenge: ChallengeOut
    phase: PhaseOut
    boards: list[list[LeaderboardOut] | None]
    private_shown: bool
    selected: int  # the board the address names (its index), else 0

    @property
    def splits(self) -> tuple[str, ...]:
        return ("private", "public") if self.private_shown else ("public",)

    def title(self, index: int) -> str:
        boards = self.boards[index]
        if boards is not None:
            return boards[0].title
        key = self.phase.leaderboards[index]
        return next((b.title for b in self.challenge.leaderboards if b.key == key), key)


def page() -> None:
    """Show the page (the notebook's one call)."""
    shared.show(render, current="challenge", missing="challenge")


def render() -> widgets.Widget:
    params = shared.query()
    now = datetime.now(UTC)
    challenge_id = shared.need(params, "id", "challenge")
    with shared.client() as client:
        shown = read(client, challenge_id, params.get("phase"), params.get("board"), now)
    first_render.show(first_html(shown, now))
    return widget(shown, now)


def first_html(shown: Shown, now: datetime) -> str:
    """The page as the browser draws it before the widgets (:mod:`.first_render`): the header, the
    head, the boards' names and the first rows of the board shown (the private ranking first
    once shown, as :class:`BoardView` does)."""
    body = head_html(shown, now)
    if not shown.boards:
        return first_render.page_html("challenge", body + "<p>This phase has no leaderboard.</p>")
    titles = [shown.title(i) for i in range(len(shown.boards))]
    boards = shown.boards[shown.selected] or []
    first = next((b for b in boards if b.split == "private"), boards[0] if boards else None)
    rows = (
        first_render.board(first) if first is not None and first.rows else "<p>No scored submission yet.</p>"
    )
    return first_render.page_html("challenge", body + first_render.tabs(titles, shown.selected) + rows)


def chosen_phase(challenge: ChallengeOut, phase_id: str | None, now: datetime) -> PhaseOut:
    """The phase named, else the open one, else the one that started last, else the first."""
    if phase_id:
        found = next((p for p in challenge.phases if p.id == phase_id), None)
        if found is None:
            raise shared.NotFound(f"phase in {challenge.title}", phase_id)
        return found
    ordered = sorted(challenge.phases, key=lambda p: p.start)
    started = [p for p in ordered if phase_state(p, now) != UPCOMING]
    current = next((p for p in ordered if p.open), None)
    return current or (started[-1] if started else ordered[0])


def private_shown(phase: PhaseOut, now: datetime) -> bool:
    return phase.private_visible_at is not None and phase.private_visible_at <= now


def read(
    client: CoopClient, challenge_id: str, phase_id: str | None, board: str | None, now: datetime
) -> Shown:
    """What the page shows first, read from the service (a board named but unknown: NotFound)."""
    challenge = client.challenge(challenge_id)
    phase = chosen_phase(challenge, phase_id, now)
    if board and board not in phase.leaderboards:
        raise shared.NotFound(f"leaderboard in phase {phase.title}", board)
    selected = phase.leaderboards.index(board) if board else 0
    shown = Shown(challenge, phase, [None] * len(phase.leaderboards), private_shown(phase, now), selected)
    if phase.leaderboards:
        shown.boards[selected] = first_rows(client, shown, selected)
    return shown


def first_rows(client: CoopClient, shown: Shown, index: int) -> list[LeaderboardOut]:
    """The first screen of a board of the page's phase: the rest is read when a viewer asks
    (:class:`BoardView`)."""
    key = shown.phase.leaderboards[index]
    return [
        client.leaderboard(shown.challenge.id, shown.phase.id, key, split=split, limit=PAGE_ROWS)
        for split in shown.splits
    ]


def whole(challenge_id: str, phase_id: str, board: str) -> Whole:
    """Reads a whole board of the page's phase, when its viewer first sorts, filters or pages."""

    def read_whole(split: str) -> LeaderboardOut:
        with shared.client() as client:
            return client.leaderboard(challenge_id, phase_id, board, split=split)

    return read_whole


def notice(phase: PhaseOut, revealed: bool, now: datetime) -> str:
    """Whether the ranking below is final, in a sentence."""
    if revealed:
        return (
            "The phase has ended: the private ranking decides. Δ is each entry's move from its public "
            "rank (▲ up, ▼ down): the public leader can fall."
        )
    if phase.private_visible_at is None:
        when = "they are never shown"
    else:
        when = f"they are shown from {_html.moment(phase.private_visible_at)}"
    where = "is still open" if phase_state(phase, now) != ENDED else "has ended"
    return (
        f"Private scores stay hidden: the phase {where} and {when}. The ranking below uses only the "
        "public part of the test set and may change when the private ranking is revealed."
    )


def head_html(shown: Shown, now: datetime) -> str:
    """The challenge's heading, timeline and description, and the shown phase's title."""
    challenge, phase = shown.challenge, shown.phase
    state, sentence = challenge_state(challenge, now)
    tags = "".join(f'<span class="coop-tag">{shared.text(tag)}</span>' for tag in challenge.domain)
    start = (
        f"<p>{shared.anchor(shared.easy_start_link(challenge.id, phase.id), 'Easy start', button=True)} "
        "<small>(log in to the hub: the phase's baseline opens in your own JupyterLab)</small></p>"
        if state != ENDED
        else ""
    )
    links = " · ".join(
        shared.anchor(shared.link(name, id=challenge.id, phase=phase.id), label)
        for name, label in (("rewards", "Rewards"), ("graph", "Contribution graph"))
    )
    return (
        f"<p>{shared.anchor(shared.link('index'), '← All challenges')}</p>"
        f"<h1>{shared.text(challenge.title)} {badge(state)}</h1><div>{tags}</div>"
        f"<p><strong>{shared.text(sentence)}</strong></p>{start}"
        f"<h2>Phases</h2>{timeline(challenge, now, phase.id)}"
        f'<details open><summary>About the challenge</summary><div class="coop-description">'
        f"{to_html(challenge.description)}</div></details>"
        f"<h2>Phase: {shared.text(phase.title)} {badge(phase_state(phase, now))}</h2>"
        f"<div>{to_html(phase.description)}</div><p>{links}</p>"
        f'<div class="coop-notice" role="note">{shared.text(notice(phase, shown.private_shown, now))}</div>'
    )


def widget(shown: Shown, now: datetime) -> widgets.Widget:
    """The page: the head, and a tab per board; only the board shown is read and built at first
    (each board is some thirty widgets the browser draws), another one when its tab is chosen."""
    head = widgets.HTML(head_html(shown, now))
    if not shown.boards:
        return widgets.VBox([head, widgets.HTML("<p>This phase has no leaderboard.</p>")])

    def view(index: int) -> BoardView:
        boards = shown.boards[index]
        if boards is None:
            with shared.client() as client:
                boards = first_rows(client, shown, index)
        return BoardView(boards, whole(boards[0].challenge, boards[0].phase, boards[0].leaderboard))

    children = [
        view(i) if i == shown.selected else widgets.HTML("<p>Loading the board…</p>")
        for i in range(len(shown.boards))
    ]
    tabs = widgets.Tab(children=children, titles=[shown.title(i) for i in range(len(shown.boards))])
    tabs.selected_index = shown.selected

    def chosen(change: dict[str, object]) -> None:
        index = change["new"]
        if isinstance(index, int) and not isinstance(tabs.children[index], BoardView):
            tabs.children = [view(i) if i == index else child for i, child in enumerate(tabs.children)]

    tabs.observe(chosen, "selected_index")
    return widgets.VBox([head, tabs])
