"""``make demo`` scores every shipped baseline and example in the sandbox: on the dashboards'
platform (``coop up --demo`` on ``challenge_notebooks/``, built once for this folder), each
notebook the demo commits has its submissions, every one scored in the sandbox, except the
examples whose ``coop.fails_on_purpose`` says they fail: those fail, never score."""

from __future__ import annotations

import json

import httpx

from coop_client.layout import solution_path
from scorer.challenge import demo
from scorer.challenge.load import load_spec
from tests.e2e.dashboards.conftest import DemoPlatform
from tests.hub.conftest import ROOT


def shipped(challenge_folder) -> dict[str, bool]:
    """Where the demo commits each baseline and example, and whether it should score."""
    spec = load_spec(challenge_folder)
    expected = {
        str(solution_path(spec.solutions, demo.BASELINE_USER, f"{phase.id}-baseline")): True
        for phase in spec.phases
    }
    for example in sorted((challenge_folder / "examples").glob("*.ipynb")):
        person, _, name = example.stem.partition("-")
        coop = json.loads(example.read_text(encoding="utf-8")).get("metadata", {}).get("coop", {})
        expected[str(solution_path(spec.solutions, person, name or "solution"))] = not coop.get(
            "fails_on_purpose"
        )
    return expected


def test_every_shipped_baseline_and_example_is_scored_in_the_sandbox(demo_platform: DemoPlatform):
    folders = demo.challenge_folders(ROOT / "challenge_notebooks")
    assert {folder.name for folder in folders} >= {"higgs", "trackml"}
    with httpx.Client(base_url=demo_platform.service_url, timeout=60) as client:
        for folder in folders:
            challenge = load_spec(folder).id
            found = client.get("api/submissions", params={"challenge": challenge, "limit": 1000}).json()
            runs: dict[str, list[dict]] = {}
            for summary in found:
                runs.setdefault(summary["notebook"], []).append(summary)
            expected = shipped(folder)
            assert set(expected) <= set(runs), (challenge, sorted(set(expected) - set(runs)))
            for notebook, scores in expected.items():
                for summary in runs[notebook]:
                    where = f"{challenge} {notebook} (submission {summary['id']})"
                    if not scores:
                        assert summary["status"] == "failed", where
                        continue
                    assert summary["status"] == "scored", (where, summary["failure_class"], summary["reason"])
                    detail = client.get(f"api/submissions/{summary['id']}").json()
                    assert detail["provenance"]["sandboxed"] is True, where
                    assert detail["public"], where
