"""The product in a browser, as its people meet it: two participants, an organiser, a visitor.

One hub for the module (see ``conftest.py``); the scenarios run in this order and build on
each other: alice's last scored commit is the one bob builds on. Screenshots of every step are
in ``test-artifacts/e2e/``.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from scorer.ledger import queries
from tests.e2e.conftest import ARTIFACTS, PHASE, CurveHub, Person, service, wait_until

pytestmark = pytest.mark.needs("chromium", "bwrap")

LIFECYCLE = ["saving", "committing", "pushing", "queued", "running", "scored"]
ALICES_EDIT = "\n# alice: degree 3 is enough, 5 overfits"
BOBS_MODEL = (
    "# bob: alice's fit, one degree lower\n"
    "coefficients = np.polyfit(train.x, train.y, degree - 1)\n"
    'test["y"] = np.polyval(coefficients, test.x)'
)
NEW_REWARDER = {"type": "score-threshold", "amount": 25, "threshold": 0.15, "params": {"metric": "rmse"}}
NEW_REWARDER_YAML = "type: score-threshold\namount: 25\nthreshold: 0.15\nparams:\n  metric: rmse\n"


def ledger_transitions(curve: CurveHub, submission: int) -> list[tuple[str | None, str]]:
    api = curve.challenge.api()
    try:
        with api.sessions() as session:
            return [(e.status_from, e.status_to) for e in queries.events(session, submission)]
    finally:
        api.close()


def check_scored(curve: CurveHub, submission: int, user: str, statuses: list[str]) -> dict:
    """The widget showed the submission's way to its score, and the service agrees; its record."""
    assert set(statuses) <= set(LIFECYCLE), f"the widget said something else: {statuses}"
    assert statuses[:3] == ["saving", "committing", "pushing"] and statuses[-1] == "scored", statuses
    assert set(statuses[3:-1]) & {"queued", "running"}, f"the widget never showed it waiting: {statuses}"
    assert statuses == sorted(statuses, key=LIFECYCLE.index), statuses  # no step back, nothing else
    found = service(curve, f"api/submissions/{submission}").json()
    assert (found["person"], found["status"], found["notebook"]) == (
        user,
        "scored",
        f"solutions/{user}/{PHASE}.ipynb",
    )
    assert found["public"]["rmse"] > 0 and found["public"]["mae"] > 0
    assert ledger_transitions(curve, submission) == [
        (None, "queued"),
        ("queued", "running"),
        ("running", "scored"),
    ]
    return found


def committed_notebook(curve: CurveHub, commit: str, user: str) -> str:
    return curve.git_served("show", f"{commit}:solutions/{user}/{PHASE}.ipynb").stdout


def test_alice_logs_in_runs_the_baseline_and_sees_her_score(curve_hub: CurveHub, alice: Person) -> None:
    alice.log_in()
    alice.screenshot("01-alice-jupyterlab")
    notebook = alice.easy_start()
    assert alice.page.url.endswith(f"/user/alice/lab/tree/challenges/curve/solutions/alice/{PHASE}.ipynb")
    expect(notebook).to_contain_text("Submit()")  # the baseline's last cell holds the widget
    assert alice.inputs == curve_hub.inputs and alice.inputs  # Easy start put them beside it
    alice.run_all()
    widget = alice.submit_widget()
    expect(widget).to_contain_text(f"Ready to submit {PHASE}.ipynb as alice.")
    alice.screenshot("02-alice-baseline-ran")

    submission, statuses = alice.press_submit()
    alice.screenshot("03-alice-scored")
    found = check_scored(curve_hub, submission, "alice", statuses)
    expect(widget).to_contain_text(f"{found['public']['rmse']:.4f}")
    expect(widget).to_contain_text("new on the leaderboard at rank 1")
    assert found["commit"] == curve_hub.git_served("rev-parse", "alice/work").stdout.strip()
    assert "Submit()" in committed_notebook(curve_hub, found["commit"], "alice")  # committed as is…
    executed = service(curve_hub, f"api/submissions/{submission}/notebook").json()
    assert not any("coop_widgets" in "".join(cell["source"]) for cell in executed["cells"])  # …not run


def test_submit_saves_an_unsaved_edit_and_commits_it(curve_hub: CurveHub, alice: Person) -> None:
    alice.turn_off_autosave()
    alice.append_to_cell(3, ALICES_EDIT)
    expect(alice.dirty_tab(f"{PHASE}.ipynb")).to_be_visible()
    assert ALICES_EDIT.strip() not in alice.notebook.read_text()  # only the browser has it
    alice.screenshot("04-alice-unsaved-edit")

    submission, statuses = alice.press_submit()
    alice.screenshot("05-alice-edit-scored")
    found = check_scored(curve_hub, submission, "alice", statuses)
    assert ALICES_EDIT.strip() in alice.notebook.read_text()  # the widget had JupyterLab save it
    assert ALICES_EDIT.strip() in committed_notebook(curve_hub, found["commit"], "alice")
    assert found["commit"] == curve_hub.git_served("rev-parse", "alice/work").stdout.strip()


def test_bob_builds_on_alices_commit_and_is_scored(curve_hub: CurveHub, bob: Person) -> None:
    alices = curve_hub.git_served("rev-parse", "alice/work").stdout.strip()
    bob.log_in()
    wait_until(lambda: (bob.clone / ".git").is_dir(), "bob's clone of the challenge (attached at spawn)")
    bob.open_terminal()
    bob.type_in_terminal(
        f"cd ~/challenges/{curve_hub.challenge_id} && git fetch origin && git merge --ff-only "
        f"origin/alice/work && mkdir -p solutions/bob && cp solutions/alice/{PHASE}.ipynb solutions/bob/"
    )
    wait_until(bob.notebook.is_file, "bob's copy of alice's notebook, made in his terminal")
    bob.screenshot("06-bob-terminal")

    notebook = bob.easy_start()  # his notebook exists: Easy start opens it, never overwrites it
    assert bob.inputs == curve_hub.inputs  # and gives him the phase's inputs beside it
    expect(notebook).to_contain_text(ALICES_EDIT.strip())
    bob.replace_cell(3, BOBS_MODEL)
    bob.run_all()
    expect(bob.submit_widget()).to_contain_text(f"Ready to submit {PHASE}.ipynb as bob.")
    submission, statuses = bob.press_submit()
    bob.screenshot("07-bob-scored")
    found = check_scored(curve_hub, submission, "bob", statuses)
    assert curve_hub.git_served("rev-parse", f"{found['commit']}^@").stdout.split() == [alices]
    assert "# bob: alice's fit" in committed_notebook(curve_hub, found["commit"], "bob")
    assert found["commit"] == curve_hub.git_served("rev-parse", "bob/work").stdout.strip()


def test_the_organiser_edits_a_rewarder_from_the_panel(curve_hub: CurveHub, olga: Person) -> None:
    olga.log_in()
    olga.page.locator(".jp-Launcher-section", has_text="Notebook").locator(".jp-LauncherCard").first.click()
    olga.idle()
    olga.replace_cell(0, "from coop_widgets import OrganiserPanel\n\nOrganiserPanel()")
    olga.page.keyboard.press("Shift+Enter")
    olga.page.get_by_role("tab", name="Edit a rewarder").click()
    rewarder = olga.page.locator(".widget-textarea textarea:visible")
    expect(rewarder).to_have_value(re.compile(r"^type: score-threshold\namount: 10(\.0)?\nthreshold: 0\.2\n"))
    rewarder.fill(NEW_REWARDER_YAML)
    olga.page.locator(".widget-button:visible", has_text="Preview").click()
    expect(olga.page.get_by_text("Confirm to make this change.")).to_be_visible()
    expect(olga.page.locator("pre:visible", has_text="challenge.yaml")).to_contain_text("amount: 25")
    olga.screenshot("08-olga-rewarder-preview")
    olga.page.locator(".widget-button:visible", has_text="Confirm").click()
    done = olga.page.get_by_text(re.compile(r"^Done: edit-rewarder, commit [0-9a-f]{10} \(audit #(\d+)\)\.$"))
    expect(done).to_be_visible()
    olga.page.get_by_role("tab", name="Audit trail").click()
    # the edit, then (newer) the rewards it took back and granted again under the new rule
    edit = olga.page.locator("table:visible tbody tr", has_text="edit-rewarder").first
    expect(edit).to_contain_text("olga")
    olga.screenshot("09-olga-audit-trail")

    token = curve_hub.hub.server_environment("olga")["JUPYTERHUB_API_TOKEN"]  # her kernels' token
    challenge = f"api/challenges/{curve_hub.challenge_id}"
    spec = service(curve_hub, f"{challenge}/organise", token).json()["spec"]
    assert {k: spec["phases"][0]["rewarders"][0][k] for k in NEW_REWARDER} == NEW_REWARDER
    trail = service(curve_hub, f"{challenge}/audit", token).json()
    event = next(e for e in trail if e["action"] == "edit-rewarder")
    assert event["actor"] == "olga"
    regrant = trail[0]  # alice's score-threshold grant, taken back and made again at 25 points
    assert (regrant["action"], regrant["detail"]["compensated"], regrant["detail"]["granted"]) == (
        "rewarder-regranted",
        1,
        1,
    )
    assert event["detail"]["after"]["rewarder"] == NEW_REWARDER
    assert f"(audit #{event['id']})" in done.inner_text()
    assert event["detail"]["commit"] == curve_hub.git_served("rev-parse", "main").stdout.strip()
    api = curve_hub.challenge.api()  # the ledger's copy of the spec, which scoring reads
    try:
        [rewarder_now] = api.challenge(curve_hub.challenge_id).phase(PHASE).rewarders
    finally:
        api.close()
    assert rewarder_now.model_dump() == NEW_REWARDER


def test_an_anonymous_visitor_cannot_push_and_reads_the_dashboards(
    curve_hub: CurveHub, browser: Browser, tmp_path: Path
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,  # no credential helper of anyone's
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
    }

    def git(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)

    url = f"{curve_hub.hub.service_url}git/{curve_hub.challenge_id}.git"
    assert git("clone", "-q", url, "visit").returncode == 0  # open code: anyone may fetch
    work = tmp_path / "visit"
    (work / "solutions" / "alice").mkdir(parents=True, exist_ok=True)
    (work / "solutions" / "alice" / "notes.md").write_text("not alice\n")
    git("add", "--all", cwd=work)
    committed = git("-c", "user.name=v", "-c", "user.email=v@example.org", "commit", "-qm", "x", cwd=work)
    assert committed.returncode == 0, committed.stderr
    refs = curve_hub.git_served("for-each-ref").stdout

    anonymous = git("push", "origin", "HEAD:refs/heads/alice/work", cwd=work)
    assert anonymous.returncode != 0
    assert "could not read Username" in anonymous.stderr and "terminal prompts disabled" in anonymous.stderr
    guessed = url.replace("http://", "http://alice:not-her-token@")
    wrong = git("push", guessed, "HEAD:refs/heads/alice/work", cwd=work)
    assert wrong.returncode != 0 and "Authentication failed" in wrong.stderr, wrong.stderr
    assert curve_hub.git_served("for-each-ref").stdout == refs  # nothing changed

    context = browser.new_context(viewport={"width": 1400, "height": 900})  # never logged in
    try:
        page = context.new_page()
        page.goto(f"{curve_hub.hub.url}/services/dashboards/voila/render/index.ipynb")
        card = page.locator(".coop-card")
        expect(card).to_contain_text("Curve", timeout=120_000)
        expect(card.locator("table")).to_contain_text("A smooth curve")  # the current phase's board
        assert "/hub/login" not in page.url
        page.screenshot(path=ARTIFACTS / "10-visitor-dashboards.png")
    finally:
        context.close()
