"""``coop settle`` and ``coop invalidate`` from the command line: done once, a second time
refused naming the first, bad input refused clearly, and the help saying what settling an open
phase means."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorer.cli import app
from scorer.organise.actions import audit_trail
from tests.rewards_admin import Served, served_challenge

runner = CliRunner()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    made = served_challenge(tmp_path)
    yield made
    made.api.close()


def coop(served: Served, *args: str) -> tuple[int, str]:
    """The exit code and the output, lines joined (rich wraps them at the terminal's width)."""
    done = runner.invoke(app, ["--home", served.fixture.settings.home, *args])
    return done.exit_code, " ".join(done.output.split())


def test_an_organiser_settles_a_phase_once(served: Served) -> None:
    served.submit("alice", 0.15, private_rmse=0.12)
    served.submit("bob", 0.18, private_rmse=0.10)
    code, out = coop(served, "settle", "curve", "--phase", "phase-1", "--as", "olga")
    assert code == 0, out
    assert "settled curve/phase-1 (settlement 1): 2 grant(s) to 2 person(s), 30 points" in out
    code, out = coop(served, "settle", "curve", "--phase", "phase-1", "--as", "oscar")
    assert code == 1 and "settled already (settlement 1," in out and "by olga" in out
    code, out = coop(served, "settle", "curve", "--phase", "phase-9")
    assert code == 1 and "no phase 'phase-9'" in out
    assert [(e.actor, e.action) for e in audit_trail(served.api, "curve")] == [("olga", "settle")]


def test_settling_as_json(served: Served) -> None:
    served.submit("alice", 0.15, private_rmse=0.12)
    code, out = coop(served, "settle", "curve", "--phase", "phase-1", "--json")
    assert code == 0, out
    done = json.loads(out)  # JSON reads the same with its whitespace joined
    assert (done["phase"], done["grants"], done["totals"], done["phase_ended"]) == (
        "phase-1",
        1,
        {"points": "20"},
        False,
    )


def test_an_organiser_invalidates_a_submission_once(served: Served) -> None:
    alice = served.submit("alice", 0.15)
    code, out = coop(served, "invalidate", str(alice), "--reason", "reads the answer key", "--as", "olga")
    assert code == 0, out
    assert f"submission {alice} of alice (curve/phase-1) invalidated; 1 reward(s) compensated" in out
    code, out = coop(served, "invalidate", str(alice), "--reason", "again", "--as", "oscar")
    assert code == 1 and "invalidated already" in out and "by olga" in out
    code, out = coop(served, "invalidate", str(alice), "--reason", "  ")
    assert code == 1 and "reason is empty" in out
    code, out = coop(served, "invalidate", "999", "--reason", "exploit")
    assert code == 1 and "no submission 999" in out
    code, out = coop(served, "invalidate", str(alice))
    assert code == 2 and "--reason" in out
    trail = audit_trail(served.api, "curve")
    assert [(e.actor, e.action, e.detail["reason"]) for e in trail] == [
        ("olga", "invalidate", "reads the answer key")
    ]


def test_the_help_says_what_settling_an_open_phase_means(served: Served) -> None:
    code, out = coop(served, "settle", "--help")
    assert code == 0
    assert "still open may be settled" in out
