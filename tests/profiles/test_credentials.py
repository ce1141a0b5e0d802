"""The instance's key ring on disk, and Open Badges credentials signed and checked rule by rule
(real Ed25519 keys and joserfc; no service)."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from scorer.exceptions import (
    CredentialExpired,
    CredentialReplayed,
    CredentialTampered,
    ForeignSubject,
    MalformedCredential,
    UntrustedIssuer,
)
from scorer.ledger.credentials import LinkView
from scorer.profiles.credentials import (
    EarnedReward,
    code_hash,
    credential_claims,
    link_subject,
    reward_badge,
    sign,
)
from scorer.profiles.keys import key_path, load_keys, rotate_keys
from scorer.profiles.verify import check_replay, check_subject, verify

ISSUER = "https://a.example.org/services/coop"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
CODE = "a-link-code"


def test_key_made_once_mode_0600_and_rotation_keeps_old_public_keys(tmp_path):
    first = load_keys(tmp_path)
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert load_keys(tmp_path).kid == first.kid  # read back, not made again
    key_path(tmp_path).chmod(0o644)  # e.g. restored from a backup
    assert load_keys(tmp_path).kid == first.kid
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    rotated = rotate_keys(tmp_path)
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert rotated.kid != first.kid
    assert [k["kid"] for k in rotated.jwks()["keys"]] == [rotated.kid, first.kid]
    assert all("d" not in k for k in rotated.jwks()["keys"])  # public keys only
    stored = json.loads(key_path(tmp_path).read_text())
    assert "d" in stored["current"] and all("d" not in k for k in stored["retired"])
    # a credential signed before the rotation still verifies against the published keys
    token = sign(claims(), first.current)
    assert verify(token, rotated.jwks(), trusted=[ISSUER], now=NOW).credential.issued_to == "alice"


def reward() -> EarnedReward:
    return EarnedReward(
        7, "trackml", "TrackML", "p1", "score-threshold", "10 points the first time score ≥ 0.9",
        Decimal("10.000000"), "points", 42, NOW - timedelta(days=3),
    )  # fmt: skip


def claims(**changes: object) -> dict:
    badge = reward_badge(reward(), ["clustering", "numpy"], ISSUER, "alice")
    made = credential_claims(
        badge, issuer=ISSUER, person="alice", subject=link_subject(CODE), now=NOW - timedelta(days=1), days=30
    )
    made.update(changes)
    return made


@pytest.fixture
def key() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


def jwks(key: OKPKey) -> dict:
    return {"keys": [{**key.as_dict(private=False), "kid": key.thumbprint()}]}


def test_an_open_badge_with_alignment_evidence_and_registered_claims(key):
    checked = verify(sign(claims(), key), jwks(key), trusted=[ISSUER + "/"], now=NOW)
    vc = checked.credential.payload["vc"]
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["issuer"]["id"] == ISSUER
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Achievement"
    assert achievement["criteria"]["narrative"] == "10 points the first time score ≥ 0.9"
    assert [(a["targetName"], a["targetUrl"]) for a in achievement["alignment"]] == [
        ("clustering", f"{ISSUER}/api/people/search?skill=clustering"),
        ("numpy", f"{ISSUER}/api/people/search?skill=numpy"),
    ]
    assert vc["evidence"][0]["id"] == f"{ISSUER}/api/submissions/42"
    assert checked.credential.skills == ("clustering", "numpy")
    assert checked.credential.kind == "achievement"
    assert checked.subject == link_subject(CODE) == vc["credentialSubject"]["id"]
    assert checked.link_hash == code_hash(CODE)
    assert checked.credential.jti == vc["id"]
    assert checked.credential.expires_at == NOW + timedelta(days=29)


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["vc"]["credentialSubject"]["achievement"]["name"] = "first place"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def test_each_rule_refuses_with_its_own_code(key):
    other = OKPKey.generate_key("Ed25519")
    refusals = [
        (tampered(sign(claims(), key)), CredentialTampered, "credential-tampered"),
        # another key under the issuer's kid: the published key does not verify it
        (sign_as(claims(), other, key.thumbprint()), CredentialTampered, "credential-tampered"),
        (sign(claims(), other), CredentialTampered, "credential-tampered"),  # a kid not published
        (sign(claims(iss="https://b.example.org"), key), UntrustedIssuer, "untrusted-issuer"),
        (sign(claims(exp=int((NOW - timedelta(seconds=1)).timestamp())), key), CredentialExpired, None),
        (sign(claims(nbf=int((NOW + timedelta(hours=1)).timestamp())), key), CredentialExpired, None),
        ("not.a-jwt", MalformedCredential, "malformed-credential"),
        (sign(claims(vc={"type": ["VerifiableCredential"]}), key), MalformedCredential, None),
    ]
    for token, error, code in refusals:
        with pytest.raises(error) as caught:
            verify(token, jwks(key), trusted=[ISSUER], now=NOW)
        assert code is None or caught.value.code == code


def sign_as(values: dict, key: OKPKey, kid: str) -> str:
    return jwt.encode({"alg": "Ed25519", "typ": "JWT", "kid": kid}, values, key, algorithms=["Ed25519"])


def test_subject_binding_and_replay(key):
    checked = verify(sign(claims(), key), jwks(key), trusted=[ISSUER], now=NOW)
    mine = LinkView("alice", NOW, None, None)
    check_subject(checked, mine, "alice")
    with pytest.raises(ForeignSubject, match="someone else"):
        check_subject(checked, mine, "bob")
    with pytest.raises(ForeignSubject, match="does not name a link code"):
        check_subject(checked, None, "alice")
    with pytest.raises(ForeignSubject, match="expired"):
        check_subject(checked, LinkView("alice", NOW - timedelta(days=2), None, None), "alice")
    with pytest.raises(ForeignSubject, match="links mallory"):
        check_subject(checked, LinkView("alice", NOW, ISSUER, "mallory"), "alice")
    check_subject(checked, LinkView("alice", NOW, ISSUER, "alice"), "alice")
    check_replay(checked, set())
    with pytest.raises(CredentialReplayed) as caught:
        check_replay(checked, {(ISSUER, checked.credential.jti)})
    assert caught.value.http_status == 409
    badge = reward_badge(reward(), [], ISSUER, "alice")
    unlinked = credential_claims(
        badge, issuer=ISSUER, person="alice", subject=f"{ISSUER}/api/people/alice", now=NOW, days=1
    )
    profile = verify(sign(unlinked, key), jwks(key), trusted=[ISSUER], now=NOW)
    assert profile.link_hash is None
    with pytest.raises(ForeignSubject):
        check_subject(profile, None, "alice")
    with pytest.raises(MalformedCredential):  # the JWT's sub and the credential's subject differ
        verify(sign(claims(sub=f"{ISSUER}/api/people/alice"), key), jwks(key), trusted=[ISSUER], now=NOW)
