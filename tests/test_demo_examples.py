"""The demo's failing examples are deliberate, and say so: in their notebooks' metadata, in
``coop demo``'s output (what ``make demo`` prints) and on their notebooks' pages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scorer.cli.demo import CHALLENGES

EXAMPLES = sorted(CHALLENGES.glob("*/examples/*.ipynb"))


def on_purpose(example: Path) -> str | None:
    return json.loads(example.read_text(encoding="utf-8"))["metadata"].get("coop", {}).get("fails_on_purpose")


def test_every_example_that_fails_on_purpose_says_why_in_its_metadata():
    titled = {
        e.name for e in EXAMPLES if "(fails on purpose)" in json.loads(e.read_text())["cells"][0]["source"][0]
    }
    marked = {e.name for e in EXAMPLES if on_purpose(e)}
    assert (
        titled
        == marked
        == {
            "bob-nan-predictions.ipynb",
            "carol-string-track-ids.ipynb",
            "dave-hardcoded-path.ipynb",
        }
    )


@pytest.mark.needs("bwrap")
def test_coop_demo_says_which_failures_are_deliberate(tmp_path):
    """TrackML with dave's example only: the baselines score, dave's run fails on purpose."""
    source = tmp_path / "challenges"
    shutil.copytree(CHALLENGES / "trackml", source / "trackml")
    for example in (source / "trackml" / "examples").glob("*.ipynb"):
        if not example.name.startswith("dave-"):
            example.unlink()
    coop = str(Path(sys.executable).with_name("coop"))
    home = str(tmp_path / "home")
    done = subprocess.run(
        [coop, "--home", home, "--workers", "1", "demo", "--source", str(source)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    out = " ".join(done.stdout.split())
    assert (
        "Failing on purpose: submission 3 (dave, exception) is one of the demo's examples of a common mistake"
        in out
    )
    assert on_purpose(CHALLENGES / "trackml" / "examples" / "dave-hardcoded-path.ipynb") in out


def test_coop_demo_refuses_a_folder_without_challenges_and_keeps_the_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "kept.txt").write_text("mine")
    coop = str(Path(sys.executable).with_name("coop"))
    done = subprocess.run(
        [coop, "--home", str(home), "demo", "--source", str(tmp_path / "typo")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert f"no challenge here: {tmp_path / 'typo'} holds no */challenge.yaml" in said
    assert (home / "kept.txt").read_text() == "mine"
