"""A person's achievements, rewards and credit as Open Badges 3.0 ``OpenBadgeCredential``s in
the VC-JWT form, signed with the instance's Ed25519 key (pure: the data comes in, a JWT goes
out).

One credential per badge. The JWT's registered claims (``iss``, ``sub``, ``jti``, ``iat``,
``nbf``, ``exp``) repeat the credential's issuer, subject, id and validity; the credential is
the ``vc`` claim. The subject is a link (``urn:coop:link:<sha256 of a link code>``, see
:mod:`scorer.profiles.federation`) when the person asked another instance for one, else the
person's profile on this instance; ``identifier`` names their login here either way.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import quote

from joserfc import jwt
from joserfc.jwk import OKPKey

Kind = Literal["achievement", "reward", "credit"]

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
ALGORITHM = "Ed25519"
LINK_PREFIX = "urn:coop:link:"
#: Each kind as an Open Badges ``achievementType`` (``ext:`` marks an extension value).
ACHIEVEMENT_TYPES: dict[str, str] = {"achievement": "Achievement", "reward": "Award", "credit": "ext:Credit"}
KINDS = {value: kind for kind, value in ACHIEVEMENT_TYPES.items()}
#: Rewarders that pay for something shown once (the rest pay for progress, places and peers).
ACHIEVEMENT_REWARDERS = frozenset({"score-threshold", "limited-hardware", "beat-baseline", "organiser-check"})


@dataclass(frozen=True)
class Badge:
    """One thing a person earned here, in plain words, with where to check it."""

    kind: Kind
    key: str  # what it is on this instance, stable: "reward:17", "credit:higgs/p1/accuracy"
    challenge_id: str
    phase_id: str
    name: str
    description: str
    criteria: str
    skills: tuple[str, ...]
    evidence_url: str
    evidence_name: str
    earned_at: datetime


@dataclass(frozen=True)
class EarnedReward:
    """A grant still standing (no compensation took it back), with its rewarder in words."""

    id: int
    challenge_id: str
    challenge_title: str
    phase_id: str
    rewarder_type: str
    rule: str  # the rewarder in words, never a private value
    amount: Decimal
    unit: str
    submission_id: int | None
    at: datetime


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def link_subject(code: str) -> str:
    """The subject id that names whoever holds ``code`` on the instance that issued it."""
    return LINK_PREFIX + code_hash(code)


def reward_badge(reward: EarnedReward, skills: Sequence[str], base_url: str, person: str) -> Badge:
    """A standing grant as a badge; evidence: the submission it paid for, else the person's
    rewards in that phase."""
    if reward.submission_id is not None:
        evidence = f"{base_url}/api/submissions/{reward.submission_id}"
        evidence_name = f"submission {reward.submission_id}"
    else:
        evidence = (
            f"{base_url}/api/challenges/{quote(reward.challenge_id)}/rewards"
            f"?phase={quote(reward.phase_id)}&person={quote(person)}"
        )
        evidence_name = f"rewards of {person} in {reward.challenge_id}/{reward.phase_id}"
    kind: Kind = "achievement" if reward.rewarder_type in ACHIEVEMENT_REWARDERS else "reward"
    amount = f"{reward.amount.normalize():f} {reward.unit}"
    return Badge(
        kind=kind,
        key=f"reward:{reward.id}",
        challenge_id=reward.challenge_id,
        phase_id=reward.phase_id,
        name=f"{reward.rewarder_type} in {reward.challenge_title} ({reward.phase_id})",
        description=f"{amount} from the {reward.rewarder_type} rewarder of phase {reward.phase_id}",
        criteria=reward.rule,
        skills=tuple(skills),
        evidence_url=evidence,
        evidence_name=evidence_name,
        earned_at=reward.at,
    )


def credit_badge(
    challenge_id: str,
    challenge_title: str,
    phase_id: str,
    measure: str,
    credit: float,
    skills: Sequence[str],
    base_url: str,
    earned_at: datetime,
) -> Badge:
    """A person's credit in a phase (public split) as a badge; evidence: the phase's credit table."""
    return Badge(
        kind="credit",
        key=f"credit:{challenge_id}/{phase_id}/{measure}",
        challenge_id=challenge_id,
        phase_id=phase_id,
        name=f"credit in {challenge_title} ({phase_id})",
        description=f"{credit:.6g} of {measure} added to the best score by their commits",
        criteria="Credit: each commit's increment of the best score so far, shared among its authors.",
        skills=tuple(skills),
        evidence_url=f"{base_url}/api/challenges/{quote(challenge_id)}/phases/{quote(phase_id)}/credit",
        evidence_name=f"credit table of {challenge_id}/{phase_id}",
        earned_at=earned_at,
    )


def credential_claims(
    badge: Badge, *, issuer: str, person: str, subject: str, now: datetime, days: int, jti: str | None = None
) -> dict[str, Any]:
    """The JWT claims of ``badge``'s credential, valid ``days`` from ``now``."""
    credential_id = jti or f"urn:uuid:{uuid.uuid4()}"
    until = now + timedelta(days=days)
    slug = quote(badge.key, safe="")
    achievement = {
        "id": f"{issuer}/achievements/{slug}",
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPES[badge.kind],
        "name": badge.name,
        "description": badge.description,
        "criteria": {"narrative": badge.criteria},
        "alignment": [
            {
                "type": ["Alignment"],
                "targetName": skill,
                "targetUrl": f"{issuer}/api/people/search?skill={quote(skill)}",
                "targetType": "ext:Skill",
            }
            for skill in badge.skills
        ],
        "tag": [badge.challenge_id, badge.phase_id],
    }
    credential = {
        "@context": CONTEXT,
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": f"Coopetition at {issuer}", "url": issuer},
        "name": badge.name,
        "validFrom": _iso(now),
        "validUntil": _iso(until),
        "credentialSubject": {
            "id": subject,
            "type": ["AchievementSubject"],
            "identifier": [
                {"type": "IdentityObject", "identityType": "name", "hashed": False, "identityHash": person}
            ],
            "achievement": achievement,
        },
        "evidence": [{"id": badge.evidence_url, "type": ["Evidence"], "name": badge.evidence_name}],
    }
    return {
        "iss": issuer,
        "sub": subject,
        "jti": credential_id,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(until.timestamp()),
        "vc": credential,
    }


def sign(claims: Mapping[str, Any], key: OKPKey) -> str:
    """The compact JWS of ``claims`` with ``key`` (its thumbprint as ``kid``)."""
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key.thumbprint()}
    return jwt.encode(header, dict(claims), key, algorithms=[ALGORITHM])


def sign_all(
    badges: Iterable[Badge], key: OKPKey, *, issuer: str, person: str, subject: str, now: datetime, days: int
) -> list[str]:
    return [
        sign(credential_claims(b, issuer=issuer, person=person, subject=subject, now=now, days=days), key)
        for b in badges
    ]


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")
