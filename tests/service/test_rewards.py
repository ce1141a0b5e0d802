"""The rewards routes for real: uvicorn over a ledger on SQLite and on PostgreSQL, read and
written with the typed client (history, balances, private evidence, rewarders in words, likes
and their refusals)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
import pytest

from coop_client.client import CoopClient, CoopClientError
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import ORGANISE, SUBMIT, Identity, StaticTokens
from tests.pg import schema_url
from tests.service.conftest import PREFIX, running
from tests.service.rewards_ledger import PRIVATE_VALUE, Rewarded, reward

TOKENS = StaticTokens(
    {
        "alice-token": Identity("alice", frozenset({SUBMIT})),
        "bob-token": Identity("bob", frozenset({SUBMIT})),
        "carol-token": Identity("carol", frozenset({SUBMIT})),
        "reader-token": Identity("reader", frozenset()),
        "org-token": Identity("olga", frozenset({SUBMIT, ORGANISE}), frozenset({"organisers"})),
    }
)


@dataclass
class Service:
    url: str
    data: Rewarded

    def client(self, who: str | None = None) -> CoopClient:
        return CoopClient(self.url, f"{who}-token" if who else None)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path) -> Iterator[Service]:
    with ExitStack() as stack:
        database = {} if request.param == "sqlite" else {"db_url": stack.enter_context(schema_url("rewards"))}
        api = CoopAPI(ScorerSettings(home=str(tmp_path / "home"), **database))
        stack.callback(api.close)
        data = reward(api.sessions)
        url = stack.enter_context(running(create_app(api, TOKENS, prefix=PREFIX)))
        yield Service(url + PREFIX.rstrip("/"), data)


def test_history_shows_grants_and_compensations_and_balances_are_sums(service: Service):
    with service.client() as anonymous:
        history = anonymous.rewards("higgs", phase="p1")
        balances = anonymous.balances("higgs")
    assert [(r.person, r.kind, r.amount) for r in history] == [
        ("alice", "grant", 10),
        ("bob", "grant", 10),
        ("bob", "compensation", -10),
    ]
    taken = history[2]
    assert (taken.compensates, taken.reason, taken.rule) == (service.data.taken_back, "rescore", None)
    assert (history[0].rule, history[0].evidence["values"], history[0].submission) == (
        "accuracy ≥ 0.9",
        {"accuracy": 0.9},
        service.data.alice,
    )
    assert [(b.person, b.unit, b.amount) for b in balances] == [
        ("alice", "points", 310),
        ("bob", "points", 0),
    ]


def test_filters_by_person_and_phase(service: Service):
    with service.client() as anonymous:
        assert [r.phase for r in anonymous.rewards("higgs", person="alice")] == ["p1", "p2"]
        assert [r.person for r in anonymous.rewards("higgs", phase="p2")] == ["alice"]
        assert anonymous.rewards("higgs", person="nobody") == []
        assert [(b.person, b.amount) for b in anonymous.balances("higgs", phase="p1", person="bob")] == [
            ("bob", 0)
        ]
        for call in (lambda: anonymous.rewards("higgs", phase="p9"), lambda: anonymous.balances("nope")):
            with pytest.raises(CoopClientError) as unknown:
                call()
            assert unknown.value.status == 404


def test_private_evidence_keeps_no_value_until_private_scores_are_visible(service: Service):
    with service.client() as anonymous, service.client("alice") as alice, service.client("org") as olga:
        for reader in (anonymous, alice):
            [prize] = reader.rewards("higgs", phase="p2")
            assert prize.evidence_hidden and prize.rule is None and prize.amount == 300
            assert "values" not in prize.evidence and prize.evidence["split"] == "private"
        raw = httpx.get(f"{service.url}/api/challenges/higgs/rewards", params={"phase": "p2"}).text
        assert str(PRIVATE_VALUE) not in raw
        [seen] = olga.rewards("higgs", phase="p2")
        assert not seen.evidence_hidden and seen.evidence["values"]["value"] == PRIVATE_VALUE
        [public] = anonymous.rewards("higgs", phase="p1", person="alice")
        assert not public.evidence_hidden  # p1's private scores are visible since its end


def test_a_submissions_rewards(service: Service):
    with service.client() as anonymous:
        [earned] = anonymous.submission_rewards(service.data.alice)
        assert (earned.amount, earned.rewarder) == (10, "score-threshold")
        assert [r.kind for r in anonymous.submission_rewards(service.data.bob)] == ["grant", "compensation"]
        assert anonymous.submission_rewards(service.data.bob_failed) == []
        with pytest.raises(CoopClientError) as unknown:
            anonymous.submission_rewards(9999)
        assert unknown.value.status == 404


def test_rewarders_in_words(service: Service):
    with service.client() as anonymous:
        described = anonymous.rewarders("higgs", "p1")
        assert anonymous.rewarders("higgs", "p2") == []
    assert [(r.index, r.type, r.moment, r.text) for r in described] == [
        (0, "score-threshold", "live", "10 points the first time accuracy ≥ 0.9"),
        (1, "peer-likes", "live", "5 points each time a submission's likes from others reach 1, 2"),
    ]


def test_like_and_unlike_are_idempotent_and_counted_on_the_leaderboard(service: Service):
    alices = service.data.alice
    with service.client("bob") as bob, service.client("carol") as carol, service.client() as anonymous:
        assert [bob.like(alices).likes for _ in range(2)] == [1, 1]
        assert carol.like(alices).model_dump() == {"submission": alices, "liked": True, "likes": 2}
        assert _likes(anonymous) == {"alice": 2, "bob": 0}
        assert bob.my_likes().submissions == [alices]
        assert bob.like_state(alices).model_dump() == {"submission": alices, "liked": True, "likes": 2}
        assert not bob.like_state(service.data.bob).liked
        assert [bob.unlike(alices).model_dump() for _ in range(2)] == [
            {"submission": alices, "liked": False, "likes": 1}
        ] * 2
        assert _likes(anonymous) == {"alice": 1, "bob": 0}  # the cached board shows the change
        assert bob.my_likes().submissions == []


def _likes(client: CoopClient) -> dict[str, int]:
    return {row.person: row.likes for row in client.leaderboard("higgs", "p1", "main").rows}


@pytest.mark.parametrize(
    ("who", "submission", "code", "words"),
    [
        ("alice", "alice", "own-submission", "your own submission"),
        ("alice", "bob_failed", "not-scored", "is failed: only scored submissions can be liked"),
        ("bob", "alice_closed", "code-closed", "solutions of phase 'p2' are not open yet"),
    ],
)
def test_likes_the_rules_refuse(service: Service, who: str, submission: str, code: str, words: str):
    target = getattr(service.data, submission)
    response = httpx.put(
        f"{service.url}/api/submissions/{target}/like", headers={"Authorization": f"token {who}-token"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == code and words in response.json()["error"]
    with service.client() as anonymous:
        assert _likes(anonymous) == {"alice": 0, "bob": 0}


def test_a_like_needs_a_participant(service: Service):
    url = f"{service.url}/api/submissions/{service.data.alice}/like"
    assert httpx.put(url).status_code == 401
    assert httpx.delete(url).status_code == 401
    refused = httpx.put(url, headers={"Authorization": "token reader-token"})
    assert refused.status_code == 403 and refused.json()["code"] == "missing-scope"
    assert httpx.get(f"{service.url}/api/me/likes").status_code == 401
    assert httpx.get(url).status_code == 401
    with service.client("bob") as bob:
        for call in (bob.like, bob.like_state):
            with pytest.raises(CoopClientError) as unknown:
                call(9999)
            assert unknown.value.status == 404


def test_the_routes_are_documented_with_their_models(service: Service):
    document = httpx.get(f"{service.url}/openapi.json").json()
    paths = document["paths"]
    like = paths[f"{PREFIX}api/submissions/{{submission_id}}/like".replace("//", "/")]
    assert set(like) == {"get", "put", "delete"}
    assert like["put"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/LikeOut"
    )
    assert {"401", "403", "404"} <= set(like["put"]["responses"])
    history = paths[f"{PREFIX}api/challenges/{{challenge_id}}/rewards".replace("//", "/")]["get"]
    assert history["responses"]["200"]["content"]["application/json"]["schema"]["items"]["$ref"].endswith(
        "/RewardOut"
    )
    assert {p["name"] for p in history["parameters"]} >= {"phase", "person"}


def test_a_like_judges_peer_likes_again(service: Service):
    alices = service.data.alice
    with service.client("bob") as bob, service.client("carol") as carol, service.client() as anonymous:
        bob.like(alices)
        earned = [r for r in anonymous.submission_rewards(alices) if r.rewarder == "peer-likes"]
        assert [(r.person, r.amount, r.rule) for r in earned] == [("alice", 5, "1 likes from others")]
        bob.like(alices)  # liked already: nothing new
        carol.like(alices)
        earned = [r for r in anonymous.submission_rewards(alices) if r.rewarder == "peer-likes"]
        assert [r.rule for r in earned] == ["1 likes from others", "2 likes from others"]
        assert {b.person: b.amount for b in anonymous.balances("higgs", phase="p1")}["alice"] == 20
