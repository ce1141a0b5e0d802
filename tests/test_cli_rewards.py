"""``coop rewards`` over a real ledger in ``--home``: tables, filters, --json, hidden evidence."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from scorer.cli import app
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from tests.service.rewards_ledger import PRIVATE_VALUE, Rewarded, reward

runner = CliRunner()


@pytest.fixture
def home(tmp_path) -> tuple[str, Rewarded]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path)))
    try:
        return str(tmp_path), reward(api.sessions)
    finally:
        api.close()


def coop(home: str, *args: str) -> str:
    result = runner.invoke(app, ["--home", home, "rewards", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_tables_of_history_and_balances(home):
    folder, data = home
    output = coop(folder, "higgs")
    assert "Rewards — Higgs boson" in output and "Balances" in output
    assert "+10 points" in output and "-10 points" in output and "+300 points" in output
    assert f"takes back #{data.taken_back}: rescore" in output
    assert "accuracy ≥ 0.9" in output and "0: rank-prize (settled)" in output
    assert "(private scores not visible yet)" in output and str(PRIVATE_VALUE) not in output
    balances = output.split("Balances")[1]
    assert "alice" in balances and "310" in balances and "bob" in balances


def test_json_and_filters(home):
    folder, data = home
    document = json.loads(coop(folder, "higgs", "--phase", "p1", "--person", "bob", "--json"))
    assert [(r["kind"], r["amount"], r["submission"]) for r in document["rewards"]] == [
        ("grant", 10.0, data.bob),
        ("compensation", -10.0, data.bob),
    ]
    assert document["balances"] == [{"person": "bob", "unit": "points", "amount": 0.0}]
    [prize] = json.loads(coop(folder, "higgs", "--phase", "p2", "--json"))["rewards"]
    assert prize["evidence_hidden"] and "values" not in prize["evidence"]
    [seen] = json.loads(coop(folder, "higgs", "--phase", "p2", "--organiser", "--json"))["rewards"]
    assert seen["evidence"]["values"]["value"] == PRIVATE_VALUE


def test_an_unknown_phase_or_challenge_is_a_clear_error(home):
    folder, _data = home
    for args in (["higgs", "--phase", "p9"], ["nope"]):
        result = runner.invoke(app, ["--home", folder, "rewards", *args])
        assert result.exit_code == 1
        assert "error:" in result.output and ("p9" in result.output or "nope" in result.output)
