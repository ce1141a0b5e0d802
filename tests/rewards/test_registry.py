"""Rewarders are found by entry point: the built-ins (whose documented examples validate) and a
third party's, installed as a distribution on the path."""

from __future__ import annotations

import copy
import importlib
import inspect
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from scorer.challenge.load import parse_spec
from scorer.challenge.scaffold import scaffold
from scorer.exceptions import SpecError
from scorer.registry import UnknownPlugin
from scorer.rewards.base import Rewarder
from scorer.rewards.registry import NotARewarder, build, rewarder_class, rewarders

BUILT_IN = [
    "beat-baseline",
    "credit-share",
    "improvement",
    "limited-hardware",
    "new-record",
    "organiser-check",
    "pareto-front",
    "peer-likes",
    "rank-prize",
    "reproduced",
    "score-threshold",
]

EXTRA = '''
from pydantic import PositiveInt

from scorer.rewards.base import Params, Rewarder


class StreakParams(Params):
    days: PositiveInt


class Streak(Rewarder):
    """Submissions on consecutive days."""

    params_model = StreakParams


not_a_class = 42
'''


def example(cls: type[Rewarder]) -> dict[str, Any]:
    """The ``challenge.yaml`` example of a rewarder's docstring."""
    doc = inspect.getdoc(cls) or ""
    assert "Example::" in doc, cls
    block = doc.split("Example::", 1)[1].split("\n\n", 2)[1]
    [entry] = yaml.safe_load(textwrap.dedent(block))
    return entry


def test_the_built_ins_are_entry_points_of_the_group():
    assert rewarders.names() == BUILT_IN
    assert all(issubclass(rewarder_class(name), Rewarder) for name in BUILT_IN)
    assert rewarder_class("Score-Threshold") is rewarder_class("score-threshold")
    with pytest.raises(
        UnknownPlugin, match=r"unknown rewarder 'streak' \(known: beat-baseline, credit-share,"
    ):
        rewarder_class("streak")


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_built_in_documents_a_valid_example(name):
    entry = example(rewarder_class(name))
    assert entry["type"] == name
    built = build(0, **entry)
    assert built.moment in rewarder_class(name).moments


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution ``coop-extra`` with a ``streak`` rewarder, found on ``sys.path``."""
    (tmp_path / "coop_extra_rewarders.py").write_text(EXTRA)
    info = tmp_path / "coop_extra-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: coop-extra\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[coop.rewarders]\nstreak = coop_extra_rewarders:Streak\nbroken = coop_extra_rewarders:not_a_class\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()


@pytest.fixture
def spec(tmp_path: Path) -> dict[str, Any]:
    return yaml.safe_load((scaffold("Curve", tmp_path / "curve") / "challenge.yaml").read_text())


def with_rewarder(spec: dict[str, Any], rewarder: dict[str, Any]) -> str:
    edited = copy.deepcopy(spec)
    edited["phases"][0]["rewarders"] = [rewarder]
    return yaml.safe_dump(edited)


def test_a_third_party_rewarder_is_found_and_its_params_checked(installed, spec):
    assert "streak" in rewarders.names()
    assert rewarder_class("streak").__module__ == "coop_extra_rewarders"
    challenge = parse_spec(with_rewarder(spec, {"type": "streak", "amount": 3, "params": {"days": 7}}))
    assert challenge.phases[0].rewarders[0].type == "streak"
    with pytest.raises(SpecError) as caught:
        parse_spec(with_rewarder(spec, {"type": "streak", "amount": 3, "params": {"days": 0}}))
    [problem] = caught.value.problems
    assert problem.field == "phases[0].rewarders[0].params.days" and "greater than 0" in problem.message


def test_an_entry_point_that_is_not_a_rewarder_is_named(installed, spec):
    with pytest.raises(NotARewarder):
        rewarder_class("broken")
    with pytest.raises(SpecError) as caught:
        parse_spec(with_rewarder(spec, {"type": "broken", "amount": 3}))
    [problem] = caught.value.problems
    assert problem.field == "phases[0].rewarders[0].type"
    assert problem.message == "the installed rewarder 'broken' (coop.rewarders) is not a Rewarder class"


def test_without_the_distribution_the_third_party_type_is_unknown(spec):
    with pytest.raises(SpecError) as caught:
        parse_spec(with_rewarder(spec, {"type": "streak", "amount": 3, "params": {"days": 7}}))
    [problem] = caught.value.problems
    assert problem.field == "phases[0].rewarders[0].type" and "unknown rewarder 'streak'" in problem.message
