"""A challenge's page: rendered in this process from the real service over a ledger where a phase
has ended (the private ranking with Δ from the public one) or is open (the notice that private
scores stay hidden); wrong ids give a friendly page; the board's sort, filter and pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from coop_client.client import CoopClient, CoopClientError
from coop_client.models import ColumnOut, LeaderboardOut, RowOut
from coop_widgets.dashboards import board, challenge, first_render, page
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.service.app import create_app
from tests.conftest import make_challenge
from tests.service.conftest import PREFIX, TOKENS, running

ENDED = {"phases.0.start": "2020-01-01T00:00:00Z", "phases.0.end": "2020-02-01T00:00:00Z"}
#: Public and private rmse (lower is better): alice leads in public and falls to last in private.
SCORES = {"alice": (0.10, 0.30), "bob": (0.20, 0.10), "carol": (0.30, 0.20)}


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def serve(root: Path, edit: dict[str, object] | None, patch: pytest.MonkeyPatch) -> Iterator[str]:
    fixture = make_challenge(root, edit=edit)
    api = fixture.api()
    records = [
        ScoredRecord(
            username=person,
            commit_sha=f"{n:040x}",
            submitted_at=datetime(2020, 1, 10 + n, tzinfo=UTC),
            public={"rmse": public, "mae": public},
            private={"rmse": private, "mae": private},
            run_time=1.0 + n,
            peak_memory=100.0,
            notebook_path=f"solutions/{person}/fit.ipynb",
        )
        for n, (person, (public, private)) in enumerate(SCORES.items(), start=1)
    ]
    try:
        with api.sessions() as session:
            import_scored(session, "curve", "phase-1", records)
            session.commit()
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            patch.setenv("COOP_SERVICE_URL", url + PREFIX)
            yield url + PREFIX
    finally:
        api.close()


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        yield from serve(tmp_path_factory.mktemp("ended"), ENDED, patch)


@pytest.fixture(scope="module")
def still_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        yield from serve(tmp_path_factory.mktemp("open"), None, patch)


def test_after_the_phase_ends_the_private_ranking_shows_each_entrys_move(ended: str):
    now = datetime.now(UTC)
    with CoopClient(ended) as client:
        shown = challenge.read(client, "curve", None, None, now)
    assert shown.private_shown and shown.phase.id == "phase-1"
    [[private, public]] = shown.boards
    assert (private.split, public.split) == ("private", "public")
    text = plain(board.board_html(private, private.rows))
    assert re.search(r"1 bob .* 2 ▲ up 1 .* 2 carol .* 3 ▲ up 1 .* 3 alice .* 1 ▼ down 2", text), text
    assert "private scores, Δ from the public rank" in text
    head = plain(challenge.head_html(shown, now))
    assert "the private ranking decides" in head and "the public leader can fall" in head
    assert "ended" in head and "Easy start" not in head


def test_before_the_end_a_notice_says_private_scores_stay_hidden(still_open: str):
    now = datetime.now(UTC)
    with CoopClient(still_open) as client:
        shown = challenge.read(client, "curve", None, "main", now)
    assert not shown.private_shown and [[b.split for b in boards] for boards in shown.boards] == [["public"]]
    head = plain(challenge.head_html(shown, now))
    assert "Private scores stay hidden: the phase is still open" in head
    assert re.search(r"each run: [\d.]+ s in all, [\d.]+ s per cell, .* of memory, .* no network", head)
    assert "public scores use 30% of the test set" in head
    text = plain(board.board_html(shown.boards[0][0], shown.boards[0][0].rows))
    assert re.search(r"1 alice 0\.1000 .* 2 bob .* 3 carol", text) and "Δ" not in text


def test_each_row_links_its_profile_notebook_and_diff_relatively(still_open: str):
    with CoopClient(still_open) as client:
        main = client.leaderboard("curve", "phase-1", "main")
    html = board.board_html(main, main.rows)
    first = main.rows[0].submission
    assert f'href="../../../../services/coop/api/submissions/{first}/notebook.html"' in html
    assert f'href="../../../../services/coop/api/submissions/{first}/diff.html"' in html
    assert 'href="profile.ipynb?id=alice"' in html
    assert '<th scope="col">RMSE ↑</th>' in html or re.search(r'<th scope="col">[^<]* ↑</th>', html)


def test_the_whole_page_renders_from_its_address(still_open: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUERY_STRING", "id=curve&phase=phase-1&board=main")
    shown = challenge.render()
    html = shown.children[0].value
    assert "<h2>Phases</h2>" in html and 'aria-current="step"' in html
    tabs = shown.children[1]
    assert tabs.selected_index == 0 and tabs.titles[0]


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("id=nope", "No such challenge"),
        ("", "No challenge was named in the address"),
        ("id=curve&phase=nope", "No such phase in Curve: nope"),
        ("id=curve&board=nope", "No such leaderboard in phase"),
    ],
)
def test_a_wrong_address_gives_a_friendly_page(
    still_open: str, monkeypatch: pytest.MonkeyPatch, query: str, title: str
):
    monkeypatch.setenv("QUERY_STRING", query)
    with pytest.raises((CoopClientError, page.NotFound)) as raised:
        challenge.render()
    shown = page.problem_page(raised.value, "challenge")
    assert title in plain(shown) and "Traceback" not in shown
    assert 'href="index.ipynb"' in shown


def make_board(n: int) -> LeaderboardOut:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return LeaderboardOut(
        challenge="c",
        phase="p",
        leaderboard="main",
        title="Main",
        split="public",
        primary="score",
        columns=[
            ColumnOut(key="score", label="Score", precision=3, sorting="desc", computation="2 * accuracy"),
            ColumnOut(key="time", label="Time", precision=1, sorting="asc"),
        ],
        rows=[
            RowOut(
                rank=i + 1,
                person=f"person-{i:05d}",
                submission=i + 1,
                submitted_at=at + timedelta(minutes=i),
                values={"score": 1.0 - i / n, "time": None if i % 7 == 0 else float(i % 13)},
                likes=i % 5,
            )
            for i in range(n)
        ],
        tie_break=["time"],
        select="best",
    )


def test_a_board_of_ten_thousand_entries_is_paged_sorted_and_filtered_without_a_request():
    view = board.BoardView([make_board(10_000)])
    assert "rows 1–100 of 10000" in view.where.value and view.previous.disabled
    assert view.table.value.count("<tr>") == 101  # the header and a page of rows
    view.next.click()
    assert "rows 101–200 of 10000" in view.where.value and not view.previous.disabled
    view.sort.value = "time"
    times = re.findall(r'<td class="num">(\d+\.\d|—)</td><td>2026', view.table.value)
    assert times[0] == "0.0" and "rows 1–100" in view.where.value  # best (lowest) first, back to page 1
    view.person.value = "person-0999"
    assert "rows 1–10 of 10" in view.where.value and view.next.disabled
    view.person.value = "nobody"
    assert "No one matches." in view.table.value


def test_a_board_says_how_it_ranks_and_how_computed_columns_are_computed():
    html = board.board_html(make_board(3), make_board(3).rows)
    said = plain(html)
    assert "Main: ranked by Score (higher first), ties broken by Time; each person's best submission" in said
    assert "ƒ Score = 2 * accuracy" in said and "Score ↓ ƒ" in said and "Time ↑" in said


def test_the_page_reads_each_boards_first_rows_and_the_whole_board_when_a_viewer_sorts(still_open: str):
    with CoopClient(still_open) as client:
        first = client.leaderboard("curve", "phase-1", "main", limit=2)
        everything = client.leaderboard("curve", "phase-1", "main")
    assert [r.person for r in first.rows] == ["alice", "bob"] and first.total == everything.total == 3
    asked: list[str] = []

    def whole(split: str) -> LeaderboardOut:
        asked.append(split)
        return everything

    view = board.BoardView([first], whole)
    assert "rows 1–3 of 3" in view.where.value and asked == []  # the page as it opens: no more read
    view.sort.value = "#person"
    assert asked == ["public"] and view.table.value.count("<tr>") == 4
    view.reverse.value = True
    assert asked == ["public"] and "carol" in plain(view.table.value).split("bob")[0]  # read once


def test_only_the_shown_board_is_read_and_built_until_its_viewer_chooses_another(still_open: str):
    now = datetime.now(UTC)
    with CoopClient(still_open) as client:
        shown = challenge.read(client, "curve", None, "main", now)
    assert shown.boards[0] is not None and shown.boards[0][0].rows
    two = replace(shown, boards=[None, [make_board(3)]], selected=1)  # a page opened on its second board
    tabs = challenge.widget(two, now).children[1]
    assert [isinstance(child, board.BoardView) for child in tabs.children] == [False, True]
    titles = tabs.titles
    assert titles[0] == shown.boards[0][0].title  # named before it is read
    tabs.selected_index = 0  # read from the service now
    assert [isinstance(child, board.BoardView) for child in tabs.children] == [True, True]
    assert tabs.selected_index == 0 and tabs.titles == titles
    assert re.search(r"1 alice .* 2 bob .* 3 carol", plain(tabs.children[0].table.value))


def test_the_first_render_shows_the_page_and_the_boards_first_rows_private_first(ended: str):
    now = datetime.now(UTC)
    with CoopClient(ended) as client:
        shown = challenge.read(client, "curve", None, None, now)
    html = challenge.first_html(shown, now)
    text = plain(html)
    assert "the private ranking decides" in text and 'class="coop-nav' in html
    assert re.search(
        r"private ranking, 3 in all.* 1 bob .*▲ up 1 2 carol .*▲ up 1 3 alice .*▼ down 2", text
    ), text
    # none of the live board's markup: a page's tests and scripts find the live board only
    assert "<table" not in html.split('class="coop-first-tabs"')[1] and "coop-board" not in html


def test_the_first_render_of_a_board_is_its_first_rows_escaped():
    shown = make_board(500)
    shown.rows[0].person = "<b>eve</b>"
    html = first_render.board(shown)
    assert html.count('class="coop-first-row"') == first_render.ROWS
    assert "&lt;b&gt;eve&lt;/b&gt;" in html and "<b>eve" not in html
    assert "first 20 of 500" in plain(html)
