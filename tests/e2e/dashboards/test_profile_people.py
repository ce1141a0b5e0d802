"""A profile and the people search in Chromium, on the demo's data: every section of alice's
profile, the recruiter's search typed with the keyboard and ranked with explanations, its state
in the address (back returns to it), each row reaching its profile, and a friendly page for a
person who is not there."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, expect

from coop_widgets.dashboards import people
from coop_widgets.dashboards.profile import SECTIONS
from tests.e2e.dashboards.conftest import Dashboards

#: What the demo itself asks the people search (``coop demo`` prints the same ranking).
WEIGHTS = (("clustering", "2"), ("performance-optimisation", "1"), ("numpy", "1"))


def tables_have_headers(page: Page) -> None:
    """Every table heads its columns: a ``th`` per column in its ``thead``."""
    shapes = page.evaluate(
        """() => [...document.querySelectorAll('.coop-dash table')].map(t => [
            t.querySelectorAll('thead th').length,
            Math.max(0, ...[...t.querySelectorAll('tbody tr')].map(r => r.cells.length)),
        ])"""
    )
    assert shapes, "no table on the page"
    for headers, widest in shapes:
        assert headers >= widest > 0, f"a table with {headers} headers and rows {widest} wide"


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_alices_profile_shows_every_section(dashboards: Dashboards):
    viewer = dashboards.open("profile", id="alice")
    page = viewer.page
    for _key, heading in SECTIONS:
        expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    submissions = page.locator("#submissions tbody tr")
    expect(submissions.first).to_be_visible()
    expect(submissions.first.locator(".coop-state")).to_have_text(
        re.compile(r"^(scored|failed|queued|running)$")
    )
    expect(page.locator("#ranks tbody tr").first).to_contain_text(re.compile(r"\d+ of \d+"))
    expect(page.locator("#skills tbody tr").first).to_contain_text(
        re.compile(r"(code|challenge|rank|measured): ")
    )
    expect(page.get_by_role("link", name="Exported credentials")).to_be_visible()
    tables_have_headers(page)
    viewer.check("profile-alice")

    skill = page.locator("#skills tbody tr").first.get_by_role("link")
    name = skill.inner_text()
    skill.click()  # a skill leads to the people who have it
    expect(page.get_by_role("heading", name="People", level=1)).to_be_visible()
    assert query(page)["skill"] == [name]
    expect(page.locator("tbody tr", has=page.get_by_role("link", name="alice", exact=True))).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Skills", level=2)).to_be_visible()
    assert query(page) == {"id": ["alice"]}
    viewer.close()


def test_a_search_typed_with_the_keyboard_ranks_the_demo_people_with_explanations(dashboards: Dashboards):
    viewer = dashboards.open("people")
    page = viewer.page
    page.get_by_role("combobox", name="Skill 1").focus()
    for n, (skill, weight) in enumerate(WEIGHTS, 1):
        expect(page.get_by_role("combobox", name=f"Skill {n}")).to_be_focused()
        page.keyboard.type(skill)
        page.keyboard.press("Tab")
        page.keyboard.press("Control+A")
        page.keyboard.type(weight)
        page.keyboard.press("Tab")
    page.get_by_role("spinbutton", name="Minimum percentile").press("Enter")  # submits the form

    expect(page.get_by_role("heading", name="Results", level=2)).to_be_visible()
    asked = query(page)
    search, notes = people.parse(parse_qs(urlsplit(page.url).query, keep_blank_values=True))
    assert search.weights == tuple((s, float(w)) for s, w in WEIGHTS) and notes == []
    rows = page.locator("tbody tr")
    expect(rows.nth(1)).to_be_visible()  # at least two people ranked
    scores = [float(s) for s in page.locator("tbody tr td:nth-child(3)").all_inner_texts()]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    first = rows.first
    expect(first.locator("td").nth(4)).to_contain_text(re.compile(r"clustering ×2: percentile [\d.]+, "))
    expect(first.locator("td").nth(4)).to_contain_text("numpy ×1: percentile")
    expect(page.get_by_role("combobox", name="Skill 1")).to_have_value("clustering")  # the form keeps it
    tables_have_headers(page)
    viewer.check("people-search")

    person = first.get_by_role("link").first
    who = person.inner_text()
    person.click()
    expect(page.get_by_role("heading", name="History", level=2)).to_be_visible()
    assert query(page) == {"id": [who]}
    page.go_back()  # the search is the address: back shows it again
    expect(page.get_by_role("heading", name="Results", level=2)).to_be_visible()
    assert query(page) == asked
    expect(page.locator("tbody tr").first.get_by_role("link").first).to_have_text(who)
    viewer.close()


def test_a_person_who_is_not_there_gets_a_friendly_page(dashboards: Dashboards):
    viewer = dashboards.open("profile", id="nobody-here")
    alert = viewer.page.get_by_role("alert")
    expect(alert).to_contain_text("No such person")
    expect(alert.get_by_role("link", name="Back to the challenges")).to_be_visible()
    viewer.check("profile-not-found")
    viewer.close()
