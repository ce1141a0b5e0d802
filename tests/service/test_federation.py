"""Federation for real: two instances of the service on loopback (uvicorn), each with its own
SQLite ledger and its own Ed25519 key, exchanging credentials over HTTP through the client.

Instance A issues (alice has a score-threshold achievement and a rank prize there, written
through the ledger's own functions); instance B trusts A only. alice asks B for a link code,
exports from A with it and imports into B. Every refusal leaves B's ledger as it was.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from coop_client.client import CoopClient, CoopClientError
from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import store
from scorer.ledger.credentials import imported_skills
from scorer.profiles.keys import key_path, load_keys, rotate_keys
from scorer.service.app import create_app
from tests.service import rewards_ledger
from tests.service.conftest import PREFIX, TOKENS, running

SKILLS = ["clustering", "numpy"]


@dataclass
class Instance:
    api: CoopAPI
    url: str  # the service's base URL, prefix included: its issuer id
    root: str  # scheme://host:port

    def client(self, token: str) -> CoopClient:
        return CoopClient(self.url, token)

    def imported(self, person: str = "alice") -> int:
        with self.client(f"{person}-token") as client:
            return len(client.imported_credentials())


@contextmanager
def instance(home: Path, trusted: list[str] | None = None) -> Iterator[Instance]:
    api = CoopAPI(ScorerSettings(home=str(home)))
    try:
        with running(create_app(api, TOKENS, prefix=PREFIX)) as root:
            url = root + PREFIX.rstrip("/")
            api.settings.public_url = url  # known once the port is
            api.settings.trusted_instances = trusted or []
            yield Instance(api, url, root)
    finally:
        api.close()


def tagged(spec: Challenge) -> Challenge:
    document = spec.model_dump(mode="json")
    document["tags"] = {"domain": ["particle-physics"], "skills": SKILLS}
    return Challenge.model_validate(document)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Instance, Instance]]:
    top = tmp_path_factory.mktemp("federation")
    with instance(top / "a") as a:
        rewarded = rewards_ledger.reward(a.api.sessions)
        with a.api.sessions.begin() as session:
            store.upsert_challenge(session, tagged(rewarded.spec), "https://git.example.org/higgs.git")
        with instance(top / "b", trusted=[a.url + "/"]) as b:
            b.api.settings.link_code_interval = 0  # alice asks B for a code per export, at once
            b.api.settings.link_codes_live = 100
            yield a, b


def export(a: Instance, b: Instance, person: str = "alice") -> list[str]:
    """``person`` asks B for a link code and exports from A with it."""
    with b.client(f"{person}-token") as client:
        code = client.link_code().code
    with a.client(f"{person}-token") as client:
        found = client.export_credentials(person, link=code)
    assert found.issuer == a.url
    return found.credentials


def refused(b: Instance, tokens: list[str], person: str = "alice") -> tuple[int, str, str]:
    """Import ``tokens`` as ``person``, expecting a refusal: its status, code and message."""
    before = b.imported(person)
    response = httpx.post(
        f"{b.url}/api/me/credentials",
        json={"credentials": tokens},
        headers={"Authorization": f"token {person}-token"},
    )
    assert b.imported(person) == before  # nothing stored
    body = response.json()
    return response.status_code, body["code"], body["error"]


def payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_valid_import_shows_up_marked_with_its_issuer_and_counts_in_search(pair):
    a, b = pair
    tokens = export(a, b)
    assert len(tokens) == 2  # the score-threshold achievement and the rank prize; bob's taken back
    vc = payload(tokens[0])["vc"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert [x["targetName"] for x in vc["credentialSubject"]["achievement"]["alignment"]] == SKILLS
    assert vc["evidence"][0]["id"].startswith(a.url + "/api/")
    with b.client("alice-token") as client:
        imported = client.import_credentials(tokens)
        assert [(c.issuer, c.issued_to) for c in imported] == [(a.url, "alice")] * 2
        assert {c.kind for c in imported} == {"achievement", "reward"}
        assert [c.name for c in client.imported_credentials()] == [c.name for c in imported]
        # on alice's profile there, each with its issuer; and in the people search, from elsewhere
        assert [(c.issuer, c.name) for c in client.profile("alice").credentials] == [
            (c.issuer, c.name) for c in imported
        ]
        [row] = client.people(["clustering"]).rows
        assert row.person == "alice"
        assert {(e.kind, e.detail) for e in row.terms[0].evidence} == {("imported", a.url)}
    with b.api.sessions() as session:
        assert sorted(imported_skills(session, now=datetime.now(UTC))) == sorted(
            [("alice", a.url, s) for s in SKILLS] * 2
        )
    # the same credentials again: replayed, nothing stored
    status, code, message = refused(b, tokens)
    assert (status, code) == (409, "credential-replayed")
    assert "credential 1 of 2" in message


def test_a_tampered_payload_is_refused(pair):
    a, b = pair
    header, body, signature = export(a, b)[0].split(".")
    claims = payload(f"{header}.{body}.{signature}")
    claims["vc"]["credentialSubject"]["achievement"]["name"] = "first place"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert refused(b, [f"{header}.{forged}.{signature}"])[:2] == (422, "credential-tampered")


def test_a_swapped_key_is_refused(pair):
    a, b = pair
    claims = payload(export(a, b)[0])
    mallory = OKPKey.generate_key("Ed25519")
    kid = load_keys(a.api.settings.home_path).kid  # A's kid, mallory's key
    token = jwt.encode({"alg": "Ed25519", "typ": "JWT", "kid": kid}, claims, mallory, algorithms=["Ed25519"])
    assert refused(b, [token])[:2] == (422, "credential-tampered")


def test_an_issuer_not_on_the_allow_list_is_refused(pair, tmp_path):
    _a, b = pair
    with instance(tmp_path / "c") as c:  # a real third instance, which B does not trust
        rewards_ledger.reward(c.api.sessions)
        tokens = export(c, b)
        assert payload(tokens[0])["iss"] == c.url
        status, code, message = refused(b, tokens)
    assert (status, code) == (403, "untrusted-issuer")
    assert c.url in message


def test_an_expired_credential_is_refused(pair):
    a, b = pair
    a.api.settings.credential_days = 0  # valid until the moment it is issued
    try:
        tokens = export(a, b)
    finally:
        a.api.settings.credential_days = 365
    assert refused(b, tokens)[:2] == (422, "credential-expired")


def test_a_credential_for_another_person_is_refused(pair):
    a, b = pair
    tokens = export(a, b)  # named by alice's link code on B
    status, code, message = refused(b, tokens, person="bob")
    assert (status, code) == (403, "foreign-subject")
    assert "someone else" in message
    with a.client("alice-token") as client:  # no link code at all: names alice's profile on A
        unlinked = client.export_credentials("alice").credentials
    assert refused(b, unlinked)[:2] == (403, "foreign-subject")


def test_one_bad_credential_refuses_the_whole_import(pair):
    a, b = pair
    good, second = export(a, b)
    status, code, message = refused(b, [good, second[:-4] + "AAAA"])
    assert (status, code) == (422, "credential-tampered")
    assert message.startswith("credential 2 of 2")


def test_only_the_person_exports_their_credentials(pair):
    a, _b = pair
    response = httpx.get(
        f"{a.url}/api/people/alice/credentials", headers={"Authorization": "token bob-token"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "own-credentials-only")
    assert httpx.get(f"{a.url}/api/people/alice/credentials").status_code == 401


def test_jwks_at_the_root_and_under_the_prefix_and_rotation_keeps_old_keys(pair):
    a, b = pair
    home = a.api.settings.home_path
    assert stat.S_IMODE(key_path(home).stat().st_mode) == 0o600
    before = httpx.get(f"{a.root}/.well-known/jwks.json").json()
    assert before == httpx.get(f"{a.url}/.well-known/jwks.json").json()
    assert all("d" not in key for key in before["keys"])
    tokens = export(a, b)  # signed with the key about to be rotated out
    rotated = rotate_keys(home)
    after = httpx.get(f"{a.url}/.well-known/jwks.json").json()
    assert [k["kid"] for k in after["keys"]] == [rotated.kid] + [k["kid"] for k in before["keys"]]
    assert stat.S_IMODE(key_path(home).stat().st_mode) == 0o600
    with b.client("alice-token") as client:
        assert len(client.import_credentials(tokens)) == 2  # the old key still verifies them
        fresh = export(a, b)
        assert payload(fresh[0])["iss"] == a.url
        assert len(client.import_credentials(fresh)) == 2  # and the new one signs


def test_link_codes_are_rate_limited_with_a_reason_and_retry_after(pair):
    """olga (nobody else asks for her codes) meets both limits of B, each a 429 with its own
    reason code and when to ask again; the typed client reports it too."""
    _a, b = pair
    settings = b.api.settings

    def ask() -> httpx.Response:
        return httpx.post(f"{b.url}/api/me/link-codes", headers={"Authorization": "token org-token"})

    def refusal(response: httpx.Response) -> tuple[int, str, int]:
        return response.status_code, response.json()["code"], int(response.headers["Retry-After"])

    settings.link_code_interval = 3600
    try:
        assert ask().status_code == 201
        status, code, retry = refusal(ask())
        assert (status, code) == (429, "link-code-too-soon") and 0 < retry <= 3600
        settings.link_code_interval, settings.link_codes_live = 0, 2
        assert ask().status_code == 201
        too_many = ask()
        status, code, retry = refusal(too_many)
        assert (status, code) == (429, "too-many-link-codes") and 3600 < retry <= 24 * 3600
        assert "at most 2 unexpired link codes at once" in too_many.json()["error"]
        with b.client("org-token") as client, pytest.raises(CoopClientError) as caught:
            client.link_code()
        assert caught.value.status == 429
    finally:
        settings.link_code_interval, settings.link_codes_live = 0, 100


def test_the_client_reports_a_refusal(pair):
    _a, b = pair
    with b.client("alice-token") as client, pytest.raises(CoopClientError) as caught:
        client.import_credentials(["not-a-jwt"])
    assert caught.value.status == 422


def NOW() -> datetime:
    return datetime.now(UTC)
