"""The organiser panel in a real kernel: every change previewed, confirmed, committed, audited."""

from __future__ import annotations

import subprocess

import yaml

from coop_client.client import CoopClient
from coop_client.models import RewarderIn
from scorer.challenge.scaffold import scaffold
from tests.widgets.conftest import Served, make_participant

#: A rewarder the scaffolded challenge accepts, as an organiser types it.
VALID = "type: score-threshold\namount: 20\nthreshold: 0.2\nparams: {metric: rmse}\n"


def main_of(served: Served) -> str:
    repo = served.fixture.settings.home_path / "git" / f"{served.challenge_id}.git"
    done = subprocess.run(
        ["git", "--git-dir", str(repo), "rev-parse", "refs/heads/main"], capture_output=True, text=True
    )
    return done.stdout.strip()


def test_an_organiser_opens_a_phase_edits_a_rewarder_and_rescores_from_the_panel(
    served_phases: Served, kernel_for
) -> None:
    served = served_phases
    [failed] = served.fixture.score(
        served.fixture.commit("alice", {"solutions/alice/x.ipynb": "not a notebook"})
    )
    kernel = kernel_for(make_participant(served, "olga"))
    kernel.execute("from coop_widgets import OrganiserPanel\npanel = OrganiserPanel()\nawait panel.refresh()")
    assert kernel.value("panel.tabs.layout.display") is None
    before = main_of(served)

    # open the next phase: the preview shows the diff and changes nothing
    kernel.execute("panel.close_current.value = True\nawait panel.opening.preview()")
    preview = kernel.value("panel.opening.shown.value")
    assert "phase: phase-2" in preview and "+- id: phase-2" not in preview and "start:" in preview
    assert kernel.value("panel.opening.confirm_button.layout.display") is None
    assert main_of(served) == before
    kernel.execute("await panel.opening.confirm()")
    assert "Done: open-phase" in kernel.value("panel.opening.shown.value")
    with CoopClient(served.service.url) as anyone:
        assert anyone.challenge(served.challenge_id).current_phase == "phase-2"
    assert main_of(served) != before
    assert "open-phase" in kernel.value("panel.audit.value")

    # an invalid rewarder is refused with the spec's own words; nothing changes
    kernel.execute("panel.rewarder_phase.value = 'phase-1'")
    assert "score-threshold" in kernel.value("panel.rewarder_text.value")
    kernel.execute(
        "panel.rewarder_text.value = 'type: score-threshold\\namount: -3\\n'\nawait panel.rewarding.preview()"
    )
    assert "phases[0].rewarders[0].amount" in kernel.value("panel.rewarding.shown.value")
    assert kernel.value("panel.rewarding.confirm_button.layout.display") == "none"

    # a valid edit, previewed, then overtaken by another organiser's change: refused, not applied
    kernel.execute(f"panel.rewarder_text.value = {VALID!r}\nawait panel.rewarding.preview()")
    assert "+" in kernel.value("panel.rewarding.shown.value")
    with CoopClient(served.service.url, token="olga-token") as olga:
        olga.edit_rewarder(
            served.challenge_id,
            RewarderIn(phase="phase-1", index=0, rewarder={**yaml.safe_load(VALID), "amount": 15}),
        )
    kernel.execute("await panel.rewarding.confirm()")
    assert "press Preview again" in kernel.value("panel.rewarding.shown.value")
    kernel.execute(
        f"await panel.refresh()\npanel.rewarder_text.value = {VALID!r}\n"
        "await panel.rewarding.preview()\nawait panel.rewarding.confirm()"
    )
    assert "Done: edit-rewarder" in kernel.value("panel.rewarding.shown.value")
    assert served.api.challenge(served.challenge_id).phases[0].rewarders[0].amount == 20

    # rescore phase 1: its one finished (failed) submission is queued again
    kernel.execute("panel.rescore_phase.value = 'phase-1'\nawait panel.rescoring.preview()")
    assert "1 failed" in kernel.value("panel.rescoring.shown.value")
    kernel.execute("await panel.rescoring.confirm()")
    assert "Queued 1 submission(s) again" in kernel.value("panel.rescoring.shown.value")
    actions = kernel.value("[e.action for e in panel.events]")
    assert actions == ["rescore", "edit-rewarder", "edit-rewarder", "open-phase"]
    assert kernel.value("[e.actor for e in panel.events]") == ["olga"] * 4
    assert failed.view.status == "failed"


def test_a_participant_sees_no_organiser_controls(served_phases: Served, kernel_for) -> None:
    kernel = kernel_for(make_participant(served_phases, "alice"))
    kernel.execute("from coop_widgets import OrganiserPanel\npanel = OrganiserPanel()\nawait panel.refresh()")
    assert kernel.value("panel.tabs.layout.display") == "none"
    assert "needs the scope custom:coop:organise" in kernel.value("panel.body.value")


def test_from_the_home_folder_an_organiser_publishes_picks_a_challenge_ends_a_phase_and_sets_limits(
    served_phases: Served, kernel_for
) -> None:
    served = served_phases
    olga = make_participant(served, "olga", "lab", easy_start=False)
    olga.clone = olga.home / "notes"  # her notebook is outside any clone of a challenge
    olga.notebook.parent.mkdir(parents=True)
    folder = scaffold("Second curve", olga.home / "second")
    kernel = kernel_for(olga)
    kernel.execute("from coop_widgets import OrganiserPanel\npanel = OrganiserPanel()\nawait panel.refresh()")
    assert kernel.value("panel.picker.value") == served.challenge_id
    assert kernel.value("panel.tabs.layout.display") is None

    # publish the organiser's folder: previewed (nothing published), then confirmed
    kernel.execute(f"panel.folder.value = {str(folder)!r}\nawait panel.publishing.preview()")
    preview = kernel.value("panel.publishing.shown.value")
    assert "second-curve" in preview and "phase-1" in preview and "challenge.yaml" in preview
    with CoopClient(served.service.url) as anyone:
        assert [c.id for c in anyone.challenges()] == [served.challenge_id]
    kernel.execute("await panel.publishing.confirm()")
    assert "Published second-curve" in kernel.value("panel.publishing.shown.value")
    assert kernel.value("[v for _l, v in panel.picker.options]") == [served.challenge_id, "second-curve"]

    # a new panel in the home folder: two challenges, the picker chooses
    kernel.execute("panel = OrganiserPanel()\nawait panel.refresh()")
    assert kernel.value("panel.state.challenge") == served.challenge_id
    kernel.execute("panel.picker.value = 'second-curve'\nawait panel.refresh()")
    assert kernel.value("panel.state.challenge") == "second-curve"
    kernel.execute(f"panel.picker.value = {served.challenge_id!r}\nawait panel.refresh()")

    # end the open phase now: its private scores show to everyone
    kernel.execute(
        "panel.dates_phase.value = 'phase-2'\npanel.end_text.value = 'now'\nawait panel.scheduling.preview()"
    )
    shown = kernel.value("panel.scheduling.shown.value")
    assert "+  end: " in shown and "Confirm to make this change." in shown
    with CoopClient(served.service.url) as anyone:
        assert anyone.challenge(served.challenge_id).current_phase == "phase-2"
    kernel.execute("await panel.scheduling.confirm()")
    done = kernel.value("panel.scheduling.shown.value")
    assert "Done: edit-phase-dates" in done and "private scores of phase-2 are visible to everyone" in done
    with CoopClient(served.service.url) as anyone:
        assert anyone.challenge(served.challenge_id).current_phase is None
        anyone.leaderboard(served.challenge_id, "phase-2", "main", split="private")  # no longer refused

    # the submission limits, as written in challenge.yaml, edited and committed
    kernel.execute("panel.limits_phase.value = 'phase-1'")
    written = kernel.value("panel.submissions_text.value")
    assert written == "min_interval: 3600\n", written
    kernel.execute(
        "panel.submissions_text.value = 'min_interval: 3600\\nper_day: 4\\n'\n"
        "await panel.limiting.preview()\nawait panel.limiting.confirm()"
    )
    assert "Done: edit-phase-limits" in kernel.value("panel.limiting.shown.value")
    assert served.api.challenge(served.challenge_id).phases[0].submissions.per_day == 4
    assert kernel.value("[e.action for e in panel.events][:2]") == ["edit-phase-limits", "edit-phase-dates"]
