"""Every kind of edit the organiser panel makes, on both shipped challenges' challenge.yaml:
the organiser's text is kept (comments, block and flow style, quoting, integers) and only the
edited values' lines change, compared line by line with a unified diff."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from scorer.challenge.load import parse_spec
from scorer.organise.actions import _open_plan, planned
from scorer.organise.phase_plans import Plan, dates_plan, limits_plan, rewarder_plan

DEMO = Path(__file__).resolve().parents[1] / "challenge_notebooks"
NOW = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
#: A comment an organiser wrote, which every edit must keep.
NOTE = "# the organisers' note on the first phase\n"


@pytest.fixture(params=["higgs", "trackml"])
def text(request: pytest.FixtureRequest) -> str:
    """The shipped challenge.yaml, with comments added where edits happen."""
    original = (DEMO / request.param / "challenge.yaml").read_text()
    commented = original.replace("phases:\n", "phases:\n  " + NOTE, 1)
    commented = commented.replace("      per_day: 20\n", "      per_day: 20  # generous: a toy\n", 1)
    assert commented.count("#") == original.count("#") + 2
    return commented


def changed(before: str, after: str) -> list[str]:
    """The lines a unified diff removes and adds (no context)."""
    return [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def edited(text: str, plan: Plan) -> str:
    _edit, new_text = planned(text, plan)
    assert NOTE.strip() in new_text and "# generous: a toy" in new_text
    parse_spec(new_text)  # still a valid spec
    return new_text


def edit(text: str, plan: Plan) -> list[str]:
    return changed(text, edited(text, plan))


def as_the_panel_shows(text: str, phase: int, rewarder: int) -> dict[str, Any]:
    """A rewarder as the panel gets it from the service: validated, defaults filled in."""
    return parse_spec(text).model_dump(mode="json")["phases"][phase]["rewarders"][rewarder]


def test_a_rewarder_edit_sent_back_whole_changes_its_one_line(text: str) -> None:
    rewarder = {**as_the_panel_shows(text, 0, 1), "amount": 150}  # credit-share: no threshold
    assert rewarder["threshold"] is None and isinstance(rewarder["amount"], int | float)
    assert edit(text, rewarder_plan("toy", 1, rewarder)) == ["-        amount: 100", "+        amount: 150"]


def test_a_flow_mapping_in_a_rewarder_stays_flow(text: str) -> None:
    rewarder = as_the_panel_shows(text, 0, 0)
    rewarder["params"] = {**rewarder["params"], "moment": "live"}
    [removed, added] = edit(text, rewarder_plan("toy", 0, rewarder))
    assert removed.endswith("moment: settlement}") and added == removed.replace(
        "settlement}", "live}"
    ).replace("-", "+", 1)


def test_ending_the_open_ended_phase_adds_one_line_after_its_start(text: str) -> None:
    ended = edited(text, dates_plan("realistic", now=NOW, end="now"))
    assert changed(text, ended) == ["+    end: 2026-07-01T09:30:00Z"]
    assert "    start: 2026-06-01T00:00:00Z\n    end: 2026-07-01T09:30:00Z\n" in ended


def test_moving_a_start_and_an_end_changes_those_lines(text: str) -> None:
    later = datetime(2026, 6, 15, tzinfo=UTC)
    assert edit(text, dates_plan("toy", now=NOW, end=later)) == [
        "-    end: 2026-06-01T00:00:00Z",
        "+    end: 2026-06-15T00:00:00Z",
    ]
    assert edit(text, dates_plan("realistic", now=NOW, start=later)) == [
        "-    start: 2026-06-01T00:00:00Z",
        "+    start: 2026-06-15T00:00:00Z",
    ]


def test_private_visibility_changes_its_line(text: str) -> None:
    assert edit(text, dates_plan("toy", now=NOW, private_visible="never")) == [
        "-      private_visible: end",
        "+      private_visible: never",
    ]
    assert edit(text, dates_plan("toy", now=NOW, private_visible="now")) == [
        "-      private_visible: end",
        "+      private_visible: 2026-07-01T09:30:00Z",
    ]


def test_removing_an_end_removes_its_line(text: str) -> None:
    assert edit(text, dates_plan("toy", now=NOW, open_ended=True)) == ["-    end: 2026-06-01T00:00:00Z"]


def test_run_limits_sent_back_whole_change_only_the_edited_value(text: str) -> None:
    spec = parse_spec(text).model_dump(mode="json")["phases"][0]
    written = yaml.safe_load(text)["phases"][0]
    limits = {**written["limits"], "wall_time": 90}
    assert edit(text, limits_plan("toy", limits=limits)) == ["-      wall_time: 120", "+      wall_time: 90"]
    whole = {**spec["limits"], "wall_time": 90}  # the validated limits: every default filled in
    assert edit(text, limits_plan("toy", limits=whole)) == ["-      wall_time: 120", "+      wall_time: 90"]


def test_submission_limits_keep_the_comment_of_an_unchanged_line(text: str) -> None:
    spec = parse_spec(text).model_dump(mode="json")["phases"][0]
    submissions = {**spec["submissions"], "min_interval": 30}  # per_person: null, as the spec says
    assert edit(text, limits_plan("toy", submissions=submissions)) == [
        "-      min_interval: 10",
        "+      min_interval: 30",
    ]
    added = {**spec["submissions"], "per_person": 50}
    assert edit(text, limits_plan("toy", submissions=added)) == ["+      per_person: 50"]


def test_opening_a_phase_changes_its_start_and_the_current_end(text: str) -> None:
    before_realistic = datetime(2026, 3, 1, tzinfo=UTC)

    def plan(spec, _data):
        return _open_plan(spec, "realistic", True, before_realistic)

    assert edit(text, plan) == [
        "-    end: 2026-06-01T00:00:00Z",
        "+    end: 2026-03-01T00:00:00Z",
        "-    start: 2026-06-01T00:00:00Z",
        "+    start: 2026-03-01T00:00:00Z",
    ]
