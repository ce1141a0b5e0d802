"""The rewards page and the contribution graph in Chromium, on the demo's data: TrackML's toy
phase has ended and was settled; alice's versions, bob's build on hers. A click on a version
in the graph reaches its executed notebook, a drag across its time axis asks the kernel for that
window; plotly.js comes from the host (the fixture fails a page that asks any other host)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.dashboards.conftest import Dashboards


def test_the_rewards_page_shows_rewarders_balances_the_settlement_and_the_history(dashboards: Dashboards):
    viewer = dashboards.open("rewards", id="trackml", phase="toy")
    page = viewer.page
    expect(page.get_by_role("heading", name="How to earn rewards")).to_be_visible()
    expect(page.get_by_text("10 points the first time accuracy ≥ 0.9")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"100 points shared in proportion to credit on score on throughput"))
    ).to_be_visible()
    balances = page.locator("h2:text-is('Balances') + table")
    expect(balances.locator("th")).to_have_text(["person", "points"])
    expect(balances.locator("tbody tr", has_text="alice")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^Settled on \d{4}-\d\d-\d\d .*grant\(s\) to \d+ person"))
    ).to_be_visible()
    history = page.locator("h2:text-is('Reward history') ~ table").first
    expect(history.locator("thead th")).to_have_text(["when", "who", "amount", "what", "why", "solution"])
    assert history.locator("tbody tr").count() >= 2
    expect(history.locator("tbody tr", has_text="settlement").first).to_be_visible()
    viewer.check("rewards")
    page.get_by_role("link", name="contribution graph").click()
    expect(page).to_have_url(re.compile(r"graph\.ipynb\?id=trackml&phase=toy$"))
    expect(page.get_by_role("heading", name=re.compile("^Contribution graph"))).to_be_visible()


def test_a_click_on_a_graph_node_reaches_its_notebook(dashboards: Dashboards):
    viewer = dashboards.open("graph", id="trackml", phase="toy")
    page = viewer.page
    credit = page.locator("h2:text-is('Credit') ~ table").first
    expect(credit.locator("thead th")).to_have_text(["person", "credit", "share", "versions that earned it"])
    expect(credit.locator("tbody tr", has_text="alice")).to_be_visible()
    points = page.locator(".js-plotly-plot .scatterlayer .trace path.point")
    expect(points.first).to_be_visible()
    legend = page.locator(".js-plotly-plot .legend .legendtext").all_text_contents()
    assert "best so far" in legend and "alice" in legend and "bob" in legend, legend
    assert "copied from" in legend, legend  # bob built on alice's notebook
    assert any(url.endswith("/voila/templates/coop/static/plotly-basic.min.js") for url in viewer.requests)
    viewer.check("graph")
    box = points.last.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    opened = page.get_by_role("link", name="Open its executed notebook")
    expect(opened).to_be_visible()
    expect(page.get_by_role("link", name="Its diff to its parent")).to_be_visible()
    viewer.check("graph-clicked")
    # after the click: plotly counts a click soon after a double-click as part of it
    plot = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()  # a drag across the time axis
    assert plot is not None
    middle = plot["y"] + plot["height"] / 2
    page.mouse.move(plot["x"] + 2, middle)
    page.mouse.down()
    page.mouse.move(plot["x"] + plot["width"] * 0.6, middle, steps=5)
    page.mouse.up()
    expect(page.get_by_text(re.compile(r"^\d+ of \d+ versions in this window"))).to_be_visible()
    page.mouse.dblclick(plot["x"] + plot["width"] / 2, middle)  # the whole phase again
    expect(page.get_by_text(re.compile(r"^All \d+ versions of the phase"))).to_be_visible()
    opened.click()
    expect(page).to_have_url(re.compile(r"/services/coop/api/submissions/\d+/notebook\.html$"))
    expect(page.locator("body")).to_contain_text("predictions")
    assert not viewer.outside, viewer.outside


def test_a_wrong_challenge_or_phase_is_a_friendly_page(dashboards: Dashboards):
    for name, params in (("rewards", {"id": "nope"}), ("graph", {"id": "trackml", "phase": "nope"})):
        viewer = dashboards.open(name, **params)
        expect(viewer.page.get_by_role("alert")).to_contain_text("No such")
        viewer.check(f"{name}-not-found")
