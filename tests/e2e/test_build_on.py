"""Building on someone else's work in a browser: "Build on this" on alice's leaderboard row and on
her notebook's page, then bob's diff compared with alice's commit, without a re-run's noise.

One hub for the module (``conftest.py``); the tests run in order and build on each other.
"""

from __future__ import annotations

import json
import re
import subprocess

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHASE, UI_TIMEOUT, CurveHub, Person, service, wait_until

pytestmark = pytest.mark.needs("chromium", "bwrap")

ALICES_NB = f"solutions/alice/{PHASE}.ipynb"
BOBS_LINE = "coefficients = np.polyfit(train.x, train.y, degree - 1)  # bob: one degree lower"
BOBS_MODEL = f'{BOBS_LINE}\ntest["y"] = np.polyval(coefficients, test.x)'


def clone_git(someone: Person, *args: str) -> subprocess.CompletedProcess[str]:
    """git in someone's clone, as their server left it (read-only uses)."""
    return subprocess.run(["git", *args], cwd=someone.clone, capture_output=True, text=True, check=False)


def service_as(curve: CurveHub, someone: Person, path: str) -> httpx.Response:
    """GET a route of the scorer's API with the token someone's kernels have."""
    return service(curve, path, curve.hub.server_environment(someone.name)["JUPYTERHUB_API_TOKEN"])


def scored_submission(someone: Person) -> int:
    """Press Submit in the open notebook and wait for its score; the submission's number."""
    submission, statuses = someone.press_submit()
    assert statuses[-1] == "scored", statuses
    return submission


@pytest.fixture(scope="module")
def alices() -> dict[str, object]:
    """alice's scored submission and its commit, once the first test has made them."""
    return {}


def test_alice_submits_the_baseline(curve_hub: CurveHub, alice: Person, alices: dict[str, object]) -> None:
    alice.log_in()
    alice.easy_start()
    alice.run_all()
    alices["submission"] = scored_submission(alice)
    alices["commit"] = curve_hub.git_served("rev-parse", "alice/work").stdout.strip()


def test_bob_builds_on_alices_leaderboard_row_and_his_diff_shows_only_his_change(
    curve_hub: CurveHub, alices: dict[str, object], bob: Person
) -> None:
    alice_submission, alice_commit = alices["submission"], str(alices["commit"])
    bob.log_in()
    wait_until(lambda: (bob.clone / ".git").is_dir(), "bob's clone of the challenge (attached at spawn)")
    bob.page.locator(".jp-Launcher-section", has_text="Notebook").locator(".jp-LauncherCard").first.click()
    bob.idle()
    bob.replace_cell(0, "from coop_widgets import Leaderboard\n\nLeaderboard()")
    bob.page.keyboard.press("Shift+Enter")
    row = bob.page.locator(".widget-html-content table tbody tr", has_text="alice")
    build = row.get_by_role("link", name="Build on this")
    expect(build).to_have_attribute(
        "href", f"/hub/user-redirect/coop/build-on/{curve_hub.challenge_id}/{alice_submission}"
    )
    bob.screenshot("build-on-01-bob-leaderboard")
    with bob.context.expect_page() as opened:
        build.click()
    bob.page = opened.value  # a new tab: the notebook with the leaderboard stays open
    bob.page.set_default_timeout(UI_TIMEOUT)
    bob.idle()  # his copy opened in JupyterLab, in his own folder
    # JupyterLab gives the second tab a workspace of its own: /lab/workspaces/auto-…/tree/…
    assert re.search(
        f"/user/bob/lab/(workspaces/[^/]+/)?tree/challenges/curve/solutions/bob/{PHASE}.ipynb$", bob.page.url
    )
    copy = json.loads(bob.notebook.read_text())
    assert copy["metadata"]["coop"]["lineage"] == {"path": ALICES_NB, "commit": alice_commit}
    assert clone_git(bob, "merge-base", "--is-ancestor", alice_commit, "HEAD").returncode == 0
    assert clone_git(bob, "rev-parse", "HEAD^2").stdout.strip() == alice_commit  # a merge
    bob.screenshot("build-on-02-bob-copy-opened")

    bob.replace_cell(3, BOBS_MODEL)
    bob.run_all()
    bob.run_all()  # run twice, as people do: every execution count now differs from alice's
    expect(bob.submit_widget()).to_contain_text(f"Ready to submit {PHASE}.ipynb as bob.")
    submission = scored_submission(bob)
    found = service_as(curve_hub, bob, f"api/submissions/{submission}").json()
    ancestry = ["merge-base", "--is-ancestor", alice_commit, found["commit"]]
    assert subprocess.run(["git", *ancestry], cwd=curve_hub.served, check=False).returncode == 0

    diff = service_as(curve_hub, bob, f"api/submissions/{submission}/diff").json()
    assert (diff["base"], diff["base_commit"], diff["base_notebook"]) == ("built-on", alice_commit, ALICES_NB)
    [cells] = diff["diff"]  # nothing outside the cells: no metadata, no lineage
    [cell] = cells["diff"]  # bob's cell, and only its source: no execution count, no output
    assert (cell["key"], [entry["key"] for entry in cell["diff"]]) == (3, ["source"])

    bob.page.goto(f"{curve_hub.hub.service_url}api/submissions/{submission}/diff.html")
    header = bob.page.locator("header")
    expect(header).to_contain_text(f"built on {ALICES_NB} at {alice_commit[:12]}")
    changed = bob.page.locator("section.modified")
    expect(changed).to_have_count(1)
    expect(changed.locator("span.add")).to_contain_text([f"+ {BOBS_LINE}"])
    expect(bob.page.get_by_text("execution_count changed")).to_have_count(0)
    expect(bob.page.get_by_text("metadata changed")).to_have_count(0)  # the lineage is no change of his
    expect(bob.page.get_by_text("outputs added")).to_have_count(0)  # nor is the Submit widget shown again
    bob.screenshot("build-on-03-bob-diff")
    bob.page.get_by_role("link", name=re.compile("show every change")).click()
    expect(bob.page.get_by_text("execution_count changed").first).to_be_visible()
    expect(bob.page.get_by_text("metadata changed: coop")).to_be_visible()
    bob.screenshot("build-on-04-bob-full-diff")


def test_carol_builds_on_alices_notebook_page(
    curve_hub: CurveHub, alices: dict[str, object], carol: Person
) -> None:
    alice_submission, alice_commit = alices["submission"], alices["commit"]
    carol.log_in()
    wait_until(lambda: (carol.clone / ".git").is_dir(), "carol's clone of the challenge (attached at spawn)")
    carol.page.goto(f"{curve_hub.hub.service_url}api/submissions/{alice_submission}/notebook.html")
    link = carol.page.get_by_role("link", name="Build on this")
    expect(link).to_have_attribute(
        "href", f"/hub/user-redirect/coop/build-on/{curve_hub.challenge_id}/{alice_submission}"
    )
    carol.screenshot("build-on-05-alices-notebook-page")
    link.click()  # the page is sandboxed: plain navigation, in the same tab
    carol.idle()
    assert carol.page.url.endswith(f"/user/carol/lab/tree/challenges/curve/solutions/carol/{PHASE}.ipynb")
    expect(carol.notebook_panel()).to_contain_text("Submit()")
    copy = json.loads(carol.notebook.read_text())
    assert copy["metadata"]["coop"]["lineage"] == {"path": ALICES_NB, "commit": alice_commit}
    assert clone_git(carol, "rev-parse", "HEAD^2").stdout.strip() == alice_commit
    assert carol.inputs == curve_hub.inputs  # the phase's inputs beside her copy, as Easy start does
    carol.screenshot("build-on-06-carol-copy-opened")
