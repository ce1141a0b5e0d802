"""The organiser in a browser: from her home folder, olga opens ``OrganiserPanel()`` without
arguments, publishes a second challenge from a folder, picks the first one, and ends its phase
(preview, confirm); alice's private leaderboard, refused until then, appears.

One hub for the module (see ``conftest.py``). alice's scored submission is pushed over the
served git URL with her kernels' token, as a terminal push would be. Screenshots are in
``test-artifacts/e2e/organiser-*.png``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from scorer.challenge.scaffold import scaffold
from tests.e2e.conftest import PHASE, CurveHub, Person, exactly, scored, wait_until

pytestmark = pytest.mark.needs("chromium", "bwrap")

HIDDEN = f"private scores of phase '{PHASE}' become visible when the phase ends"


def private_board(curve: CurveHub) -> httpx.Response:
    """The phase's board with private scores, as anyone without a token asks for it."""
    path = f"api/challenges/{curve.challenge_id}/phases/{PHASE}/leaderboards/main"
    return httpx.get(curve.hub.service_url + path, params={"split": "private"}, timeout=60)


def push_a_solution(curve: CurveHub, user: str, work: Path) -> None:
    """Clone the served repository over HTTP with the user's kernel token, commit the phase's
    baseline as their solution, push it to their branch: push-to-score queues it."""
    token = curve.hub.server_environment(user)["JUPYTERHUB_API_TOKEN"]
    url = f"{curve.hub.service_url}git/{curve.challenge_id}.git".replace("://", f"://{user}:{token}@", 1)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    ident = ["-c", f"user.name={user}", "-c", f"user.email={user}@users.coopetition.local"]

    def git(*args: str) -> None:
        subprocess.run(
            ["git", *ident, *args], cwd=work, env=env, check=True, capture_output=True, timeout=120
        )

    git("clone", "-q", url, "clone")
    work = work / "clone"
    target = work / "solutions" / user / f"{PHASE}.ipynb"
    target.parent.mkdir(parents=True)
    shutil.copy(work / "baselines" / f"{PHASE}.ipynb", target)
    git("add", "--all")
    git("commit", "-q", "-m", f"{user}: the baseline")
    git("push", "-q", "origin", f"HEAD:refs/heads/{user}/work")


def test_olga_publishes_picks_the_challenge_and_ends_its_phase_and_the_private_board_appears(
    curve_hub: CurveHub, alice: Person, olga: Person, tmp_path: Path
) -> None:
    alice.log_in()
    push_a_solution(curve_hub, "alice", tmp_path)
    wait_until(lambda: scored(curve_hub, "alice"), "alice's pushed solution to be scored")
    board = f'Leaderboard(challenge="{curve_hub.challenge_id}", split="private")'
    alice.new_notebook(f"from coop_widgets import Leaderboard\n\n{board}")
    expect(alice.page.get_by_text(HIDDEN)).to_be_visible()
    assert private_board(curve_hub).status_code == 403
    alice.screenshot("organiser-01-alice-private-board-hidden")

    olga.log_in()
    folder = scaffold("Second curve", olga.home / "second-curve")  # the challenge she wrote
    olga.new_notebook("from coop_widgets import OrganiserPanel\n\nOrganiserPanel()")
    panel = olga.page.locator(".widget-vbox").filter(has=olga.page.get_by_role("tab", name="Publish")).last
    expect(panel).to_contain_text(f"Organiser panel · {curve_hub.challenge_id} · refs/heads/main")

    # publish the folder as a second challenge: preview, confirm
    olga.page.get_by_role("tab", name="Publish").click()
    panel.locator(".widget-text:visible input").fill(str(folder))
    olga.page.locator(".widget-button:visible", has_text="Preview").click()
    expect(panel).to_contain_text("second-curve (Second curve) will be published here")
    olga.screenshot("organiser-02-olga-publish-preview")
    olga.page.locator(".widget-button:visible", has_text="Confirm").click()
    expect(panel.get_by_text(re.compile(r"^Published second-curve, commit [0-9a-f]{10}"))).to_be_visible()

    # the picker holds both; she picks the first challenge again
    picker = panel.locator(".widget-dropdown", has_text="Challenge").locator("select")
    expect(picker.locator("option")).to_have_text(["Curve (curve)", "Second curve (second-curve)"])
    picker.select_option(label="Curve (curve)")
    expect(panel).to_contain_text(f"Organiser panel · {curve_hub.challenge_id} · refs/heads/main")

    # end the open phase now: preview, confirm
    olga.page.get_by_role("tab", name="Schedule a phase").click()
    expect(panel).to_contain_text("ends never (open-ended)")
    olga.page.locator(".widget-button:visible", has_text=exactly("End it now")).click()
    olga.page.locator(".widget-button:visible", has_text="Preview").click()
    expect(olga.page.locator("pre:visible", has_text="challenge.yaml")).to_contain_text("+  end: ")
    expect(olga.page.get_by_text("Confirm to make this change.")).to_be_visible()
    olga.screenshot("organiser-03-olga-end-phase-preview")
    olga.page.locator(".widget-button:visible", has_text="Confirm").click()
    expect(panel).to_contain_text("Done: edit-phase-dates")
    expect(panel).to_contain_text(f"The private scores of {PHASE} are visible to everyone.")
    olga.screenshot("organiser-04-olga-phase-ended")

    # alice's private board appears once she refreshes it
    alice.page.bring_to_front()
    alice.page.locator(".widget-button:visible [class*='fa-refresh']").last.click()
    expect(alice.page.get_by_text("(private scores)")).to_be_visible()
    expect(alice.page.locator("table:visible tbody tr").first).to_contain_text("alice")
    alice.screenshot("organiser-05-alice-private-board")
    shown = private_board(curve_hub)
    assert shown.status_code == 200, shown.text
    assert [row["person"] for row in shown.json()["rows"]] == ["alice"]
