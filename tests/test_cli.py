"""The `coop` command line, end to end, the way an organiser uses it (real git, real sandbox)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scorer.cli import app
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from tests.conftest import git

runner = CliRunner()
COOP = str(Path(sys.executable).with_name("coop"))


def coop(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COOP, *args], capture_output=True, text=True, timeout=600)


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("challenge", "db", "score", "rescore", "recover", "submission", "leaderboard", "demo"):
        assert command in result.output


def test_schema_is_json_schema():
    result = runner.invoke(app, ["challenge", "schema"])
    schema = json.loads(result.output)
    assert schema["title"] == "Coopetition challenge"
    assert {"id", "metrics", "leaderboards", "phases"} <= set(schema["properties"])


def test_new_scaffold_validates_and_refuses_to_overwrite(tmp_path):
    folder = tmp_path / "mine"
    assert runner.invoke(app, ["challenge", "new", "Protein: folding?", "--dir", str(folder)]).exit_code == 0
    spec = yaml.safe_load((folder / "challenge.yaml").read_text())
    assert spec["title"] == "Protein: folding?" and spec["id"] == "protein-folding"
    result = runner.invoke(app, ["challenge", "validate", str(folder)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(app, ["challenge", "new", "x", "--dir", str(folder)])
    assert again.exit_code == 1 and "not empty" in again.output


def test_db_upgrade_reports_the_revision(tmp_path):
    result = runner.invoke(app, ["--home", str(tmp_path), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "revision" in result.output


@pytest.mark.needs("bwrap")
def test_organiser_journey_from_scaffold_to_private_leaderboard(tmp_path):
    folder = tmp_path / "curve"
    home = tmp_path / "home"
    assert coop("challenge", "new", "Curve", "--dir", str(folder)).returncode == 0
    spec = yaml.safe_load((folder / "challenge.yaml").read_text())
    spec["phases"][0]["start"] = "2026-01-01T00:00:00Z"
    spec["phases"][0]["end"] = "2026-02-01T00:00:00Z"  # ended: private scores are public
    (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    bare = tmp_path / "curve.git"
    published = coop("challenge", "publish", str(folder), str(bare))
    assert published.returncode == 0, published.stderr
    prepared = coop("--home", str(home), "challenge", "prepare", str(bare), "--seed", "3")
    assert prepared.returncode == 0 and "curve/phase-1" in prepared.stdout, prepared.stderr

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare), str(clone))
    (clone / "solutions" / "alice").mkdir(parents=True)
    (clone / "solutions" / "alice" / "fit.ipynb").write_bytes(
        (folder / "baselines/phase-1.ipynb").read_bytes()
    )
    git(clone, "add", "--all")
    git(clone, "commit", "-qm", "alice: baseline", user="alice")
    git(clone, "push", "-q", "origin", "HEAD:refs/heads/alice/fit", user="alice")
    sha = git(clone, "rev-parse", "HEAD")

    scored = coop(
        "--home",
        str(home),
        "--workers",
        "1",
        "score",
        "--repo",
        str(bare),
        "--commit",
        sha,
        "--phase",
        "phase-1",
        "--json",
    )
    assert scored.returncode == 0, scored.stderr
    [submission] = json.loads(scored.stdout)
    assert submission["status"] == "scored" and submission["person"] == "alice"
    assert submission["provenance"]["commit"] == sha
    assert submission["private"] is not None  # the phase has ended

    board = coop("--home", str(home), "leaderboard", "curve", "--private", "--json")
    assert board.returncode == 0, board.stderr
    data = json.loads(board.stdout)
    assert data["split"] == "private" and data["rows"][0]["person"] == "alice"
    assert data["rows"][0]["rank_change"] == 0

    rescored = coop("--home", str(home), "--workers", "1", "rescore", "curve", "--phase", "phase-1", "--json")
    assert rescored.returncode == 0, rescored.stderr
    [again] = json.loads(rescored.stdout)
    assert again["status"] == "scored"
    assert again["public"] == submission["public"]  # re-running reproduces the metrics

    missing = coop("--home", str(home), "score", "--repo", str(bare), "--commit", "f" * 40)
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr


@pytest.mark.needs("bwrap")
def test_a_one_off_score_runs_in_the_cli_process_in_the_sandbox(challenge):
    """`coop score` on the default settings (a local executor) starts no Dask cluster for one
    notebook: the run is claimed by the coop process itself, not a Dask worker, and sandboxed."""
    sha = challenge.commit("ivan", {"solutions/ivan/fit.ipynb": challenge.baseline})
    home = challenge.settings.home
    scored = coop("--home", home, "score", "--repo", str(challenge.bare), "--commit", sha, "--json")
    assert scored.returncode == 0, scored.stderr
    [submission] = json.loads(scored.stdout)
    assert submission["status"] == "scored" and submission["provenance"]["sandboxed"] is True
    api = CoopAPI(ScorerSettings(home=home))
    try:
        assert api.submission(submission["id"])[0].worker == f"{socket.gethostname()}:local"
    finally:
        api.close()


@pytest.mark.needs("bwrap")
def test_demo_runs_on_a_folder_of_challenges(tmp_path):
    source = tmp_path / "challenges"
    assert runner.invoke(app, ["challenge", "new", "Tiny", "--dir", str(source / "tiny")]).exit_code == 0
    result = coop("--home", str(tmp_path / "home"), "--workers", "1", "demo", "--source", str(source))
    assert result.returncode == 0, result.stderr
    assert "Tiny" in result.stdout and "baseline" in result.stdout and "scored" in result.stdout
