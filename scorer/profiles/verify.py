"""The rules a credential from another instance must pass before it is imported (pure: the
token, the issuer's published keys, the link and what is on record come in; a
:class:`Verified` credential or a specific :class:`~scorer.exceptions.CredentialRefused` goes
out).

In the order they are checked: the shape of a VC-JWT (:class:`MalformedCredential`), an
issuer on the allow-list (:class:`UntrustedIssuer`), the signature against the issuer's JWKS
(:class:`CredentialTampered`: a changed payload or another key), the validity window
(:class:`CredentialExpired`), the subject binding (:class:`ForeignSubject`) and replay
(:class:`CredentialReplayed`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, DecodeError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from scorer.exceptions import (
    CredentialExpired,
    CredentialReplayed,
    CredentialTampered,
    ForeignSubject,
    MalformedCredential,
    UntrustedIssuer,
)
from scorer.ledger.credentials import LinkView, NewCredential
from scorer.profiles.credentials import ALGORITHM, KINDS, LINK_PREFIX

#: A credential longer than this is refused unread (an Open Badge is a few kilobytes).
MAX_TOKEN = 64 * 1024


@dataclass(frozen=True)
class Verified:
    """A credential whose signature and validity were checked; its subject and novelty are not yet."""

    credential: NewCredential
    subject: str

    @property
    def link_hash(self) -> str | None:
        return self.subject.removeprefix(LINK_PREFIX) if self.subject.startswith(LINK_PREFIX) else None


def normalise_issuer(url: str) -> str:
    return url.strip().rstrip("/")


def claimed_issuer(token: str) -> str:
    """The ``iss`` a token claims, read before anything is verified (to choose whose keys to
    fetch): never trusted on its own."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN or token.count(".") != 2:
        raise MalformedCredential("a credential must be a compact JWT (three base64url parts)")
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        raise MalformedCredential("the credential's payload is not base64url JSON") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str) or not issuer:
        raise MalformedCredential("the credential names no issuer (iss)")
    return normalise_issuer(issuer)


def check_issuer(issuer: str, trusted: Sequence[str]) -> None:
    if normalise_issuer(issuer) not in {normalise_issuer(t) for t in trusted}:
        raise UntrustedIssuer(
            f"credentials from {issuer} are not accepted here: it is not a trusted instance"
        )


def verify(token: str, jwks: Mapping[str, Any], *, trusted: Sequence[str], now: datetime) -> Verified:
    """Shape, issuer, signature and validity of ``token`` against the issuer's ``jwks``."""
    issuer = claimed_issuer(token)
    check_issuer(issuer, trusted)
    try:
        keys = KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise CredentialTampered(f"{issuer} publishes no usable keys") from None
    try:
        decoded = jwt.decode(token, keys, algorithms=[ALGORITHM])
    except (BadSignatureError, InvalidKeyIdError):
        raise CredentialTampered(
            f"the credential's signature does not match {issuer}'s published keys: it was changed "
            "or signed with another key"
        ) from None
    except (DecodeError, JoseError, ValueError):
        raise MalformedCredential("the credential is not a signed JWT this instance can read") from None
    claims = decoded.claims  # the same bytes claimed_issuer read: the signed iss is the trusted one
    issued_at, expires_at = _window(claims, now)
    return Verified(_credential(claims, token, issuer, issued_at, expires_at), str(claims.get("sub") or ""))


def check_subject(verified: Verified, link: LinkView | None, caller: str) -> None:
    """The credential must name a link code of ``caller``'s, valid when it was issued, and once
    linked, only from the same login at the same issuer."""
    credential = verified.credential
    if verified.link_hash is None or link is None:
        raise ForeignSubject(
            "the credential does not name a link code of this instance: ask here for a link code "
            "and export your credentials with it"
        )
    if link.person != caller:
        raise ForeignSubject("the credential names someone else here")
    if credential.issued_at > link.expires_at:
        raise ForeignSubject("the credential was issued after its link code expired: ask for a new code")
    if link.issuer is not None and (link.issuer, link.issued_to) != (credential.issuer, credential.issued_to):
        raise ForeignSubject(
            f"this link code links {link.issued_to} at {link.issuer}; the credential is for "
            f"{credential.issued_to} at {credential.issuer}"
        )


def check_replay(verified: Verified, on_record: set[tuple[str, str]]) -> None:
    key = (verified.credential.issuer, verified.credential.jti)
    if key in on_record:
        raise CredentialReplayed(f"credential {key[1]} from {key[0]} was imported already")


def _window(claims: Mapping[str, Any], now: datetime) -> tuple[datetime, datetime]:
    times = {}
    for name in ("iat", "nbf", "exp"):
        value = claims.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise MalformedCredential(f"the credential has no valid {name} claim")
        times[name] = datetime.fromtimestamp(value, UTC)
    if times["exp"] <= now:
        raise CredentialExpired(f"the credential expired on {times['exp'].isoformat()}")
    if times["nbf"] > now:
        raise CredentialExpired(f"the credential is not valid before {times['nbf'].isoformat()}")
    return times["iat"], times["exp"]


def _credential(
    claims: Mapping[str, Any], token: str, issuer: str, issued_at: datetime, expires_at: datetime
) -> NewCredential:
    try:
        vc = claims["vc"]
        subject = vc["credentialSubject"]
        achievement = subject["achievement"]
        issued_to = next(
            str(i["identityHash"]) for i in subject.get("identifier", []) if i.get("identityType") == "name"
        )
        kind = KINDS[achievement["achievementType"]]
        if "OpenBadgeCredential" not in vc["type"] or subject.get("id") != claims.get("sub"):
            raise ValueError("not an OpenBadgeCredential about its sub")
        jti = str(claims["jti"])
        name = str(vc.get("name") or achievement["name"])[:255]
        skills = tuple(str(a["targetName"])[:100] for a in achievement.get("alignment", []))
        evidence = next((str(e["id"]) for e in vc.get("evidence", []) if "id" in e), "")
    except (KeyError, TypeError, ValueError, StopIteration, AttributeError):
        raise MalformedCredential("the credential is not an Open Badges 3.0 OpenBadgeCredential") from None
    if len(jti) > 255 or len(issued_to) > 255 or len(issuer) > 255:
        raise MalformedCredential("the credential's jti, subject or issuer is too long")
    return NewCredential(
        issuer=issuer,
        jti=jti,
        issued_to=issued_to,
        kind=kind,
        name=name,
        skills=skills,
        evidence_url=evidence,
        payload=dict(claims),
        token=token,
        issued_at=issued_at,
        expires_at=expires_at,
    )
