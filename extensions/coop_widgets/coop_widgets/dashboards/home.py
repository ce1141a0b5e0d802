"""The challenges page (``index.ipynb``): a card per challenge, the most active first, ended and
upcoming ones marked, each with its current phase, participants, submissions, the best score of
each board and an Easy start link that leads through the hub's login.

    from coop_widgets.dashboards.home import page
    page()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from coop_client.client import CoopClient
from coop_client.models import ChallengeOut, ChallengeSummary, LeaderboardOut
from coop_widgets import _html
from coop_widgets.dashboards import page as shared
from coop_widgets.dashboards.markdown import first_paragraph
from coop_widgets.dashboards.timeline import ENDED, OPEN, UPCOMING, badge, challenge_state, phase_state


@dataclass(frozen=True)
class Card:
    """What a card shows: the challenge, how much it is used, and its shown phase's boards."""

    summary: ChallengeSummary
    challenge: ChallengeOut
    phase: str | None  # the open phase, else the one that started last (None: none started)
    boards: list[LeaderboardOut]


def page() -> None:
    """Show the page (the notebook's one call)."""
    shared.show(render, current="index", missing="challenge")


def render() -> str:
    now = datetime.now(UTC)
    with shared.client() as client:
        cards = [read_card(client, summary, now) for summary in client.challenges()]
    return cards_html(cards, now)


def read_card(client: CoopClient, summary: ChallengeSummary, now: datetime) -> Card:
    challenge = client.challenge(summary.id)
    started = [p for p in challenge.phases if phase_state(p, now) != UPCOMING]
    shown = summary.current_phase or (max(started, key=lambda p: p.start).id if started else None)
    phase = next((p for p in challenge.phases if p.id == shown), None)
    boards = (  # a card shows each board's leader: its first row
        [client.leaderboard(challenge.id, phase.id, key, limit=1) for key in phase.leaderboards]
        if phase
        else []
    )
    return Card(summary, challenge, shown, boards)


def activity_key(card: Card) -> tuple[datetime, int]:
    """Latest submission first, then more submissions; a challenge nobody submitted to last."""
    activity = card.summary.activity
    if activity is None or activity.last_at is None:
        return (datetime.min.replace(tzinfo=UTC), 0)
    return (activity.last_at, activity.submissions)


def cards_html(cards: list[Card], now: datetime) -> str:
    """The page's body: a heading and the cards, most active first."""
    if not cards:
        return "<h1>Challenges</h1><p>No challenge is published yet.</p>"
    ordered = sorted(cards, key=activity_key, reverse=True)
    items = "".join(f"<li>{card_html(card, now)}</li>" for card in ordered)
    return (
        "<h1>Challenges</h1><p>Research problems solved together: every solution is open, every "
        "step forward is credited. Most active first.</p>"
        f'<ul class="coop-cards" aria-label="Challenges">{items}</ul>'
    )


def card_html(card: Card, now: datetime) -> str:
    challenge = card.challenge
    state, sentence = challenge_state(challenge, now)
    title = shared.anchor(shared.link("challenge", id=challenge.id), challenge.title)
    tags = "".join(f'<span class="coop-tag">{shared.text(tag)}</span>' for tag in challenge.domain)
    activity = card.summary.activity
    used = (
        f"{activity.participants} participants · {activity.submissions} submissions"
        + (f" · latest {_html.moment(activity.last_at)}" if activity.last_at else "")
        if activity
        else ""
    )
    start = (
        f"<p>{shared.anchor(shared.easy_start_link(challenge.id), 'Easy start', button=True)} "
        "<small>(log in to the hub; the phase's baseline opens in your own JupyterLab)</small></p>"
        if state != ENDED
        else ""
    )
    return (
        f'<article class="coop-card {state}" aria-label="{shared.text(challenge.title)}">'
        f"<h2>{title} {badge(state)}</h2>"
        f"<div>{tags}</div>"
        f'<div class="coop-summary">{first_paragraph(challenge.description)}</div>'
        f"<p><strong>{shared.text(sentence)}</strong></p>"
        f"<p>{shared.text(used)}</p>"
        f"{bests_html(card, state == OPEN)}{start}</article>"
    )


def bests_html(card: Card, current: bool) -> str:
    """The best entry of each board of the shown phase, as a small table."""
    if not card.boards:
        return ""
    phase = next(p for p in card.challenge.phases if p.id == card.phase)
    rows = []
    for board in card.boards:
        column = next((c for c in board.columns if c.key == board.primary), board.columns[0])
        top = board.rows[0] if board.rows else None
        link = shared.link("challenge", id=board.challenge, phase=board.phase, board=board.leaderboard)
        rows.append(
            [
                shared.anchor(link, board.title),
                shared.text(column.label),
                _html.number(top.values.get(column.key), column.precision) if top else "—",
                shared.anchor(shared.profile_link(top.person), top.person) if top else "no entry yet",
            ]
        )
    caption = f"Best per board, {'current' if current else 'last'} phase: {phase.title}"
    return shared.table(["board", "column", "best", "by"], rows, numeric=[2], caption=caption)
