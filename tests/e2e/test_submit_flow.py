"""A participant's first page and the Submit flow around a submission limit, in Chromium.

alice's browser is in Auckland (a time zone far from UTC). She logs in and lands on the
Coopetition start page (never asked about Jupyter news), follows Easy start, submits; submits
again within the phase's minimum interval and is refused, with the next slot shown in her own
time zone, counting down; once it is open, one click scores the commit she already pushed. Every
save Submit asked for was acknowledged by JupyterLab. Her start page, opened again from the
Launcher's card, lists those submissions. Screenshots are in ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, expect

from coop_client.utc import next_second
from scorer.ledger import queries
from tests.conftest import make_challenge
from tests.e2e.conftest import (
    ANNOUNCEMENTS,
    ARTIFACTS,
    PAGE_CONFIG,
    PHASE,
    RUN_LIMITS,
    SCORE_TIMEOUT,
    SPAWN_TIMEOUT,
    UI_TIMEOUT,
    WATCH_HEADLINE,
    CurveHub,
    Person,
    exactly,
)
from tests.hub.conftest import RunningHub

pytestmark = pytest.mark.needs("chromium", "bwrap")

#: Seconds between counted submissions: a second push right after the first falls inside it.
MIN_INTERVAL = 60
ZONE = "Pacific/Auckland"
EDIT = "\n# alice: one more try"
SAVED = "Committing (saved by JupyterLab)…"
PATIENT_SUBMIT = "from coop_widgets import Submit\n\nSubmit(save_timeout=3600)"
FINISHED = r"^Submission \d+ (scored|failed|was not scored|still waits)"
WAITING = r"^Submission \d+ (waits for a worker|is running)"
NOTHING = r"^Nothing changed since your last submission"


@pytest.fixture(scope="module")
def curve_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CurveHub]:
    """The embedded hub as shipped, serving a challenge whose phase has a short minimum interval."""
    root = tmp_path_factory.mktemp("e2e-submit-flow")
    submissions = {"per_day": 20, "min_interval": MIN_INTERVAL}
    challenge = make_challenge(
        root, edit={"phases.0.limits": RUN_LIMITS, "phases.0.submissions": submissions}
    )
    running = RunningHub.on_held_ports(Path(challenge.settings.home), [challenge.challenge_id])
    try:
        running.start()
        yield CurveHub(running, challenge)
    finally:
        running.close()


class Abroad(Person):
    """Someone whose browser runs in :data:`ZONE`, in British English."""

    def __init__(self, name: str, curve: CurveHub, browser: Browser) -> None:
        super().__init__(name, curve, browser)
        self.context.close()
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 900}, timezone_id=ZONE, locale="en-GB"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(UI_TIMEOUT)


@pytest.fixture(scope="module")
def alice(curve_hub: CurveHub, browser: Browser) -> Iterator[Abroad]:
    someone = Abroad("alice", curve_hub, browser)
    try:
        yield someone
        someone.assert_no_news_prompt()
    finally:
        someone.close()


def submissions(curve: CurveHub, user: str) -> list[queries.SubmissionView]:
    """The person's submissions, oldest first, as the ledger holds them."""
    api = curve.challenge.api()
    try:
        with api.sessions() as session:
            return queries.submissions(session, challenge_id=curve.challenge_id, username=user)[::-1]
    finally:
        api.close()


def press(person: Person, button: Locator, until: str = FINISHED) -> list[str]:
    """Click one of the Submit widget's buttons; every headline it showed until one matched
    ``until`` (a JavaScript regular expression)."""
    person.page.evaluate(WATCH_HEADLINE)
    button.click()
    person.page.wait_for_function(
        f"() => window.coopHeadlines.some((t) => /{until}/.test(t))", timeout=SCORE_TIMEOUT
    )
    return person.page.evaluate("window.coopHeadlines")


def test_the_first_page_is_the_start_page_with_the_challenges(curve_hub: CurveHub, alice: Abroad) -> None:
    alice.page.goto(f"{alice.url}/hub/login")
    alice.page.fill("#username_input", "alice")
    alice.page.fill("#password_input", curve_hub.hub.password)
    alice.page.click("#login_submit")
    alice.page.locator("#coop-start").wait_for(timeout=SPAWN_TIMEOUT)
    assert alice.page.url.endswith("/user/alice/coop/")
    card = alice.page.locator(f".challenge[data-challenge='{curve_hub.challenge_id}']")
    expect(card).to_contain_text(f"({PHASE})")
    expect(card).to_contain_text(f"at most one every {MIN_INTERVAL} s")
    expect(alice.page.locator("#coop-submissions")).to_contain_text("None yet")
    alice.screenshot("20-alice-start-page")

    card.get_by_role("link", name="Easy start").click()
    alice.idle()
    assert alice.page.url.endswith(
        f"/lab/tree/challenges/{curve_hub.challenge_id}/solutions/alice/{PHASE}.ipynb"
    )
    assert ANNOUNCEMENTS in alice.page.evaluate(PAGE_CONFIG)["disabledExtensions"]
    alice.assert_no_news_prompt()  # and again when she leaves, minutes later


def test_a_refused_submission_is_scored_after_its_slot_and_every_save_is_acknowledged(
    curve_hub: CurveHub, alice: Abroad
) -> None:
    alice.turn_off_autosave()  # so that each save is Submit's own
    # an hour to answer each save request: only JupyterLab's answer lets a submission go on
    alice.replace_cell(alice.notebook_panel().locator(".jp-Cell").count() - 1, PATIENT_SUBMIT)
    alice.run_all()
    widget = alice.submit_widget()
    expect(widget).to_contain_text(f"Ready to submit {PHASE}.ipynb as alice.")
    submit = widget.locator(".widget-button", has_text=exactly("Submit"))

    first = press(alice, submit, until=WAITING)  # and, right away, an edit submitted
    alice.append_to_cell(3, EDIT)
    expect(alice.dirty_tab(f"{PHASE}.ipynb")).to_be_visible()
    second = press(alice, submit)
    alice.screenshot("21-alice-refused-with-the-next-slot")
    [earlier, refused] = submissions(curve_hub, "alice")
    assert refused.status == "rejected", (refused.status, second)
    assert any(t.startswith(f"Submission {refused.id} was not scored") for t in second), second

    slot = next_second(earlier.created_at + timedelta(seconds=MIN_INTERVAL))  # as shown, to the second
    local = slot.astimezone(ZoneInfo(ZONE))
    clock = widget.locator(".coop-clock")
    expect(clock).to_contain_text(f"{local:%H:%M:%S} ({ZONE}): in ")
    shown = widget.inner_text()
    assert f"{slot:%H:%M:%S}" not in shown  # nowhere in UTC
    assert EDIT.strip() in alice.notebook.read_text()  # Submit had JupyterLab save the edit

    expect(clock).to_contain_text("open now", timeout=(MIN_INTERVAL + 60) * 1000)
    offered = widget.locator(".widget-button", has_text=exactly("Score the commit you already pushed"))
    third = press(alice, offered)
    alice.screenshot("22-alice-refused-commit-scored")
    assert any(re.match(r"^Submission \d+ scored\.", t) for t in third), third
    *_, again = submissions(curve_hub, "alice")
    assert (again.status, again.commit_sha, again.notebook_path) == (
        "scored",
        refused.commit_sha,
        refused.notebook_path,
    )
    assert EDIT.strip() in curve_hub.git_served("show", f"{again.commit_sha}:{again.notebook_path}").stdout

    fourth = press(alice, submit, until=NOTHING)  # nothing new: saved all the same
    saving = [t for t in first + second + fourth if t.startswith("Committing")]
    assert saving == [SAVED, SAVED, SAVED], (first, second, fourth)  # acknowledged, never waited out


def test_the_launcher_card_opens_the_start_page_with_her_submissions(
    curve_hub: CurveHub, alice: Abroad
) -> None:
    alice.menu("File", "New Launcher").click()
    card = alice.page.locator(".jp-LauncherCard:visible", has_text="Coopetition")
    with alice.context.expect_page() as opened:
        card.click()
    start = opened.value
    start.locator("#coop-start").wait_for()
    rows = start.locator("#coop-submissions tr.submission")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("scored")
    expect(rows.nth(1)).to_contain_text("rejected")
    start.screenshot(path=ARTIFACTS / "23-alice-start-page-from-the-launcher.png")
    start.close()
