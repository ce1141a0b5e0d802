"""People search for real: uvicorn over a ledger with rewards and scored notebooks, read with
the typed client (ranked rows with explanations, filters, notes, bounds, the skill table)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import nbformat
import pytest

from coop_client.client import CoopClient, CoopClientError
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import store
from scorer.service.app import create_app
from tests.ledger.ledger_helpers import Ledger, run_result
from tests.service.conftest import PREFIX, TOKENS, running
from tests.service.rewards_ledger import reward


def scored(ledger: Ledger, username: str, *cells: str) -> int:
    submission_id = ledger.enqueue(username)
    assert ledger.claim(submission_id)
    code = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]))
    result = replace(
        run_result({"accuracy": 0.5, "loss": 1.0}, {"accuracy": 0.5, "loss": 1.0}),
        executed_notebook=code.encode(),
    )
    with ledger.sessions.begin() as session:
        assert store.record_result(session, submission_id, result)
    return submission_id


@pytest.fixture
def service(tmp_path) -> Iterator[tuple[str, dict[str, int]]]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home"), skill_table={"trackml_tools": "tracking"}))
    try:
        data = reward(api.sessions)
        ledger = Ledger(api.sessions, data.spec)
        ids = {
            "carol": scored(ledger, "carol", "from sklearn.cluster import DBSCAN", "%time DBSCAN().fit(x)"),
            "dan": scored(ledger, "dan", "import trackml_tools", "trackml_tools.fit()", "import numpy as np"),
        }
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            yield url + PREFIX.rstrip("/"), ids
    finally:
        api.close()


def test_search_ranks_and_explains(service) -> None:
    url, ids = service
    with CoopClient(url) as client:  # public: no token
        page = client.people(["clustering:2", "tracking"])
    assert [row.person for row in page.rows] == ["carol", "dan"]
    carol = page.rows[0]
    assert [(t.skill, t.weight, t.percentile, t.counted) for t in carol.terms] == [
        ("clustering", 2.0, 100.0, True),
        ("tracking", 1.0, 0.0, False),
    ]
    assert carol.score == pytest.approx(66.667)
    (evidence,) = carol.terms[0].evidence
    assert (evidence.kind, evidence.submission, evidence.detail) == ("code", ids["carol"], "sklearn.cluster")
    assert page.rows[1].terms[1].evidence[0].detail == "trackml_tools"  # the operator's table


def test_filters_pages_and_notes(service) -> None:
    url, _ = service
    with CoopClient(url, "alice-token") as client:
        ranked = client.people(["rank:higgs"])
        assert [r.person for r in ranked.rows][:2] == ["alice", "bob"]
        assert (
            ranked.rows[0]
            .terms[0]
            .evidence[0]
            .detail.startswith("scored work; rank 1 of 4 (p1, private, main)")  # p1 shows its private board
        )
        everyone = client.people(limit=100)
        assert {r.person for r in everyone.rows} == {"alice", "bob", "carol", "dan"}
        first = client.people(["numpy"], limit=1)
        assert (first.total, [r.person for r in first.rows]) == (1, ["dan"])
        assert client.people(["numpy"], challenges=["nope"]).rows == []
        assert client.people(["numpy"], since="2024-01-01T00:00:00").total == 1  # no zone: UTC
        assert client.people(["numpy"], since="2999-01-01T00:00:00+02:00").total == 0
        unknown = client.people(["telepathy:3"])
        assert unknown.rows == [] and "telepathy" in unknown.notes[0]
        for bad in ({"skills": ["numpy:11"]}, {"skills": ["numpy=x"]}, {"limit": 101}, {"offset": -1}):
            skills = bad.pop("skills", None)
            with pytest.raises(CoopClientError) as refused:
                client.people(skills, **bad)
            assert refused.value.status == 422


def test_skills_lists_the_table_and_holders(service) -> None:
    url, _ = service
    skills = CoopClient(url).skills()
    assert skills.table["sklearn.cluster"] == "clustering"
    assert skills.table["trackml_tools"] == "tracking"
    counts = {s.skill: s.people for s in skills.skills}
    assert counts["clustering"] == 1 and counts["deep-learning"] == 0
    assert counts["rank:higgs"] == 4


def test_a_bad_token_is_refused_even_here(service) -> None:
    url, _ = service
    assert httpx.get(f"{url}/api/people", headers={"Authorization": "token nope"}).status_code == 401
