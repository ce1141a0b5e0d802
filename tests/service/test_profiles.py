"""Profiles for real: uvicorn over a ledger on SQLite and on PostgreSQL, read and edited with the
typed client and with raw HTTP (hidden profiles, who may edit, bad input, escaping, 10k pages).

The ledger is :mod:`tests.service.rewards_ledger`'s (alice and bob in ``higgs``; bob likes
alice's p1 submission) plus dan's 10,000 submissions in p2, imported in bulk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest

from coop_client.client import CoopClient
from coop_client.models import ProfileIn
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import credentials, store
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.profiles.profile import MAX_PAGE
from scorer.profiles.read import FIRST_PAGE
from scorer.service.app import create_app
from scorer.service.auth import ORGANISE, SUBMIT, Identity, StaticTokens
from tests.ledger.ledger_helpers import END, START, sha
from tests.pg import schema_url
from tests.service.conftest import PREFIX, running
from tests.service.rewards_ledger import PRIVATE_VALUE, Rewarded, reward

TOKENS = StaticTokens(
    {
        "alice-token": Identity("alice", frozenset({SUBMIT})),
        "bob-token": Identity("bob", frozenset({SUBMIT})),
        "carol-token": Identity("carol", frozenset({SUBMIT})),
        "erin-token": Identity("erin", frozenset({SUBMIT})),
        "org-token": Identity("olga", frozenset({SUBMIT, ORGANISE}), frozenset({"organisers"})),
    }
)
MANY = 10_000
IMPORTED = credentials.NewCredential(
    issuer="https://other.example.org",
    jti="urn:uuid:1",
    issued_to="alice-there",
    kind="achievement",
    name="<b>Fast</b> tracker",
    skills=("clustering",),
    evidence_url="https://other.example.org/api/submissions/7",
    payload={},
    token="header.payload.signature",
    issued_at=START,
    expires_at=END + timedelta(days=10_000),
)


#: httpx's 5 s default failed a request on a busy shared machine; these tests check answers, not speed.
TIMEOUT = 120


@dataclass
class Service:
    url: str
    data: Rewarded
    dan_ids: list[int]

    def client(self, who: str | None = None) -> CoopClient:
        return CoopClient(self.url, f"{who}-token" if who else None)

    def put(self, who: str | None, body: dict) -> httpx.Response:
        headers = {"Authorization": f"token {who}-token"} if who else {}
        return httpx.put(f"{self.url}/api/me/profile", json=body, headers=headers, timeout=TIMEOUT)

    def get(self, path: str, who: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"token {who}-token"} if who else {}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=TIMEOUT)


def dan_records() -> list[ScoredRecord]:
    return [
        ScoredRecord(
            "dan",
            sha(100_000 + n),
            END + timedelta(minutes=n),
            {"accuracy": 0.5 + n / (10 * MANY), "loss": 1.0},
            {"accuracy": 0.4, "loss": 1.0},
            run_time=1.0,
            peak_memory=10.0,
            notebook_path="solutions/dan/main.ipynb",
        )
        for n in range(MANY)
    ]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with ExitStack() as stack:
        database = (
            {} if request.param == "sqlite" else {"db_url": stack.enter_context(schema_url("profiles"))}
        )
        home = tmp_path_factory.mktemp("profiles") / "home"
        api = CoopAPI(ScorerSettings(home=str(home), **database))
        stack.callback(api.close)
        data = reward(api.sessions)
        api.like(data.alice, "bob")
        with api.sessions.begin() as session:
            # no repository to read credit from (see tests/profiles/test_profile_credit.py), and
            # no network either: a local path that does not exist
            store.upsert_challenge(session, data.spec, str(home.parent / "absent.git"))
            dan_ids = import_scored(session, "higgs", "p2", dan_records())
            credentials.store_imported(session, "alice", [IMPORTED])
        url = stack.enter_context(running(create_app(api, TOKENS, prefix=PREFIX)))
        yield Service(url + PREFIX.rstrip("/"), data, dan_ids)


def test_a_profile_shows_the_whole_history(service: Service):
    data = service.data
    with service.client() as anonymous:
        alice = anonymous.profile("alice")
    assert (alice.person, alice.display_name, alice.hidden, alice.links) == ("alice", "alice", False, [])
    assert [(j.challenge, j.title, j.phase, j.submissions) for j in alice.joined] == [
        ("higgs", "Higgs boson", "p1", 1),
        ("higgs", "Higgs boson", "p2", 1),
    ]
    page = alice.submissions
    assert (page.total, page.offset, page.next_offset) == (2, 0, None)
    assert [(s.id, s.status, s.private) for s in page.submissions] == [
        (data.alice_closed, "scored", None),  # p2 never shows private scores but to organisers
        (data.alice, "scored", {"accuracy": 0.9, "loss": 1.0}),  # p1 shows them since its end
    ]
    assert [(r.phase, r.leaderboard, r.split, r.rank, r.of, r.delta) for r in alice.ranks] == [
        ("p1", "main", "public", 1, 2, None),
        ("p1", "main", "private", 1, 2, 0),
        ("p1", "latest", "public", 1, 2, None),
        ("p1", "latest", "private", 1, 2, 0),
        ("p2", "main", "public", 1, 2, None),
    ]
    assert [(r.rewarder, r.amount) for r in alice.rewards] == [
        ("score-threshold", 10),
        ("rank-prize", 300),
        ("peer-likes", 5),
    ]
    prize = alice.rewards[1]
    assert prize.evidence_hidden and str(PRIVATE_VALUE) not in prize.model_dump_json()
    assert [(b.challenge, b.unit, b.amount) for b in alice.balances] == [("higgs", "points", 315)]
    assert [r.rewarder for r in alice.achievements] == ["score-threshold"]
    assert (alice.likes_given, alice.likes_received) == ([], 1)
    assert [(s.skill, s.percentile, [e.kind for e in s.evidence]) for s in alice.skills] == [
        ("clustering", 100.0, ["imported"]),  # from the credential another instance issued
        ("rank:higgs", 100.0, ["rank"]),
    ]
    [imported] = alice.credentials
    assert (imported.issuer, imported.issued_to, imported.name, imported.skills) == (
        "https://other.example.org",
        "alice-there",
        "<b>Fast</b> tracker",  # data; shown as text wherever it is shown
        ["clustering"],
    )
    with service.client() as anonymous:
        bob = anonymous.profile("bob")
    assert bob.likes_given == [data.alice]
    assert bob.credentials == [] and [s.skill for s in bob.skills] == ["rank:higgs"]
    assert [r.rewarder for r in bob.achievements] == []  # his grant was taken back
    assert [(r.phase, r.split, r.rank, r.delta) for r in bob.ranks if r.leaderboard == "main"] == [
        ("p1", "public", 2, None),
        ("p1", "private", 2, 0),
    ]


def test_organisers_see_private_scores_before_they_show(service: Service):
    with service.client("org") as organiser:
        alice = organiser.profile("alice")
    assert alice.submissions.submissions[0].private == {"accuracy": PRIVATE_VALUE, "loss": 1.0}
    assert ("p2", "main", "private", 1) in [(r.phase, r.leaderboard, r.split, r.rank) for r in alice.ranks]
    assert not alice.rewards[1].evidence_hidden


def test_a_person_with_no_submissions(service: Service):
    with service.client("carol") as carol, service.client() as anonymous:
        carol.edit_profile(ProfileIn(display_name="Carol", affiliation="CERN"))
        found = anonymous.profile("carol")
    assert (found.display_name, found.affiliation) == ("Carol", "CERN")
    assert (found.joined, found.ranks, found.rewards, found.credit, found.achievements) == (
        [],
        [],
        [],
        [],
        [],
    )
    assert (found.submissions.total, found.submissions.submissions, found.submissions.next_offset) == (
        0,
        [],
        None,
    )
    assert (found.likes_given, found.likes_received, found.balances) == ([], 0, [])


def test_an_unknown_person_is_a_404(service: Service):
    for path in ("/api/people/nobody", "/api/people/nobody/submissions"):
        response = service.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "no profile of 'nobody'", "code": "unknown-person"}


def test_ten_thousand_submissions_are_paged(service: Service):
    newest_first = service.dan_ids[::-1]
    with service.client() as anonymous:
        dan = anonymous.profile("dan")
        assert (dan.submissions.total, dan.submissions.next_offset) == (MANY, FIRST_PAGE)
        assert [s.id for s in dan.submissions.submissions] == newest_first[:FIRST_PAGE]
        assert all(s.private is None for s in dan.submissions.submissions)  # p2: never shown
        middle = anonymous.profile_submissions("dan", offset=4321, limit=MAX_PAGE)
        last = anonymous.profile_submissions("dan", offset=MANY - 7, limit=MAX_PAGE)
        beyond = anonymous.profile_submissions("dan", offset=MANY, limit=10)
    assert [s.id for s in middle.submissions] == newest_first[4321 : 4321 + MAX_PAGE]
    assert middle.next_offset == 4321 + MAX_PAGE
    assert [s.id for s in last.submissions] == newest_first[-7:] and last.next_offset is None
    assert (beyond.submissions, beyond.next_offset, beyond.total) == ([], None, MANY)
    assert [(j.phase, j.submissions) for j in dan.joined] == [("p2", MANY)]
    too_many = service.get(f"/api/people/dan/submissions?limit={MAX_PAGE + 1}")
    assert too_many.status_code == 422 and "limit" in too_many.json()["error"]
    assert service.get("/api/people/dan/submissions?offset=-1").status_code == 422


def test_a_hidden_profile_is_a_404_to_others_only(service: Service):
    assert service.put("erin", {"display_name": "Erin", "hidden": True}).status_code == 200
    for who in (None, "bob"):
        for path in ("/api/people/erin", "/api/people/erin/submissions"):
            response = service.get(path, who)
            assert response.status_code == 404, (who, path)
            assert response.json() == {"error": "no profile of 'erin'", "code": "unknown-person"}
    for who in ("erin", "org"):
        shown = service.get("/api/people/erin", who)
        assert shown.status_code == 200 and shown.json()["hidden"] is True
    assert service.put("erin", {"display_name": "Erin"}).status_code == 200
    assert service.get("/api/people/erin").json()["display_name"] == "Erin"


def test_a_hidden_person_and_organisers_still_see_their_skills_search_never_does(service: Service):
    """Hidden, bob is out of the skill index and the search; his own profile and an organiser's
    view keep his skills with their evidence, each percentile among the visible holders plus
    him: exactly what his public profile showed before he hid it."""

    def holders(skill: str) -> int:
        counts = service.get("/api/skills").json()["skills"]
        return next(row["people"] for row in counts if row["skill"] == skill)

    def found(skill: str) -> list[str]:
        return [row["person"] for row in service.get(f"/api/people?skill={skill}").json()["rows"]]

    public = service.get("/api/people/bob").json()["skills"]
    assert public and all(skill["evidence"] for skill in public)
    skill = public[0]["skill"]
    before = holders(skill)
    assert "bob" in found(skill)
    assert service.put("bob", {"hidden": True}).status_code == 200
    try:
        for who in ("bob", "org"):
            shown = service.get("/api/people/bob", who)
            assert shown.status_code == 200 and shown.json()["hidden"] is True
            assert shown.json()["skills"] == public, who
        for who in (None, "alice"):
            assert service.get("/api/people/bob", who).status_code == 404
        assert holders(skill) == before - 1
        assert "bob" not in found(skill)
    finally:
        assert service.put("bob", {}).status_code == 200
    assert service.get("/api/people/bob").json()["skills"] == public


def test_nobody_edits_another_persons_profile(service: Service):
    assert service.put(None, {"display_name": "Mallory"}).status_code == 401
    url = f"{service.url}/api/people/alice"
    assert (
        httpx.put(
            url, json={"display_name": "Mallory"}, headers={"Authorization": "token bob-token"}
        ).status_code
        == 405
    )
    changed = service.put("bob", {"display_name": "Bob B."})
    assert changed.status_code == 200 and changed.json()["person"] == "bob"
    assert service.get("/api/people/alice").json()["display_name"] == "alice"
    assert service.get("/api/people/bob").json()["display_name"] == "Bob B."


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"display_name": "x" * 101}, "display_name: String should have at most 100 characters"),
        ({"affiliation": "x" * 201}, "affiliation: String should have at most 200 characters"),
        (
            {"orcid": "0000-0002-1825-0098"},
            "invalid ORCID iD '0000-0002-1825-0098': the check character is 8",
        ),
        ({"orcid": "1234"}, "invalid ORCID iD '1234': expected four groups"),
        ({"links": ["javascript:alert(1)"]}, "a link must be an http(s) URL"),
        ({"links": ["ftp://example.org/x"]}, "a link must be an http(s) URL"),
        ({"links": ["https://"]}, "a link must be an http(s) URL"),
        ({"links": ["https://example.org/" + "x" * 500]}, "a link must be an http(s) URL of at most 500"),
        ({"links": [f"https://example.org/{n}" for n in range(11)]}, "links: List should have at most 10"),
        ({"person": "alice"}, "person: Extra inputs are not permitted"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(service: Service, body: dict, words: str):
    assert service.put("alice", {"affiliation": "Before"}).status_code == 200
    refused = service.put("alice", body)
    assert refused.status_code == 422 and words in refused.json()["error"], refused.json()
    assert service.get("/api/people/alice").json()["affiliation"] == "Before"


def test_a_valid_orcid_and_links_are_kept(service: Service):
    body = {
        "orcid": "https://orcid.org/0000-0002-1694-233x",
        "links": ["https://example.org/a", "http://b.example"],
    }
    saved = service.put("alice", body).json()
    assert (saved["orcid"], saved["links"]) == ("0000-0002-1694-233X", body["links"])


def test_markup_comes_back_as_data(service: Service):
    name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert service.put("carol", {"display_name": name}).status_code == 200
    response = service.get("/api/people/carol")
    assert response.headers["content-type"] == "application/json"
    assert response.json()["display_name"] == name  # JSON data; the widgets escape it when they show it


def test_the_routes_are_documented(service: Service):
    paths = httpx.get(f"{service.url}/openapi.json").json()["paths"]
    base = PREFIX.rstrip("/")
    assert set(paths[f"{base}/api/people/{{name}}"]) == {"get"}
    assert set(paths[f"{base}/api/me/profile"]) == {"put"}
    put = paths[f"{base}/api/me/profile"]["put"]
    assert {"401", "422"} <= set(put["responses"])
    page = paths[f"{base}/api/people/{{name}}/submissions"]["get"]
    assert {p["name"] for p in page["parameters"]} == {"name", "offset", "limit"}
