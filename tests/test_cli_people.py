"""``coop people search`` over a real ledger in ``--home``: the table, --json, notes and refusals."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from scorer.cli import app
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from tests.ledger.ledger_helpers import Ledger
from tests.service.rewards_ledger import reward
from tests.service.test_people import scored

runner = CliRunner()


@pytest.fixture
def home(tmp_path) -> str:
    api = CoopAPI(ScorerSettings(home=str(tmp_path)))
    try:
        ledger = Ledger(api.sessions, reward(api.sessions).spec)
        scored(ledger, "carol", "from sklearn.cluster import DBSCAN", "DBSCAN().fit(x)")
        scored(ledger, "dan", "import numpy as np", "np.zeros(2)", "import sklearn")
        return str(tmp_path)
    finally:
        api.close()


def coop(home: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, ["--home", home, "people", "search", *args], env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


def test_json_rows_explain_their_scores(home):
    document = json.loads(coop(home, "--skill", "clustering=2", "--skill", "numpy", "--json"))
    assert [row["person"] for row in document["rows"]] == ["carol", "dan"]
    carol = document["rows"][0]
    assert carol["terms"][0]["skill"] == "clustering" and carol["terms"][0]["weight"] == 2.0
    assert carol["terms"][0]["evidence"][0]["detail"] == "sklearn.cluster"
    assert carol["score"] == pytest.approx(66.667)


def test_the_table(home):
    output = coop(home, "--skill", "machine-learning", "--skill", "rank:higgs=0.5")
    assert "people 1–4 of 4" in output
    assert "machine-learning ×1: percentile 100" in output and "code: higgs/p1" in output


def test_notes_and_refusals(home):
    assert "unknown skill(s): telepathy" in coop(home, "--skill", "telepathy")
    assert "people 1–2 of 2" in coop(
        home, "--skill", "numpy", "--skill", "clustering", "--since", "2024-01-01"
    )
    assert "people none of 0" in coop(home, "--skill", "numpy", "--since", "2999-01-01T00:00:00")
    assert "the weight of 'numpy' must be above 0" in coop(home, "--skill", "numpy=20", code=1)
    assert "page size" in coop(home, "--limit", "1000", code=1)
