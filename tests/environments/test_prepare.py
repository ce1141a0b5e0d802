"""`coop challenge prepare` builds a challenge's environment once and reuses it; a change whose
build fails is refused by name and the environment that served keeps serving; `coop env`
lists and collects (real git, uv and bubblewrap, offline from the wheelhouse)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.cli import app
from scorer.config import load_settings
from scorer.environments.store import environment_for, is_built, used_by
from tests.environments.wheelhouse import WHEELHOUSE, need_wheelhouse, scaffold_with_environment

pytestmark = pytest.mark.needs("bwrap")
runner = CliRunner()
ORGANISER = {"author": "Organiser", "email": "organiser@coopetition.local"}


def test_prepare_builds_once_and_a_failed_change_keeps_the_environment(tmp_path: Path):
    need_wheelhouse()
    config = tmp_path / "coop_config.py"
    config.write_text(
        f"c.ScorerSettings.environment_find_links = [{str(WHEELHOUSE)!r}]\n"
        "c.ScorerSettings.environment_offline = True\n"
    )
    folder, spec = scaffold_with_environment("Env curve", tmp_path / "challenge", "uncertainties==3.2.3\n")
    bare = tmp_path / "curve.git"
    publish(folder, bare, **ORGANISER, message="Publish")
    coop = ["--home", str(tmp_path / "home"), "--config", str(config)]

    first = runner.invoke(app, [*coop, "challenge", "prepare", str(bare)])
    assert first.exit_code == 0, first.output
    phase = spec["phases"][0]["id"]
    settings = load_settings(config, home=str(tmp_path / "home"))
    environment = used_by(settings, "env-curve", phase)
    assert environment is not None and is_built(environment)
    assert f"{phase}: environment {environment.short} (built)" in first.output
    kernel = json.loads(
        (settings.environments / "jupyter" / "kernels" / "coop-env-curve" / "kernel.json").read_text()
    )
    assert kernel["argv"][0] == str(environment.python.absolute())
    again = runner.invoke(app, [*coop, "challenge", "prepare", str(bare)])
    assert f"{phase}: environment {environment.short} (reused)" in again.output

    (folder / "requirements.txt").write_text("uncertainties==3.2.3\ncoop-no-such-package==0.1\n")
    publish(folder, bare, **ORGANISER, message="Add a package")
    broken = runner.invoke(app, [*coop, "challenge", "prepare", str(bare)])
    assert broken.exit_code == 1
    assert "no wheel of coop-no-such-package==0.1 is available" in " ".join(broken.output.split())
    assert used_by(settings, "env-curve", phase) == environment  # what served still serves
    assert environment_for(settings, load_spec(folder), phase, folder) == environment
    assert [p.name for p in (settings.environments / ".building").iterdir()] == []

    listed = runner.invoke(app, [*coop, "env", "list"])
    assert environment.short in listed.output and f"used by env-curve/{phase}" in listed.output
    collected = runner.invoke(app, [*coop, "env", "gc"])
    assert collected.exit_code == 0 and "removed: 0 MiB" in collected.output
    assert is_built(environment)
