"""PeopleSearch in this process on asyncio against the real service (uvicorn over a SQLite ledger
with scored notebooks and rewards): ranked rows with their explanations, adding skills, pages,
notes escaped."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from html import unescape

import pytest

from coop_widgets.people import PeopleSearch
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from tests.ledger.ledger_helpers import Ledger
from tests.service.conftest import PREFIX, TOKENS, running
from tests.service.rewards_ledger import reward
from tests.service.test_people import scored


@pytest.fixture
def served(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    try:
        ledger = Ledger(api.sessions, reward(api.sessions).spec)
        scored(ledger, "carol", "from sklearn.cluster import DBSCAN", "DBSCAN().fit(x)")
        scored(ledger, "dan", "import numba", "import numpy as np", "np.zeros(1)")
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            monkeypatch.setenv("COOP_SERVICE_URL", url + PREFIX)
            monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "alice-token")
            monkeypatch.setenv("JUPYTERHUB_USER", "alice")
            monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
            yield url
    finally:
        api.close()


def test_rows_explain_their_scores(served):
    search = PeopleSearch({"clustering": 2, "performance-optimisation": 1})
    asyncio.run(search.refresh())
    assert search.problem.value == ""
    assert search.results is not None and [r.person for r in search.results.rows] == ["carol", "dan"]
    body = unescape(search.body.value)
    assert "clustering ×2: percentile 100, adds 66.667" in body
    assert "performance-optimisation ×1: percentile 0, not counted" in body
    assert "code: higgs/p1 submission" in body and "sklearn.cluster" in body and "numba" in body
    assert "People</b> · 1–2 of 2" in search.title.value
    assert "clustering" in search.skill.options  # the service's known skills


def test_adding_skills_and_paging(served):
    search = PeopleSearch(["rank:higgs"], limit=1)
    asyncio.run(search.refresh())
    assert [r.person for r in search.results.rows] == ["alice"] and search.results.total == 4
    assert search.previous_button.disabled and not search.next_button.disabled
    assert search.page(1)
    asyncio.run(search.refresh())
    assert [r.person for r in search.results.rows] == ["bob"]
    assert search.add("numpy", 3)
    assert search.offset == 0 and search.weights == {"rank:higgs": 1.0, "numpy": 3.0}
    assert "numpy ×3" in search.chosen.value
    asyncio.run(search.refresh())
    assert search.results.rows[0].person == "dan"
    assert not search.add("  ", 1) and "Name a skill first" in search.problem.value


def test_an_unknown_skill_shows_its_note_escaped(served):
    search = PeopleSearch(["<img src=x onerror=alert(1)>"])
    asyncio.run(search.refresh())
    assert "<img" not in search.body.value and "&lt;img src=x" in search.body.value
    assert "<img" not in search.chosen.value
    assert "unknown skill" in search.body.value


def test_a_refused_search_says_why(served):
    search = PeopleSearch({"numpy": 50})
    asyncio.run(search.refresh())
    assert "must be above 0 and at most 10" in unescape(search.problem.value)
