"""What the scorer tells a participant, in a browser: alice's notebook with the platform's widget
cells scores, and a failed run's notebook page shows why and where, the failing cell outlined.

One hub for the module (``conftest.py``); the test walks alice through both submissions in
order. Screenshots are in ``test-artifacts/e2e/feedback-*.png``.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from scorer.render.html import FAILING_CLASS
from tests.e2e.conftest import ARTIFACTS, PHASE, CurveHub, Person

pytestmark = pytest.mark.needs("chromium", "bwrap")

#: The README invites these in a notebook; Easy start's baseline ends with the Submit cell (6).
WIDGET_CELLS = [
    "from coop_widgets import Leaderboard, MySubmissions, PhaseBanner\nPhaseBanner()",
    "Leaderboard()",
    "MySubmissions()",
]
MAGIC = "%undefined_magic"
MAGIC_REASON = f'UsageError: Line magic function `{MAGIC}` not found. (in cell 10: "{MAGIC}")'


def add_cell_below(person: Person, index: int, source: str) -> None:
    """Select cell ``index``, insert a cell below it (``b``) and type ``source`` into it."""
    person.cell_editor(index).click()
    page = person.page
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    expect(person.notebook_panel().locator(".jp-Cell")).to_have_count(index + 2)
    page.keyboard.press("Enter")
    page.keyboard.insert_text(source)
    page.keyboard.press("Escape")


def submission(curve: CurveHub, number: int) -> dict:
    answer = httpx.get(f"{curve.hub.service_url}api/submissions/{number}", timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_widget_cells_score_and_a_failed_run_shows_where_it_stopped(curve_hub: CurveHub, person) -> None:
    alice = person("alice")
    alice.log_in()
    notebook = alice.easy_start()
    expect(notebook.locator(".jp-Cell")).to_have_count(6)
    for offset, source in enumerate(WIDGET_CELLS):
        add_cell_below(alice, 5 + offset, source)
    alice.run_all()
    expect(alice.submit_widget()).to_contain_text(f"Ready to submit {PHASE}.ipynb as alice.")
    alice.screenshot("feedback-01-alice-widget-cells")

    number, statuses = alice.press_submit()
    alice.screenshot("feedback-02-alice-scored-with-widgets")
    scored = submission(curve_hub, number)
    assert statuses[-1] == "scored" and scored["status"] == "scored", (statuses, scored.get("reason"))
    executed = httpx.get(f"{curve_hub.hub.service_url}api/submissions/{number}/notebook", timeout=60).json()
    sources = ["".join(cell["source"]) for cell in executed["cells"]]
    assert not any("coop_widgets" in s or "Leaderboard()" in s for s in sources)  # left out of the run

    add_cell_below(alice, 8, MAGIC)  # cell 10 as JupyterLab shows it
    number, statuses = alice.press_submit()
    alice.screenshot("feedback-03-alice-failed")
    assert statuses[-1] == "failed", statuses
    widget = alice.submit_widget()
    expect(widget).to_contain_text(MAGIC_REASON)
    assert submission(curve_hub, number)["reason"] == MAGIC_REASON

    page = alice.context.new_page()
    page.goto(f"{curve_hub.hub.service_url}api/submissions/{number}/notebook.html")
    notice = page.locator(".coop-failure")
    expect(notice).to_contain_text("This run failed (exception).")
    expect(notice).to_contain_text(MAGIC_REASON)
    failing = page.locator(f".{FAILING_CLASS}")
    expect(failing).to_have_count(1)
    expect(failing).to_contain_text(MAGIC)
    expect(failing).to_contain_text(f"UsageError: Line magic function `{MAGIC}` not found.")
    assert failing.evaluate("(cell) => getComputedStyle(cell).outlineColor") == "rgb(198, 40, 40)"
    notice.get_by_role("link", name="Go to the cell where it stopped").click()
    expect(page).to_have_url(re.compile(r"#cell-id="))
    expect(failing).to_be_in_viewport()
    page.screenshot(path=ARTIFACTS / "feedback-04-failed-notebook-page.png")
    page.close()
