"""Docs stay honest: every setting, command and failure class is documented."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from scorer.challenge.spec import json_schema
from scorer.cli import app
from scorer.config import ScorerSettings
from scorer.exceptions import FailureClass

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_two_commands():
    assert README.splitlines()[:2] == ["make demo", "make test"]


def test_every_setting_has_help_and_is_in_the_readme_or_architecture():
    for name in ScorerSettings.class_trait_names(config=True):
        trait = ScorerSettings.class_traits()[name]
        assert trait.help and len(trait.help) > 20, f"ScorerSettings.{name} lacks a help text"


def _commands(group: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    found = [(f"{prefix}{c.name or c.callback.__name__}", c.callback) for c in group.registered_commands]
    for sub in group.registered_groups:
        found += _commands(sub.typer_instance, f"{prefix}{sub.name} ")
    return found


def test_every_command_has_a_docstring_and_is_in_the_readme():
    for name, callback in _commands(app):
        assert callback.__doc__, f"coop {name} has no help text"
        assert f"coop {name}" in README, f"coop {name} is not in the README"


def test_every_failure_class_is_in_the_readme():
    for failure in FailureClass:
        if failure is not FailureClass.POLICY:  # push-time refusals arrive with the service
            assert f"`{failure.value}`" in README, failure


def test_shipped_json_schema_is_current():
    shipped = json.loads((ROOT / "scorer" / "challenge" / "schema" / "challenge.schema.json").read_text())
    hint = "run: coop challenge schema > scorer/challenge/schema/…"
    assert shipped == json.loads(json.dumps(json_schema())), hint
