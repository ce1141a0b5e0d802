"""The contribution graph page draws its whole-phase overview from the served HTML, as a static
SVG, before Voila's front end has started, and the live plotly.js graph takes its place once
drawn: Voila as the hub runs it (preheated kernels, the ``coop`` template), a scorer service over
a real git history of 40 commits (two merges, four people) each scored in the ledger, Chromium.

As for the challenge page (``test_first_render``), the browser is held back from Voila's front
end until the first render has been checked; then the front end runs, and a script watching the
page from its first byte never finds the first render and a visible live graph at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from bench import graph_endpoint
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from tests.e2e.dashboards.conftest import ARTIFACTS
from tests.e2e.dashboards.served import Voila, held_front_end, voila_in_chromium

#: The live graph's marks (plotly.js draws a path per point).
LIVE = ".js-plotly-plot .scatterlayer .trace path.point"
#: Run before the page's own scripts: records whether the first render and a visible live graph
#: were ever in the page together.
BOTH = """
(() => {
  window.coopBoth = false;
  const visible = (element) =>
    element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
  new MutationObserver(() => {
    if (!document.querySelector('.coop-first-render')) return;
    const graphs = Array.from(document.querySelectorAll('.js-plotly-plot .main-svg'));
    if (graphs.some(visible)) window.coopBoth = true;
  }).observe(document, {childList: true, subtree: true, attributes: true});
})();
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Voila, Browser, str]]:
    home = tmp_path_factory.mktemp("graph-first-render")
    made = graph_endpoint.single_authors(40, 2, 4)
    shas = graph_endpoint.repository(home / "challenge.git", made)
    api = CoopAPI(ScorerSettings(home=str(home / "coop")))
    try:
        phase = graph_endpoint.fill(api, home / "challenge.git", made, shas)
        with voila_in_chromium(api, home) as (server, browser):
            yield server, browser, phase
    finally:
        api.close()


def test_the_graph_shows_from_the_html_then_the_live_graph_takes_its_place(
    served: tuple[Voila, Browser, str],
):
    server, browser, phase = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with held_front_end(browser, BOTH) as held:
        page = held.page
        held.goto(server.url("graph", id="trackml", phase=phase))
        first = page.locator(".coop-first-render")
        marks = first.locator(".coop-first-marks > *")
        expect(marks.first).to_be_visible()  # drawn from the HTML alone: Voila's front end is held
        drawn = marks.count()
        assert drawn > 20  # every scored version: 40 commits, fewer than the drawing's cap
        expect(first.locator("svg.coop-first-graph")).to_be_visible()
        legend = first.locator("svg.coop-first-graph text").all_text_contents()
        assert "best so far" in legend, " | ".join(legend)
        expect(first.get_by_text(re.compile(r"^Contribution graph · "))).to_be_visible()  # the heading
        expect(
            first.get_by_text(re.compile(rf"The whole phase \({drawn} versions; {drawn} marks drawn\)"))
        ).to_be_visible()
        expect(page.locator("#loading")).to_have_count(0)  # in place of Voila's spinner
        # Not interactive and not in the accessibility tree: role queries find the live page only.
        assert first.get_attribute("inert") is not None and first.get_attribute("aria-hidden") == "true"
        expect(page.get_by_role("heading", name=re.compile("^Contribution graph"))).to_have_count(0)
        expect(page.locator(".js-plotly-plot")).to_have_count(0)
        expect(page.locator(".coop-nav")).to_have_count(0)  # the first render's header has its own class
        page.screenshot(path=str(ARTIFACTS / "graph-first-render.png"), full_page=True)

        held.release()
        live = page.locator(LIVE)
        expect(live.first).to_be_visible()
        expect(first).to_have_count(0)
        assert live.count() == drawn  # the same versions, now plotly.js's
        names = page.locator(".js-plotly-plot .legend .legendtext").all_text_contents()
        assert legend[-len(names) :] == names, (names, legend)  # the same traces, in the same order
        expect(page.get_by_role("heading", name=re.compile("^Contribution graph"))).to_be_visible()
        expect(page.locator(".coop-nav")).to_be_visible()
        expect(page.locator("h2:text-is('Credit') ~ table").first).to_be_visible()
        assert page.evaluate("() => window.coopBoth") is False
        page.screenshot(path=str(ARTIFACTS / "graph-live.png"), full_page=True)
