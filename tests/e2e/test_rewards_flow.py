"""Rewards, likes and credit as people meet them in a browser.

alice improves the phase's baseline (Easy start) and submits: the Submit widget shows what her
submission earned, and ``MyRewards()`` in her notebook lists it with her balance. bob likes her
row on his ``Leaderboard()`` (peer-likes pays her at once), builds on her notebook and submits;
his own row has no like button. The phase's contribution graph and credit table, fetched from
the browser as any viewer, credit each for their own gain. olga invalidates alice's submission
from the ``OrganiserPanel`` (preview, confirm): her row leaves the board, her rewards are taken
back (and the first place past the baseline goes to bob), bob's version is credited as built on
the baseline; then olga settles the phase, once, and bob's rewards show his prize.

The phase's baseline is scored first, as the person ``baseline`` (as ``coop demo`` does): it is
the reference ``beat-baseline`` and ``new-record`` compare with, and the version alice's Easy
start copy is found to come from. On the phase's seeded data (noise 0.02) the baseline's cubic has
a public RMSE near 0.052; alice's quintic on the first 20 training points, 0.028; bob's on all of
them, 0.019: each gain is well above the noise threshold. One hub for the module
(``conftest.py``); the tests run in order and build on each other. Screenshots are in
``test-artifacts/e2e/rewards-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from coop_client.layout import solution_path
from scorer.challenge.load import load_spec
from scorer.ledger.reward_views import BASELINE_PERSON
from tests.conftest import make_challenge
from tests.e2e.conftest import (
    PHASE,
    RUN_LIMITS,
    SCORE_TIMEOUT,
    UI_TIMEOUT,
    CurveHub,
    Person,
    exactly,
    scored,
    wait_until,
)
from tests.hub.conftest import RunningHub

pytestmark = pytest.mark.needs("chromium", "bwrap")

REWARDERS = [
    {"type": "score-threshold", "amount": 10, "threshold": 0.03, "params": {"metric": "rmse"}},
    {"type": "beat-baseline", "amount": 20, "params": {"metric": "rmse"}},
    {"type": "new-record", "amount": 5, "params": {"metric": "rmse"}},
    {"type": "peer-likes", "amount": 3, "params": {"levels": [1]}},
    {"type": "rank-prize", "amount": 100, "params": {"leaderboard": "main", "amounts": [100]}},
]
DATA = {"n_train": 500, "n_test": 200, "noise": 0.02}
NOISE = 0.005  # the RMSE's noise threshold
PREDICT = '\ntest["y"] = np.polyval(coefficients, test.x)'
ALICES_MODEL = "coefficients = np.polyfit(train.x[:20], train.y[:20], degree + 2)  # alice" + PREDICT
BOBS_MODEL = "coefficients = np.polyfit(train.x, train.y, degree + 2)  # bob: every point" + PREDICT
MODEL_CELL, SUBMIT_CELL = 3, 5  # in the baseline: markdown, parameters, read, model, organiser, Submit
#: What alice's submission earns: points, and the rewarder with its rule (the baseline's RMSE ≈ 0.052).
ALICES_EARNINGS = [
    (10, r"score-threshold: rmse ≤ 0\.03"),
    (20, rf"beat-baseline: first to beat the baseline's rmse \(0\.05\d*\) by more than {NOISE:g}"),
    (5, r"new-record: new record of rmse \(was 0\.05\d*\)"),
]
#: What bob's earns (alice beat the baseline first).
BOBS_EARNINGS = [ALICES_EARNINGS[0], (5, r"new-record: new record of rmse \(was 0\.02\d*\)")]
#: ``fetch`` from the page, as its scripts would: the status and the JSON body.
FETCH_JSON = "async (url) => { const r = await fetch(url); return {status: r.status, body: await r.json()}; }"


@pytest.fixture(scope="module")
def curve_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CurveHub]:
    """The embedded hub as shipped, serving a challenge whose phase has live rewarders, peer-likes
    at one like and a rank prize; its baseline scored before anyone logs in."""
    root = tmp_path_factory.mktemp("e2e-rewards")
    challenge = make_challenge(
        root,
        edit={
            "metrics.0.noise_threshold": NOISE,
            "phases.0.limits": RUN_LIMITS,
            "phases.0.data_args": DATA,
            "phases.0.submissions": {"per_day": 20},
            "phases.0.rewarders": REWARDERS,
        },
    )
    rule = load_spec(challenge.folder).solutions
    target = str(solution_path(rule, BASELINE_PERSON, f"{PHASE}-baseline"))
    sha = challenge.commit(BASELINE_PERSON, {target: challenge.baseline})
    api = challenge.api()
    try:
        api.enqueue_commit(str(challenge.bare), sha, phase_id=PHASE)
    finally:
        api.close()
    running = RunningHub.on_held_ports(Path(challenge.settings.home), [challenge.challenge_id])
    try:
        running.start()
        curve = CurveHub(running, challenge)
        wait_until(lambda: scored(curve, BASELINE_PERSON), "the baseline's score", SCORE_TIMEOUT / 1000)
        yield curve
    finally:
        running.close()


@pytest.fixture(scope="module")
def shared() -> dict[str, Any]:
    """What earlier tests made that later ones use: alice's and bob's submissions."""
    return {}


def panel_of(page: Page, title: str) -> Locator:
    """The last widget panel (title, refresh button, body) whose text holds ``title``."""
    return page.locator(".widget-vbox", has_text=title).last


def refresh(panel: Locator) -> None:
    panel.locator(".widget-button [class*='fa-refresh']").first.click()


def fetch_json(page: Page, url: str) -> Any:
    """GET ``url`` with ``fetch`` from the page (its cookies, no token): the JSON it answers."""
    answer = page.evaluate(FETCH_JSON, url)
    assert answer["status"] == 200, answer
    return answer["body"]


def test_alice_improves_the_baseline_and_sees_what_it_earned(
    curve_hub: CurveHub, alice: Person, shared: dict[str, Any]
) -> None:
    alice.log_in()
    alice.easy_start()
    alice.replace_cell(MODEL_CELL, ALICES_MODEL)
    alice.run_all()
    submission, statuses = alice.press_submit()
    assert statuses[-1] == "scored", statuses
    shared["alice"] = submission
    widget = alice.submit_widget()
    for points, why in ALICES_EARNINGS:
        expect(widget).to_contain_text(re.compile(rf"\+{points} {why}"))
    expect(widget.get_by_text("peer-likes")).to_have_count(0)
    alice.screenshot("rewards-01-alice-submit-earned")

    alice.add_cell_below(SUBMIT_CELL, "from coop_widgets import MyRewards\n\nMyRewards()")
    mine = panel_of(alice.page, "Your rewards")
    expect(mine).to_contain_text(f"Your rewards · {curve_hub.challenge_id}")
    expect(mine).to_contain_text("Balance: 35 points")
    rows = mine.locator("table tbody tr")
    expect(rows).to_have_count(3)
    for points, why in ALICES_EARNINGS:  # each row: when, phase, amount, why, submission
        row = rows.filter(has_text=re.compile(why))
        expect(row.locator("td").nth(2)).to_have_text(f"+{points} points")
        expect(row.locator("td").nth(4)).to_have_text(str(submission))
    alice.screenshot("rewards-02-alice-my-rewards")


def test_bob_likes_alices_row_builds_on_it_and_cannot_like_his_own(
    curve_hub: CurveHub, alice: Person, bob: Person, shared: dict[str, Any]
) -> None:
    bob.log_in()
    wait_until(lambda: (bob.clone / ".git").is_dir(), "bob's clone of the challenge (attached at spawn)")
    bob.new_notebook("from coop_widgets import Leaderboard\n\nLeaderboard()")
    board = panel_of(bob.page, "Curve, phase phase-1")
    alices_row = board.locator("table tbody tr", has_text="alice")
    likes_column = 6  # #, person, RMSE, MAE, run time, submitted, ♡
    expect(alices_row.locator("td").nth(likes_column)).to_have_text("0")
    like = board.locator(".widget-button", has_text=re.compile(r"alice$"))
    expect(like).to_have_text("♡ 0 alice")
    like.click()
    expect(like).to_have_text("♥ 1 alice")
    expect(alices_row.locator("td").nth(likes_column)).to_have_text("1")
    bob.screenshot("rewards-03-bob-likes-alice")

    # peer-likes at one like: alice's rewards show it once she refreshes them
    mine = panel_of(alice.page, "Your rewards")
    alice.page.bring_to_front()
    refresh(mine)
    expect(mine).to_contain_text("peer-likes: 1 likes from others")
    expect(mine).to_contain_text("Balance: 38 points")
    alice.screenshot("rewards-04-alice-peer-likes")

    # bob builds on alice's row (a new tab), fits every training point and submits
    board_tab = bob.page
    board_tab.bring_to_front()
    with bob.context.expect_page() as opened:
        alices_row.get_by_role("link", name="Build on this").click()
    bob.page = opened.value
    bob.page.set_default_timeout(UI_TIMEOUT)
    bob.idle()
    bob.replace_cell(MODEL_CELL, BOBS_MODEL)
    bob.run_all()
    expect(bob.submit_widget()).to_contain_text(f"Ready to submit {PHASE}.ipynb as bob.")
    submission, statuses = bob.press_submit()
    assert statuses[-1] == "scored", statuses
    shared["bob"] = submission
    for points, why in BOBS_EARNINGS:
        expect(bob.submit_widget()).to_contain_text(re.compile(rf"\+{points} {why}"))
    expect(bob.submit_widget().get_by_text("beat-baseline")).to_have_count(0)  # alice was first

    bob.page = board_tab
    board_tab.bring_to_front()
    refresh(board)
    expect(board.locator("table tbody tr", has_text="bob")).to_have_count(1)
    like_buttons = board.locator(".widget-button", has_text=re.compile(r"[♡♥] \d+ "))
    expect(like_buttons).to_have_text(["♥ 1 alice", f"♡ 0 {BASELINE_PERSON}"])  # none on his own row
    bob.screenshot("rewards-05-bob-no-like-on-his-row")


def test_the_contribution_graph_and_credit_table_credit_alice_and_bob_for_their_gains(
    curve_hub: CurveHub, bob: Person, shared: dict[str, Any]
) -> None:
    """Fetched from bob's page as anyone may: alice's copy of the baseline credits her for her
    gain over it, bob's build on hers credits him only for his increment."""
    phase = f"{curve_hub.hub.service_url}api/challenges/{curve_hub.challenge_id}/phases/{PHASE}"
    graph = fetch_json(bob.page, f"{phase}/graph")
    nodes = {node["submission"]: node for node in graph["nodes"]}
    alices, bobs = nodes[shared["alice"]], nodes[shared["bob"]]
    [base] = [node for node in graph["nodes"] if node["people"] == [BASELINE_PERSON]]
    assert (alices["people"], bobs["people"], alices["likes"], bobs["likes"]) == (["alice"], ["bob"], 1, 0)
    edges = {(edge["source"], edge["target"]): edge["kind"] for edge in graph["edges"]}
    # Easy start copied the baseline (found by its fingerprints); bob built on alice's version
    assert edges == {(base["id"], alices["id"]): "copy", (alices["id"], bobs["id"]): "copy"}, graph
    alice_gain, bob_gain = base["score"] - alices["score"], alices["score"] - bobs["score"]
    assert alice_gain > NOISE and bob_gain > NOISE, graph
    assert alices["credit"] == {"alice": pytest.approx(alice_gain)}, alices
    assert bobs["credit"] == {"bob": pytest.approx(bob_gain)}, bobs
    assert base["credit"] == {}, base  # the start of the line earns nothing

    credit = fetch_json(bob.page, f"{phase}/credit")
    rows = [(row["person"], row["credit"], row["versions"]) for row in credit["rows"]]
    assert rows == [
        ("alice", pytest.approx(alice_gain), 1),
        ("bob", pytest.approx(bob_gain), 1),
    ], credit
    assert credit["total"] == pytest.approx(base["score"] - bobs["score"]), credit


def test_olga_invalidates_alices_submission_then_settles_the_phase_once(
    curve_hub: CurveHub, alice: Person, bob: Person, olga: Person, shared: dict[str, Any]
) -> None:
    alices = shared["alice"]
    olga.log_in()
    olga.new_notebook("from coop_widgets import OrganiserPanel\n\nOrganiserPanel()")
    panel = olga.page.locator(".widget-vbox").filter(has=olga.page.get_by_role("tab", name="Invalidate")).last
    expect(panel).to_contain_text(f"Organiser panel · {curve_hub.challenge_id}")

    olga.page.get_by_role("tab", name="Invalidate").click()
    panel.locator(".widget-text:visible input").fill(str(alices))
    panel.locator("textarea:visible").fill("reads the answer key")
    olga.page.locator(".widget-button:visible", has_text="Preview").click()
    expect(panel).to_contain_text(f"Submission {alices} of alice ({PHASE}, scored")
    expect(panel).to_contain_text("Confirm to make this change.")
    olga.screenshot("rewards-06-olga-invalidate-preview")
    olga.page.locator(".widget-button:visible", has_text="Confirm").click()
    expect(panel).to_contain_text(f"Invalidated submission {alices} of alice; 4 reward(s) taken back")
    olga.screenshot("rewards-07-olga-invalidated")

    # alice's row leaves bob's board; alice's rewards are taken back, each shown as such
    bob.page.bring_to_front()
    board = panel_of(bob.page, "Curve, phase phase-1")
    refresh(board)
    expect(board.locator("table tbody tr", has_text="alice")).to_have_count(0)
    expect(board.locator("table tbody tr", has_text="bob")).to_have_count(1)
    alice.page.bring_to_front()
    mine = panel_of(alice.page, "Your rewards")
    refresh(mine)
    taken = mine.locator("table tbody tr", has_text="taken back (invalidated)")
    expect(taken).to_have_count(4)
    for amount in ("-10 points", "-20 points", "-5 points", "-3 points"):
        expect(taken.filter(has_text=amount)).to_have_count(1)
    expect(mine).to_contain_text("Balance: 0 points")
    alice.screenshot("rewards-08-alice-rewards-taken-back")
    phase = f"{curve_hub.hub.service_url}api/challenges/{curve_hub.challenge_id}/phases/{PHASE}"
    graph = fetch_json(alice.page, f"{phase}/graph")
    nodes = {node["submission"]: node for node in graph["nodes"]}
    [base] = [node for node in graph["nodes"] if node["people"] == [BASELINE_PERSON]]
    assert "invalidated" in nodes[alices]["flags"] and nodes[alices]["credit"] == {}, nodes[alices]
    credit = fetch_json(alice.page, f"{phase}/credit")
    gain = base["score"] - nodes[shared["bob"]]["score"]  # bob's version now builds on the baseline's
    rows = [(row["person"], row["credit"]) for row in credit["rows"]]
    assert rows == [("bob", pytest.approx(gain))], credit

    # settle the open phase: preview, confirm; a second time is refused, naming the first
    olga.page.bring_to_front()
    olga.page.get_by_role("tab", name="Settle").click()
    preview = olga.page.locator(".widget-button:visible", has_text=exactly("Preview"))
    confirm = olga.page.locator(".widget-button:visible", has_text=exactly("Confirm"))
    preview.click()
    expect(panel).to_contain_text(f"Phase {PHASE} will be settled once, on private scores")
    olga.screenshot("rewards-09-olga-settle-preview")
    confirm.click()  # bob ranks first on private scores now
    expect(panel).to_contain_text(f"Settled {PHASE} (settlement 1): 1 grant(s) to 1 person(s), 100 points.")
    expect(confirm).to_have_count(0)
    preview.click()
    confirm.click()
    expect(panel).to_contain_text(
        f"phase '{PHASE}' of '{curve_hub.challenge_id}' was settled already (settlement 1"
    )
    olga.screenshot("rewards-10-olga-settled-once")

    # bob's rewards: his own, the first place past the baseline alice no longer holds, his prize
    bob.page.bring_to_front()
    bob.add_cell_below(0, "from coop_widgets import MyRewards\n\nMyRewards()")
    bobs = panel_of(bob.page, "Your rewards")
    rows = bobs.locator("table tbody tr")
    expect(rows).to_have_count(4)
    for points, why in [*BOBS_EARNINGS, ALICES_EARNINGS[1]]:
        expect(rows.filter(has_text=re.compile(why)).locator("td").nth(2)).to_have_text(f"+{points} points")
    prize = rows.filter(has_text="rank-prize: settled on private scores, shown once they are")
    expect(prize.locator("td").nth(2)).to_have_text("+100 points")
    expect(bobs).to_contain_text("Balance: 135 points")
    bob.screenshot("rewards-11-bob-rewards-after-settlement")
