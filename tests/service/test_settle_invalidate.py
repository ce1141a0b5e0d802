"""Settling a phase and invalidating a submission through the real service (uvicorn) with the
typed client: organisers only, each once (409 naming the first), bad input refused clearly, and
both described in OpenAPI with their response models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from coop_client.client import CoopClient, CoopClientError
from scorer.ledger import rewards
from scorer.service.app import create_app
from tests.rewards_admin import Served, served_challenge
from tests.service.conftest import PREFIX, TOKENS, running


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Served, str]]:
    served = served_challenge(tmp_path)
    try:
        with running(create_app(served.api, TOKENS, prefix=PREFIX)) as url:
            yield served, url + PREFIX.rstrip("/")
    finally:
        served.api.close()


def refused(call) -> CoopClientError:
    with pytest.raises(CoopClientError) as caught:
        call()
    return caught.value


def test_only_organisers_settle_and_invalidate(service):
    served, url = service
    alice = served.submit("alice", 0.15)
    for path, body in (
        (f"/api/challenges/{served.cid}/organise/settle", {"phase": "phase-1"}),
        (f"/api/organise/submissions/{alice}/invalidate", {"reason": "exploit"}),
    ):
        assert httpx.post(url + path, json=body).status_code == 401
        denied = httpx.post(url + path, json=body, headers={"Authorization": "token alice-token"})
        assert denied.status_code == 403 and "custom:coop:organise" in denied.json()["error"]
    with served.api.sessions() as session:
        assert len(rewards.history(session, served.cid)) == 1  # alice's live grant, nothing more
    with CoopClient(url, "org-token") as olga:
        assert olga.audit(served.cid) == []


def test_an_organiser_invalidates_once(service):
    served, url = service
    alice = served.submit("alice", 0.15)
    bob = served.submit("bob", 0.18)
    with CoopClient(url, "org-token") as olga, CoopClient(url) as anyone:
        done = olga.invalidate(alice, "reads the answer key")
        assert (done.submission, done.person, done.actor, done.reason) == (
            alice,
            "alice",
            "olga",
            "reads the answer key",
        )
        assert len(done.compensated) == 1
        assert [row.person for row in anyone.leaderboard(served.cid, "phase-1", "main").rows] == ["bob"]
        assert [(b.person, b.amount) for b in anyone.balances(served.cid)] == [("alice", 0), ("bob", 10)]
        again = refused(lambda: olga.invalidate(alice, "again"))
        assert again.status == 409 and "invalidated already" in again.message and "by olga" in again.message
        empty = refused(lambda: olga.invalidate(bob, "   "))
        assert empty.status == 400 and "reason is empty" in empty.message
        unknown = refused(lambda: olga.invalidate(999, "exploit"))
        assert unknown.status == 404 and "no submission 999" in unknown.message
        assert [(e.action, e.detail["submission"]) for e in olga.audit(served.cid)] == [("invalidate", alice)]


def test_an_organiser_settles_once(service):
    served, url = service
    served.submit("alice", 0.15, private_rmse=0.12)
    served.submit("bob", 0.18, private_rmse=0.10)
    with CoopClient(url, "org-token") as olga:
        done = olga.settle(served.cid, "phase-1")
        assert (done.phase, done.actor, done.grants, done.people, done.totals) == (
            "phase-1",
            "olga",
            2,
            2,
            {"points": 30},
        )
        assert (done.phase_ended, done.failures) == (False, [])
        again = refused(lambda: olga.settle(served.cid, "phase-1"))
        assert again.status == 409 and f"settlement {done.id}" in again.message and "by olga" in again.message
        unknown = refused(lambda: olga.settle(served.cid, "phase-9"))
        assert unknown.status == 404 and "phase-9" in unknown.message
        assert refused(lambda: olga.settle("nope", "phase-1")).status == 404
        assert [e.action for e in olga.audit(served.cid)] == ["settle"]


def test_both_routes_are_documented_with_their_models(service):
    _served, url = service
    paths = httpx.get(url + "/openapi.json").json()["paths"]
    root = PREFIX.rstrip("/")
    settle = paths[f"{root}/api/challenges/{{challenge_id}}/organise/settle"]["post"]
    invalidate = paths[f"{root}/api/organise/submissions/{{submission_id}}/invalidate"]["post"]
    for operation, model in ((settle, "SettlementOut"), (invalidate, "InvalidationOut")):
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model}"}
        assert {"403", "409"} <= set(operation["responses"])
        assert operation["description"]
    assert "open" in settle["description"]
