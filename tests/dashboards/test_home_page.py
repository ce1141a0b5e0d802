"""The challenges page: rendered in this process from the real service (a scored challenge), and
its pure parts (order, states, escaping) from the client's models."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from coop_client.models import ActivityOut, ChallengeOut, ChallengeSummary, LimitsOut, PhaseOut
from coop_widgets.dashboards import home
from scorer.service.app import create_app
from tests.service.conftest import PREFIX, TOKENS, Scored, running, scored  # noqa: F401  (a fixture)

NOW = datetime(2026, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def service_url(scored: Scored) -> Iterator[str]:  # noqa: F811  (the fixture imported above)
    with pytest.MonkeyPatch.context() as patch, running(create_app(scored.api, TOKENS, prefix=PREFIX)) as url:
        patch.setenv("COOP_SERVICE_URL", url + PREFIX)
        yield url + PREFIX


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def phase(phase_id: str, start: datetime, end: datetime | None, *, open_: bool) -> PhaseOut:
    return PhaseOut(
        id=phase_id,
        title=f"Phase {phase_id}",
        description="",
        start=start,
        end=end,
        open=open_,
        leaderboards=[],
        private_visible_at=end,
        submissions=LimitsOut(per_day=5, per_person=None, min_interval=None),
    )


def card(challenge_id: str, phases: list[PhaseOut], last: datetime | None, *, title: str = "") -> home.Card:
    current = next((p.id for p in phases if p.open), None)
    used = ActivityOut(participants=1 if last else 0, submissions=3 if last else 0, last_at=last)
    summary = ChallengeSummary(
        id=challenge_id, title=title or challenge_id, current_phase=current, activity=used
    )
    challenge = ChallengeOut(
        **summary.model_dump(exclude={"activity"}),
        description="A **bold** start.\n\nMore below.",
        domain=["physics"],
        skills=[],
        metrics=[],
        leaderboards=[],
        phases=phases,
    )
    return home.Card(summary, challenge, current, [])


def test_the_page_shows_the_served_challenge_with_its_activity_and_best_entry(service_url: str):
    html = home.render()
    text = plain(html)
    assert "2 participants · 2 submissions" in text  # bob's failure counts as a submission
    assert 'href="challenge.ipynb?id=curve"' in html
    assert 'href="challenge.ipynb?id=curve&amp;phase=phase-1&amp;board=main"' in html
    assert re.search(r"Best per board, current phase: .* alice", text)
    assert 'href="../../../../hub/user-redirect/coop/start/curve"' in html


def test_cards_go_most_recently_active_first_and_unused_ones_last():
    open_phase = [phase("p", NOW - timedelta(days=9), None, open_=True)]
    quiet = card("quiet", open_phase, None)
    old = card("old", open_phase, NOW - timedelta(days=5))
    busy = card("busy", open_phase, NOW - timedelta(hours=1))
    html = home.cards_html([quiet, old, busy], NOW)
    assert [m for m in re.findall(r"challenge\.ipynb\?id=(\w+)\"", html)] == ["busy", "old", "quiet"]


def test_ended_and_upcoming_challenges_are_marked_in_words_and_only_ended_ones_lack_easy_start():
    ended = card("ended", [phase("p", NOW - timedelta(days=60), NOW - timedelta(days=30), open_=False)], None)
    upcoming = card("soon", [phase("p", NOW + timedelta(days=3), None, open_=False)], None)
    running_ = card("live", [phase("p", NOW - timedelta(days=3), NOW + timedelta(days=3), open_=True)], None)
    ended_html, upcoming_html, open_html = (home.card_html(c, NOW) for c in (ended, upcoming, running_))
    assert "ended 2026-06-01" in plain(ended_html) and "Easy start" not in ended_html
    assert "Phase p: starts 2026-07-04" in plain(upcoming_html) and "Easy start" in upcoming_html
    assert "Phase p: open, ends 2026-07-04" in plain(open_html)
    for html, state in ((ended_html, "ended"), (upcoming_html, "upcoming"), (open_html, "open")):
        assert f'<span class="coop-state {state}">{state}</span>' in html


def test_what_organisers_wrote_is_escaped_and_their_markdown_sanitised():
    hostile = card("x", [phase("p", NOW, None, open_=True)], None, title="<script>alert(1)</script>")
    hostile.challenge.description = "Hi <img src=x onerror=alert(1)> ![t](http://elsewhere/t.png) **ok**"
    html = home.card_html(hostile, NOW)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in html and "elsewhere" not in html and "<strong>ok</strong>" in html


def test_no_challenge_yet_says_so():
    assert "No challenge is published yet." in home.cards_html([], NOW)
