"""The challenges page and a challenge's page in Chromium, on the demo's data: cards, phases,
every board with its links, the private ranking with Δ after a phase ends, deep links, the back
button, and a friendly page for a wrong id."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from urllib.parse import urljoin

from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.e2e.conftest import PAGE_CONFIG
from tests.e2e.dashboards.conftest import Dashboards


def test_the_home_page_shows_a_card_per_challenge_most_active_first(dashboards: Dashboards):
    viewer = dashboards.open("index")
    cards = viewer.page.locator(".coop-card")
    expect(cards).to_have_count(2)
    titles = cards.locator("h2 a").all_inner_texts()
    assert sorted(titles) == [
        "Higgs boson: find H → ττ decays among weighted collision events",
        "TrackML throughput: find particle tracks, fast",
    ]
    first = cards.first
    expect(first.get_by_text(re.compile(r"\d+ participants · \d+ submissions"))).to_be_visible()
    expect(first.locator("table th", has_text="best")).to_be_visible()
    start = first.get_by_role("link", name="Easy start")
    assert "hub/user-redirect/coop/start/" in (start.get_attribute("href") or "")
    viewer.check("home")
    viewer.close()


def test_an_ended_phase_shows_the_private_ranking_with_each_entrys_move(dashboards: Dashboards):
    viewer = dashboards.open("challenge", id="trackml", phase="toy", board="throughput")
    page = viewer.page
    expect(page.get_by_text("the private ranking decides")).to_be_visible()
    private = page.locator("caption", has_text="private scores, Δ from the public rank")
    board = page.locator("table", has=private)
    expect(board.first).to_be_visible()
    expect(board.first.locator("th", has_text="Δ")).to_be_visible()
    people = board.first.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert {"alice", "bob"} <= set(people), people
    moves = board.first.locator("tbody tr").all_inner_texts()
    assert all(re.search(r"▲ up \d+|▼ down \d+|= same", row) for row in moves), moves
    page.locator(".widget-toggle-button", has_text="public ranking").first.click()
    expect(page.locator("caption", has_text="Throughput").first).not_to_contain_text("Δ from the public rank")
    viewer.check("challenge-private-ranking")
    viewer.close()


def test_the_open_phase_says_private_scores_stay_hidden_and_shows_every_phase(dashboards: Dashboards):
    viewer = dashboards.open("challenge", id="trackml")
    page = viewer.page
    expect(page.get_by_text("Private scores stay hidden: the phase is still open")).to_be_visible()
    steps = page.locator("ol.coop-timeline > li")
    expect(steps).to_have_count(2)
    expect(steps.nth(0)).to_contain_text("ended")
    expect(steps.nth(1)).to_contain_text("open")
    expect(steps.nth(1)).to_have_attribute("aria-current", "step")
    expect(page.get_by_role("tab")).to_have_count(2)  # both boards of the phase
    expect(page.locator(".coop-board")).to_have_count(1)  # the other is built when chosen
    page.get_by_role("tab").nth(1).click()
    expect(page.locator(".coop-board")).to_have_count(2)
    expect(page.locator(".coop-board").nth(1)).to_be_visible()
    viewer.check("challenge-open-phase")
    viewer.close()


def test_links_work_behind_the_hub_prefix_and_the_back_button_returns(dashboards: Dashboards):
    viewer = dashboards.open("index")
    page = viewer.page
    page.get_by_role("link", name="TrackML throughput: find particle tracks, fast").click()
    expect(page.locator("ol.coop-timeline")).to_be_visible()
    assert page.url.endswith("/services/dashboards/voila/render/challenge.ipynb?id=trackml")
    page.locator("ol.coop-timeline").get_by_role("link", name="Toy: a few straight tracks").click()
    expect(page.get_by_text("the private ranking decides")).to_be_visible()
    assert "challenge.ipynb?id=trackml&phase=toy" in page.url
    page.go_back()
    expect(page.get_by_text("Private scores stay hidden")).to_be_visible()
    assert page.url.endswith("challenge.ipynb?id=trackml")
    page.go_back()
    expect(page.locator(".coop-card")).to_have_count(2)
    viewer.check("back-to-home")
    viewer.close()


def test_a_row_leads_to_its_executed_notebook_and_its_diff(dashboards: Dashboards):
    viewer = dashboards.open("challenge", id="trackml", phase="toy", board="throughput")
    page = viewer.page
    row = page.locator("tbody tr", has=page.get_by_role("link", name="alice", exact=True)).first
    diff = row.get_by_role("link", name="diff").get_attribute("href") or ""
    with page.expect_navigation():
        row.get_by_role("link", name="notebook").click()
    assert re.search(r"/services/coop/api/submissions/\d+/notebook\.html$", page.url), page.url
    expect(page).to_have_title(re.compile(r"submission \d+ by alice$"))
    page.go_back()
    expect(page.get_by_text("the private ranking decides")).to_be_visible()
    answer = page.request.get(urljoin(page.url, diff))
    assert answer.ok, (diff, answer.status)
    viewer.check("challenge-row-links")
    viewer.close()


def test_sort_and_filter_in_the_browser_from_the_keyboard(dashboards: Dashboards):
    viewer = dashboards.open("challenge", id="trackml", phase="toy", board="throughput")
    page = viewer.page
    board = page.locator(".coop-board").first
    expect(board.locator("tbody tr").first).to_be_visible()
    person = board.get_by_placeholder("filter by name")
    person.focus()
    page.keyboard.type("bob")
    page.keyboard.press("Enter")
    expect(board.locator("tbody tr")).to_have_count(1)
    expect(board.locator("tbody tr")).to_contain_text("bob")
    page.keyboard.press("Tab")  # on to "Sort by", a native select
    expect(board.locator("select")).to_be_focused()
    viewer.check("challenge-filtered")
    viewer.close()


def test_a_wrong_id_gives_a_friendly_page_and_viewers_never_see_the_code(dashboards: Dashboards):
    viewer = dashboards.open("challenge", id="no-such-thing")
    expect(viewer.page.get_by_role("alert")).to_contain_text("No such challenge")
    expect(viewer.page.get_by_role("link", name="Back to the challenges")).to_be_visible()
    assert "coop_widgets.dashboards" not in viewer.page.content()  # sources stripped
    viewer.check("challenge-wrong-id")
    viewer.close()


def test_a_viewer_cannot_run_code_in_the_pages_kernel(dashboards: Dashboards, tmp_path: Path):
    """Voila forwards only widget (comm) and info messages: an execute request sent on the page's
    own kernel connection is dropped. The kernel answers the info request sent after it, so the
    execute request was handled (and dropped) by then."""
    viewer = dashboards.open("index")
    expect(viewer.page.locator(".coop-card")).to_have_count(2)
    kernel = viewer.page.evaluate(PAGE_CONFIG)["kernelId"]
    base = dashboards.platform.dashboards_url.replace("http://", "ws://")
    channels = f"{base}api/kernels/{kernel}/channels"
    ran = tmp_path / "ran"
    session = uuid.uuid4().hex
    execute = shell_message(session, "execute_request", {"code": f"open({str(ran)!r}, 'w').write('x')"})
    info = shell_message(session, "kernel_info_request", {})
    answers: list[str] = []
    with connect(channels, open_timeout=60) as socket:
        socket.send(json.dumps(execute))
        socket.send(json.dumps(info))
        while True:
            message = json.loads(socket.recv(timeout=60))
            parent = message["parent_header"].get("msg_id")
            if parent == execute["header"]["msg_id"]:
                answers.append(message["msg_type"])
            if parent == info["header"]["msg_id"] and message["msg_type"] == "kernel_info_reply":
                break
    assert answers == [] and not ran.exists()
    viewer.close()


def shell_message(session: str, kind: str, content: dict[str, object]) -> dict[str, object]:
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": kind,
        "username": "viewer",
        "session": session,
        "date": "",
        "version": "5.3",
    }
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
