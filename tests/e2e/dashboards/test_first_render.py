"""A challenge's page draws its board from the served HTML, before Voila's front end has started,
and the live board takes its place: Voila as the hub runs it (preheated kernels, the ``coop``
template), a scorer service over a ledger with three scored people, Chromium.

The browser is held back from Voila's front end (its ``voila.js`` request waits) until the page's
first render has been checked: its rows are on screen from the HTML alone, in place of Voila's
spinner. Then the front end runs, and the first render is gone the moment the live widgets are
drawn: a script watching the page from its first byte never finds both at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, expect

from scorer.ledger.bulk import ScoredRecord, import_scored
from tests.conftest import make_challenge
from tests.e2e.dashboards.conftest import ARTIFACTS
from tests.e2e.dashboards.served import Voila, held_front_end, voila_in_chromium

#: Public rmse (lower is better): the board ranks bob, carol, alice.
SCORES = {"alice": 0.30, "bob": 0.10, "carol": 0.20}
#: Run before the page's own scripts: records whether the first render and the live board were
#: ever in the page together.
BOTH = """
(() => {
  window.coopBoth = false;
  new MutationObserver(() => {
    if (document.querySelector('.coop-first-render') && document.querySelector('.coop-board')) {
      window.coopBoth = true;
    }
  }).observe(document, {childList: true, subtree: true});
})();
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Voila, Browser]]:
    home = tmp_path_factory.mktemp("first-render")
    api = make_challenge(home / "challenge").api()
    records = [
        ScoredRecord(
            username=person,
            commit_sha=f"{n:040x}",
            submitted_at=datetime(2026, 1, 10 + n, tzinfo=UTC),
            public={"rmse": score, "mae": score},
            private={"rmse": score, "mae": score},
            run_time=1.0 + n,
            peak_memory=100.0,
            notebook_path=f"solutions/{person}/fit.ipynb",
        )
        for n, (person, score) in enumerate(SCORES.items(), start=1)
    ]
    try:
        with api.sessions() as session:
            import_scored(session, "curve", "phase-1", records)
            session.commit()
        with voila_in_chromium(api, home) as served:
            yield served
    finally:
        api.close()


def test_the_board_shows_from_the_html_then_the_live_board_takes_its_place(served: tuple[Voila, Browser]):
    server, browser = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with held_front_end(browser, BOTH) as held:
        page = held.page
        held.goto(server.url("challenge", id="curve"))
        first = page.locator(".coop-first-render")
        rows = first.locator(".coop-first-row")
        expect(rows).to_have_count(3)
        expect(rows.first).to_be_visible()  # drawn from the HTML alone: Voila's front end is held
        assert rows.locator("span:nth-child(2)").all_inner_texts() == ["bob", "carol", "alice"]
        expect(first.locator(".coop-nav")).to_be_visible()  # the header, the head, the board's name
        expect(first.get_by_text("Private scores stay hidden")).to_be_visible()
        expect(page.locator("#loading")).to_have_count(0)  # in place of Voila's spinner
        # Not interactive and not in the accessibility tree: role queries find the live page only.
        assert first.get_attribute("inert") is not None and first.get_attribute("aria-hidden") == "true"
        expect(page.get_by_role("link", name="bob")).to_have_count(0)
        expect(page.locator(".coop-board")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "challenge-first-render.png"), full_page=True)

        held.release()
        live = page.locator(".coop-board tbody tr")
        expect(live).to_have_count(3)
        expect(live.first).to_be_visible()
        expect(first).to_have_count(0)
        assert live.locator("td:nth-child(2)").all_inner_texts() == ["bob", "carol", "alice"]
        expect(page.get_by_role("link", name="bob", exact=True)).to_be_visible()
        assert page.evaluate("() => window.coopBoth") is False
        assert "coop_widgets.dashboards" not in page.content()  # sources stripped, as before
        page.screenshot(path=str(ARTIFACTS / "challenge-live.png"), full_page=True)
