"""Organisers' routes: open a phase, edit a rewarder, rescore, the audit trail.

Each change is a commit on the organiser ref of the served repository that touches only
challenge.yaml, checked before the ref moves (an invalid change leaves everything as it was),
detected when the ref moved meanwhile, and recorded in the audit trail with before and after.
"""

from __future__ import annotations

import difflib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from coop_client.client import CoopClient, CoopClientError, folder_archive
from coop_client.models import OpenPhaseIn, PhaseDatesIn, PhaseLimitsIn, PublishIn, RewarderIn
from scorer.challenge.phase_data import phase_root
from scorer.challenge.scaffold import scaffold
from scorer.exceptions import ConcurrentChange
from scorer.facade import CoopAPI
from scorer.ingest.served import serve_repository
from scorer.organise import actions as organise
from scorer.organise.spec_edit import set_in_yaml
from scorer.service.app import create_app
from tests.conftest import ChallengeFixture, make_challenge
from tests.service.conftest import PREFIX, TOKENS, running

#: A rewarder the scaffolded challenge accepts.
VALID_REWARDER = {"type": "score-threshold", "amount": 10, "threshold": 0.2, "params": {"metric": "rmse"}}
LATER = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Organising:
    fixture: ChallengeFixture
    api: CoopAPI
    repo: Path  # the served repository
    url: str  # the service, prefix included

    @property
    def cid(self) -> str:
        return self.fixture.challenge_id

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(self.repo), *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def main(self) -> str:
        return self.git("rev-parse", "refs/heads/main")

    def spec_text(self) -> str:
        return self.git("show", "refs/heads/main:challenge.yaml")

    def client(self, token: str | None = "org-token") -> CoopClient:
        return CoopClient(self.url, token=token)


@pytest.fixture
def organising(tmp_path: Path) -> Iterator[Organising]:
    spec = yaml.safe_load((scaffold("Curve", tmp_path / "template") / "challenge.yaml").read_text())
    second = {**spec["phases"][0], "id": "phase-2", "title": "The real curve", "start": LATER}
    second["rewarders"] = []
    edit = {"phases": [spec["phases"][0], second]}
    fixture = make_challenge(tmp_path, edit=edit)
    repo = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    api = fixture.api()
    api.register(str(repo.resolve()))
    try:
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            yield Organising(fixture, api, repo, url + PREFIX.rstrip("/"))
    finally:
        api.close()


def audit_count(org: Organising) -> int:
    with org.client() as olga:
        return len(olga.audit(org.cid))


def test_participants_and_anonymous_callers_cannot_organise(organising: Organising) -> None:
    before = organising.main()
    routes = [
        ("post", f"/api/challenges/{organising.cid}/organise/open-phase", {}),
        ("post", f"/api/challenges/{organising.cid}/organise/rescore", {"phase": "phase-1"}),
        ("get", f"/api/challenges/{organising.cid}/audit", None),
        ("get", f"/api/challenges/{organising.cid}/organise", None),
        (
            "post",
            f"/api/challenges/{organising.cid}/organise/phase-dates",
            {"phase": "phase-1", "end": "now"},
        ),
        ("post", f"/api/challenges/{organising.cid}/organise/phase-limits", {"phase": "phase-1"}),
        ("get", "/api/organise/challenges", None),
        ("post", "/api/organise/challenges", {"archive": ""}),
    ]
    for method, path, body in routes:
        anonymous = httpx.request(method, organising.url + path, json=body)
        assert anonymous.status_code == 401, anonymous.text
        alice = httpx.request(
            method, organising.url + path, json=body, headers={"Authorization": "token alice-token"}
        )
        assert alice.status_code == 403, alice.text
        assert "custom:coop:organise" in alice.json()["error"]
    assert organising.main() == before
    assert audit_count(organising) == 0


def test_a_dry_run_shows_the_change_and_makes_none(organising: Organising) -> None:
    before, text = organising.main(), organising.spec_text()
    with organising.client() as olga:
        preview = olga.open_phase(organising.cid, OpenPhaseIn(dry_run=True))
    assert (preview.applied, preview.commit, preview.base) == (False, None, before)
    assert preview.before["phase"] == preview.after["phase"] == "phase-2"
    assert f"-  start: '{LATER}'" in preview.diff, preview.diff
    assert f"+  start: {preview.after['start']}" in preview.diff
    assert (organising.main(), organising.spec_text()) == (before, text)
    assert audit_count(organising) == 0


def test_opening_the_next_phase_commits_challenge_yaml_and_is_audited(organising: Organising) -> None:
    base = organising.main()
    with organising.client() as olga:
        assert olga.challenge(organising.cid).current_phase == "phase-1"
        made = olga.open_phase(organising.cid, OpenPhaseIn(close_current=True, base=base))
        assert made.applied and made.base == base and made.commit == organising.main()
        assert olga.challenge(organising.cid).current_phase == "phase-2"  # registered again
        [event] = olga.audit(organising.cid)
    # one commit on top of the old one, by the organiser, changing challenge.yaml only
    assert organising.git("rev-parse", f"{made.commit}^") == base
    assert (
        organising.git("log", "-1", "--format=%an <%ae>", made.commit)
        == "olga <olga@users.coopetition.local>"
    )
    assert organising.git("diff-tree", "--no-commit-id", "--name-only", "-r", made.commit) == "challenge.yaml"
    spec = yaml.safe_load(organising.spec_text())
    opened_at = datetime.fromisoformat(made.after["start"])
    assert spec["phases"][1]["start"] == opened_at
    assert spec["phases"][0]["end"] == opened_at  # the current phase was closed at the same moment
    assert (event.actor, event.action, event.id) == ("olga", "open-phase", made.audit)
    assert event.detail["before"]["start"] == LATER and event.detail["after"] == made.after
    assert (event.detail["base"], event.detail["commit"]) == (base, made.commit)
    settings = organising.fixture.settings
    assert (phase_root(settings.data_root, organising.cid, "phase-2") / "meta.json").is_file()


def test_an_invalid_rewarder_is_refused_and_changes_nothing(organising: Organising) -> None:
    before, text = organising.main(), organising.spec_text()
    with organising.client() as olga:
        bad = RewarderIn(phase="phase-1", index=0, rewarder={"type": "score-threshold", "amount": -5})
        with pytest.raises(CoopClientError) as refused:
            olga.edit_rewarder(organising.cid, bad)
        assert refused.value.status == 422
        assert "phases[0].rewarders[0].amount" in refused.value.message
        unknown = RewarderIn(
            phase="phase-1", index=0, rewarder={"type": "score-threshold", "amount": 1, "x": 2}
        )
        with pytest.raises(CoopClientError) as refused:
            olga.edit_rewarder(organising.cid, unknown)
        assert refused.value.status == 422 and "unknown key" in refused.value.message
        with pytest.raises(CoopClientError) as missing:
            olga.edit_rewarder(organising.cid, RewarderIn(phase="phase-2", index=0, rewarder={}))
        assert missing.value.status == 400 and "no rewarder 0" in missing.value.message
        assert olga.organise(organising.cid).spec["phases"][0]["rewarders"][0]["amount"] == 10
    assert (organising.main(), organising.spec_text()) == (before, text)
    assert audit_count(organising) == 0


def test_a_rewarder_edit_is_committed_registered_and_audited(organising: Organising) -> None:
    new = {"type": "score-threshold", "amount": 25, "threshold": 0.15, "params": {"metric": "rmse"}}
    with organising.client() as olga:
        state = olga.organise(organising.cid)
        made = olga.edit_rewarder(
            organising.cid, RewarderIn(phase="phase-1", index=0, rewarder=new, base=state.base)
        )
        assert made.applied and made.after["rewarder"] == new
        assert made.before["rewarder"]["amount"] == 10
        assert olga.organise(organising.cid).spec["phases"][0]["rewarders"][0] == new
        [event] = olga.audit(organising.cid)
    assert event.action == "edit-rewarder" and event.detail["after"]["rewarder"] == new
    assert organising.api.challenge(organising.cid).phases[0].rewarders[0].amount == 25
    assert yaml.safe_load(organising.spec_text())["phases"][0]["rewarders"][0] == new


def test_a_change_reviewed_against_an_older_commit_is_refused(organising: Organising) -> None:
    with organising.client() as olga:
        stale = olga.organise(organising.cid).base
        olga.edit_rewarder(
            organising.cid,
            RewarderIn(phase="phase-1", index=0, rewarder={**VALID_REWARDER, "amount": 11}),
        )
        moved = organising.main()
        with pytest.raises(CoopClientError) as conflict:
            olga.open_phase(organising.cid, OpenPhaseIn(base=stale))
        assert conflict.value.status == 409 and "changed since you reviewed it" in conflict.value.message
        assert len(olga.audit(organising.cid)) == 1
    assert organising.main() == moved


def test_a_ref_moved_while_the_change_is_made_is_detected(organising: Organising) -> None:
    """Another organiser pushes between the read of the spec and the update of the ref."""
    work = organising.fixture.folder.parent / "race"
    served = f"{organising.url}/git/{organising.cid}.git".replace("http://", "http://olga:org-token@", 1)
    subprocess.run(["git", "clone", "-q", served, str(work)], check=True)
    ident = ["-c", "user.name=other", "-c", "user.email=other@example.org"]
    subprocess.run(["git", *ident, "commit", "-q", "--allow-empty", "-m", "meanwhile"], cwd=work, check=True)

    def plan(spec, data):
        subprocess.run(["git", "push", "-q", "origin", "HEAD:refs/heads/main"], cwd=work, check=True)
        return organise._open_plan(spec, None, False, datetime.now(UTC).replace(microsecond=0))

    with pytest.raises(ConcurrentChange):
        organise.change_spec(organising.api, organising.repo, organising.cid, "olga", plan)
    assert organising.git("log", "-1", "--format=%s", "refs/heads/main") == "meanwhile"
    assert audit_count(organising) == 0


def test_rescoring_a_phase_queues_its_finished_submissions(organising: Organising) -> None:
    fixture = organising.fixture
    [failed] = fixture.score(fixture.commit("alice", {"solutions/alice/broken.ipynb": "not a notebook"}))
    assert failed.view.status == "failed"
    with organising.client() as olga:
        done = olga.rescore(organising.cid, "phase-1")
        [event] = olga.audit(organising.cid)
        with pytest.raises(CoopClientError) as unknown:
            olga.rescore(organising.cid, "phase-9")
        assert unknown.value.status == 404
    [again] = done.queued
    view, _scores = organising.api.submission(again)
    assert (view.status, view.rescore_of, view.commit_sha) == (
        "queued",
        failed.view.id,
        failed.view.commit_sha,
    )
    assert (event.action, event.detail, event.id) == (
        "rescore",
        {"phase": "phase-1", "queued": [again]},
        done.audit,
    )


def test_what_cannot_be_opened_is_explained(organising: Organising) -> None:
    with organising.client() as olga:
        for phase, status, words in [
            ("phase-1", 400, "open already"),
            ("phase-9", 404, "no phase 'phase-9'"),
        ]:
            with pytest.raises(CoopClientError) as refused:
                olga.open_phase(organising.cid, OpenPhaseIn(phase=phase))
            assert (refused.value.status, words in refused.value.message) == (status, True), refused.value
        olga.open_phase(organising.cid, OpenPhaseIn())
        with pytest.raises(CoopClientError) as nothing:
            olga.open_phase(organising.cid, OpenPhaseIn())
        assert nothing.value.status == 400 and "no next phase" in nothing.value.message
    odd = httpx.post(
        f"{organising.url}/api/challenges/{organising.cid}/organise/open-phase",
        json={"phase": "phase-2", "surprise": 1},
        headers={"Authorization": "token org-token"},
    )
    assert odd.status_code == 422 and "surprise" in odd.json()["error"]


def private_board(org: Organising) -> httpx.Response:
    """phase-1's board with private scores, as anyone without a token asks for it."""
    path = f"/api/challenges/{org.cid}/phases/phase-1/leaderboards/main"
    return httpx.get(org.url + path, params={"split": "private"})


def test_ending_a_phase_shows_everyone_its_private_scores(organising: Organising) -> None:
    fixture = organising.fixture
    [scored] = fixture.score(fixture.solution(fixture.baseline.cells[3].source))
    assert scored.view.status == "scored"
    organising.api.register(str(organising.repo.resolve()))  # the served repository, as `coop serve` does
    hidden = private_board(organising)
    assert hidden.status_code == 403, hidden.text
    with organising.client() as olga:
        assert olga.challenge(organising.cid).phases[0].end is None  # open-ended: never revealed
        preview = olga.phase_dates(organising.cid, PhaseDatesIn(phase="phase-1", end="now", dry_run=True))
        assert not preview.applied and private_board(organising).status_code == 403
        diff = [line for line in preview.diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
        assert diff == [f"+  end: {preview.after['end']}"], preview.diff
        made = olga.phase_dates(organising.cid, PhaseDatesIn(phase="phase-1", end="now", base=preview.base))
        assert made.applied and made.before == {"phase": "phase-1", "end": None}
        assert olga.challenge(organising.cid).phases[0].end is not None
        [event] = olga.audit(organising.cid)
    assert (event.action, event.detail["after"]["end"]) == ("edit-phase-dates", made.after["end"])
    shown = private_board(organising)
    assert shown.status_code == 200, shown.text
    [row] = shown.json()["rows"]
    assert row["person"] == "alice" and row["values"]["rmse"] == scored.scores.private["rmse"]
    with organising.client() as olga:  # and hidden again when the organiser says never
        olga.phase_dates(organising.cid, PhaseDatesIn(phase="phase-1", private_visible="never"))
    assert private_board(organising).status_code == 403


def test_phase_dates_that_make_no_sense_are_refused_with_the_specs_words(organising: Organising) -> None:
    before = organising.main()
    with organising.client() as olga:
        with pytest.raises(CoopClientError) as backwards:
            olga.phase_dates(organising.cid, PhaseDatesIn(phase="phase-2", end="2020-01-01T00:00:00Z"))
        assert backwards.value.status == 422 and "must be after start" in backwards.value.message
        with pytest.raises(CoopClientError) as nothing:
            olga.phase_dates(organising.cid, PhaseDatesIn(phase="phase-1"))
        assert nothing.value.status == 400 and "say what to change" in nothing.value.message
    assert organising.main() == before


def test_limits_are_changed_as_written_and_checked(organising: Organising) -> None:
    with organising.client() as olga:
        state = olga.organise(organising.cid)
        submissions = {**state.spec["phases"][0]["submissions"], "per_day": 3}
        made = olga.phase_limits(
            organising.cid, PhaseLimitsIn(phase="phase-1", submissions=submissions, base=state.base)
        )
        assert made.after["submissions"] == {**state.written["phases"][0]["submissions"], "per_day": 3}
        assert olga.challenge(organising.cid).phases[0].submissions.per_day == 3
        with pytest.raises(CoopClientError) as refused:
            olga.phase_limits(organising.cid, PhaseLimitsIn(phase="phase-1", limits={"wall_time": -1}))
        assert refused.value.status == 422 and "phases[0].limits.wall_time" in refused.value.message
        assert [e.action for e in olga.audit(organising.cid)] == ["edit-phase-limits"]
    assert organising.api.challenge(organising.cid).phases[0].submissions.per_day == 3


def test_an_organiser_publishes_a_new_challenge_from_a_folder(organising: Organising, tmp_path: Path) -> None:
    folder = scaffold("Second curve", tmp_path / "second")
    archive = folder_archive(folder)
    with organising.client() as olga:
        assert [c.id for c in olga.organised()] == [organising.cid]
        preview = olga.publish(PublishIn(archive=archive, dry_run=True))
        assert (preview.challenge, preview.applied, preview.phases) == ("second-curve", False, ["phase-1"])
        assert "challenge.yaml" in preview.files and "baselines/phase-1.ipynb" in preview.files
        assert [c.id for c in olga.organised()] == [organising.cid]
        made = olga.publish(PublishIn(archive=archive))
        assert made.applied and made.commit
        assert [c.id for c in olga.organised()] == [organising.cid, "second-curve"]
        assert olga.challenge("second-curve").current_phase == "phase-1"
        [event] = olga.audit("second-curve")
        assert (event.action, event.actor, event.detail["commit"]) == ("publish", "olga", made.commit)
        with pytest.raises(CoopClientError) as again:
            olga.publish(PublishIn(archive=archive))
        assert again.value.status == 400 and "exists here already" in again.value.message
        with pytest.raises(CoopClientError) as garbled:
            olga.publish(PublishIn(archive="not base64!"))
        assert garbled.value.status == 400 and "base64" in garbled.value.message
        (folder / "challenge.yaml").write_text("id: third\ntitle: Third\n")
        with pytest.raises(CoopClientError) as invalid:
            olga.publish(PublishIn(archive=folder_archive(folder), dry_run=True))
        assert invalid.value.status == 422 and "metrics" in invalid.value.message
    settings = organising.fixture.settings
    assert (phase_root(settings.data_root, "second-curve", "phase-1") / "meta.json").is_file()
    served = settings.home_path / "git" / "second-curve.git"
    assert (served / "hooks" / "pre-receive").is_file()


# --- editing YAML in place ------------------------------------------------------------------------

SPEC = """\
# the organisers' notes stay
id: curve
description: |
  Two lines
  of prose.
phases:
  - id: phase-1   # the toy
    title: 'Quoted, as written'
    start: 2026-01-01T00:00:00Z
    rewarders:
      - type: score-threshold
        amount: 10   # points
        threshold: 0.20
        params: {metric: rmse}

      # the streak comes second
      - {type: streak, amount: 5}
  - id: phase-2
    start: 2027-01-01T00:00:00Z
"""


def changed_lines(before: str, after: str) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def test_values_are_replaced_in_place_keeping_comments() -> None:
    moment = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    edited = set_in_yaml(
        SPEC,
        [
            (("phases", 1, "start"), moment),
            (("phases", 0, "end"), moment),
            (("phases", 0, "rewarders", 0), {"type": "score-threshold", "amount": 20}),
            (("phases", 0, "rewarders", 1), {"type": "streak", "amount": 6}),
        ],
    )
    assert "# the organisers' notes stay" in edited and "# the toy" in edited
    assert "# the streak comes second" in edited and "description: |\n  Two lines\n" in edited
    data = yaml.safe_load(edited)
    assert data["phases"][1]["start"] == moment and data["phases"][0]["end"] == moment
    assert data["phases"][0]["rewarders"] == [
        {"type": "score-threshold", "amount": 20},
        {"type": "streak", "amount": 6},
    ]
    assert "start: 2027" not in edited and "start: 2026-06-01T12:00:00Z" in edited


def test_a_rewarder_edit_rewrites_only_the_lines_whose_values_change() -> None:
    rewarder = {"type": "score-threshold", "amount": 25, "threshold": 0.2, "params": {"metric": "mae"}}
    edited = set_in_yaml(SPEC, [(("phases", 0, "rewarders", 0), rewarder)])
    assert changed_lines(SPEC, edited) == [
        "-        amount: 10   # points",
        "+        amount: 25   # points",
        "-        params: {metric: rmse}",
        "+        params: {metric: mae}",
    ]
    flow = set_in_yaml(SPEC, [(("phases", 0, "rewarders", 1), {"type": "streak", "amount": 7, "days": 3})])
    assert changed_lines(SPEC, flow) == [
        "-      - {type: streak, amount: 5}",
        "+      - {type: streak, amount: 7, days: 3}",
    ]


def test_a_new_key_goes_at_the_end_of_its_mapping_and_the_layout_is_kept() -> None:
    text = "id: curve\nphases:\n- id: phase-1\n  start: 2026-01-01T00:00:00Z\n  tags: [a]  # kept\n"
    moment = datetime(2026, 6, 1, tzinfo=UTC)
    edited = set_in_yaml(text, [(("phases", 0, "end"), moment)])
    assert edited == text + "  end: 2026-06-01T00:00:00Z\n"


def test_a_string_pyyaml_would_read_as_another_type_is_quoted() -> None:
    edited = set_in_yaml(
        SPEC, [(("phases", 0, "rewarders", 1), {"type": "streak", "note": "yes", "at": "1:30"})]
    )
    assert "{type: streak, note: 'yes', at: '1:30'}" in edited
    assert yaml.safe_load(edited)["phases"][0]["rewarders"][1] == {
        "type": "streak",
        "note": "yes",
        "at": "1:30",
    }


def test_a_value_the_round_trip_cannot_write_for_pyyaml_has_the_file_dumped_again() -> None:
    # ruamel.yaml writes 1e-07, which PyYAML (YAML 1.1) reads as a string
    edited = set_in_yaml(SPEC, [(("phases", 0, "rewarders", 1, "amount"), 1e-7)])
    assert yaml.safe_load(edited)["phases"][0]["rewarders"][1] == {"type": "streak", "amount": 1e-7}
    assert "#" not in edited


def test_an_edit_of_an_aliased_value_changes_that_place_only_and_keeps_the_anchors() -> None:
    text = (
        "limits: &limits\n  wall_time: 60\n  memory: 1GiB\n"
        "phases:\n  - id: a\n    limits: *limits\n  - id: b\n    limits: *limits\n"
        "quiet: &unused {x: 1}\n"
    )
    edited = set_in_yaml(text, [(("phases", 1, "limits", "wall_time"), 90)])
    assert changed_lines(text, edited) == [
        "-    limits: *limits",
        "+    limits:",
        "+      wall_time: 90",
        "+      memory: 1GiB",
    ]
    assert yaml.safe_load(edited)["phases"][0]["limits"]["wall_time"] == 60
