"""``coop challenge schedule`` and ``coop challenge limits``: an organiser's changes from the
command line, previewed with --dry-run, committed to the served repository and audited."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from scorer.cli import app
from scorer.ingest.served import serve_repository
from scorer.organise.actions import audit_trail
from tests.conftest import make_challenge

runner = CliRunner()


def test_an_organiser_ends_a_phase_and_changes_its_limits_from_the_command_line(tmp_path: Path) -> None:
    fixture = make_challenge(tmp_path)
    served = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    api = fixture.api()
    api.register(str(served.resolve()))
    home = ["--home", fixture.settings.home]
    try:
        before = subprocess.run(
            ["git", "--git-dir", str(served), "rev-parse", "main"], capture_output=True, text=True
        ).stdout
        preview = runner.invoke(
            app, [*home, "challenge", "schedule", "curve", "phase-1", "--end", "now", "--dry-run"]
        )
        assert preview.exit_code == 0, preview.output
        assert re.search(r"^\+ +end: 20", preview.output, re.M), preview.output
        assert "dry run: nothing changed" in preview.output
        assert api.challenge("curve").phases[0].end is None
        ended = runner.invoke(
            app, [*home, "challenge", "schedule", "curve", "phase-1", "--end", "now", "--as", "olga"]
        )
        assert ended.exit_code == 0, ended.output
        assert "✓ edit-phase-dates: commit" in ended.output
        assert api.challenge("curve").phases[0].end is not None
        limited = runner.invoke(
            app, [*home, "challenge", "limits", "curve", "phase-1", "--submissions", "{per_day: 3}"]
        )
        assert limited.exit_code == 0, limited.output
        assert api.challenge("curve").phases[0].submissions.per_day == 3
        wrong = runner.invoke(app, [*home, "challenge", "schedule", "curve", "phase-1", "--start", "soon"])
        assert wrong.exit_code == 1 and "--start: 'soon' is not a time" in wrong.output
        unknown = runner.invoke(app, [*home, "challenge", "schedule", "nope", "phase-1", "--end", "now"])
        assert unknown.exit_code == 1 and "nope" in unknown.output
        assert [(e.actor, e.action) for e in audit_trail(api, "curve")][1] == ("olga", "edit-phase-dates")
        after = subprocess.run(
            ["git", "--git-dir", str(served), "rev-parse", "main"], capture_output=True, text=True
        ).stdout
        assert after != before
    finally:
        api.close()
