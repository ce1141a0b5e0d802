"""Federation at the edges: link codes, exporting a person's credentials signed with this
instance's key, and importing another instance's for the logged-in person (its JWKS fetched
over HTTP(S), only from the instances in ``trusted_instances``).

Subject binding, in three steps: (1) on the importing instance B, the person asks for a link
code (:func:`new_link_code`; B keeps its SHA-256, bound to their login there, for a day);
(2) on the issuing instance A, they export with that code: every credential's subject is
``urn:coop:link:<sha256(code)>`` and its identifier their login at A; (3) on B, they import:
B accepts only credentials whose subject is a link code of the caller's, issued while the code
was valid, and links the code to that login at that issuer on the first import. The code never
leaves the person's hands in the clear (credentials carry its hash), a leaked credential is
useless to anyone else on B, and one code cannot link two logins.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from scorer.challenge.spec import Challenge
from scorer.exceptions import CoopError, IssuerUnreachable, LinkCodeTooSoon, RateLimited, TooManyLinkCodes
from scorer.facade import CoopAPI
from scorer.ledger import credentials as ledger
from scorer.ledger import queries, rewards
from scorer.ledger.credentials import ImportedView, LinkCodeTimes
from scorer.ledger.db import Session
from scorer.ledger.models import RewardKind
from scorer.profiles.credentials import (
    Badge,
    EarnedReward,
    code_hash,
    credit_badge,
    link_subject,
    reward_badge,
    sign_all,
)
from scorer.profiles.keys import load_keys
from scorer.profiles.verify import (
    Verified,
    check_issuer,
    check_replay,
    check_subject,
    claimed_issuer,
    verify,
)
from scorer.rewards.describe import describe

log = logging.getLogger("coop.federation")

LINK_CODE_LIFETIME = timedelta(days=1)
JWKS_PATH = "/.well-known/jwks.json"
#: Seconds to wait for an issuer's keys.
FETCH_TIMEOUT = 10.0


def new_link_code(api: CoopAPI, person: str, *, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh link code for ``person`` and until when credentials may be issued to it.
    Refused (nothing stored) with :class:`TooManyLinkCodes` while they hold
    ``link_codes_live`` unexpired codes, with :class:`LinkCodeTooSoon` within
    ``link_code_interval`` seconds of their last one; both say when to ask again."""
    moment = now or datetime.now(UTC)
    code = secrets.token_urlsafe(18)
    expires_at = moment + LINK_CODE_LIFETIME
    with api.sessions.begin() as session:
        live = ledger.live_link_codes(session, person, now=moment)
        _check_link_rate(live, api.settings.link_codes_live, api.settings.link_code_interval, moment)
        ledger.add_link_code(session, person, code_hash(code), expires_at, now=moment)
    return code, expires_at


def _check_link_rate(live: Sequence[LinkCodeTimes], most: int, interval: int, now: datetime) -> None:
    """When both limits are hit, the refusal names the one that reopens last."""
    refusals: list[RateLimited] = []
    if len(live) >= most:
        freed = sorted(c.expires_at for c in live)[len(live) - most]  # then one fewer than ``most``
        wait = _seconds(freed - now)
        refusals.append(
            TooManyLinkCodes(f"at most {most} unexpired link codes at once: ask again in {wait} s", wait)
        )
    if live and (opens := max(c.created_at for c in live) + timedelta(seconds=interval)) > now:
        wait = _seconds(opens - now)
        refusals.append(
            LinkCodeTooSoon(f"at most one link code every {interval} s: ask again in {wait} s", wait)
        )
    if refusals:
        raise max(refusals, key=lambda refusal: refusal.retry_after)


def _seconds(span: timedelta) -> int:
    """Whole seconds, rounded up: asking again after them is never too soon."""
    return max(1, math.ceil(span.total_seconds()))


def badges(api: CoopAPI, person: str) -> list[Badge]:
    """What ``person`` earned here: each standing grant, and their credit in each phase they
    scored in (public split, the phase's first board)."""
    base = api.settings.public_url
    found: list[Badge] = []
    with api.sessions() as session:
        specs = [queries.load_challenge(session, c) for c in queries.challenge_ids(session)]
        scored: dict[tuple[str, str], datetime] = {}  # each phase's newest scored submission
        for s in queries.submissions(session, username=person, status="scored", limit=None):
            scored.setdefault((s.challenge_id, s.phase_id), s.finished_at or s.created_at)
        history = {spec.id: rewards.history(session, spec.id, person=person) for spec in specs}
    for spec in specs:
        skills = spec.tags.skills
        for earned in _standing(spec, history[spec.id]):
            found.append(reward_badge(earned, skills, base, person))
        for phase in spec.phases:
            if (spec.id, phase.id) in scored:
                found.extend(_credit(api, spec, phase.id, person, scored[spec.id, phase.id]))
    return found


def export_credentials(
    api: CoopAPI, person: str, *, link_code: str | None = None, now: datetime | None = None
) -> list[str]:
    """``person``'s badges as signed VC-JWTs; named by ``link_code`` (another instance's) when
    given, else by their profile here."""
    moment = now or datetime.now(UTC)
    base = api.settings.public_url
    subject = link_subject(link_code) if link_code else f"{base}/api/people/{person}"
    key = load_keys(api.settings.home_path).current
    return sign_all(
        badges(api, person),
        key,
        issuer=base,
        person=person,
        subject=subject,
        now=moment,
        days=api.settings.credential_days,
    )


def fetch_jwks(issuer: str) -> Mapping[str, Any]:
    """The issuer's published keys, ``<issuer>/.well-known/jwks.json``."""
    url = issuer.rstrip("/") + JWKS_PATH
    try:
        response = httpx.get(url, timeout=FETCH_TIMEOUT, follow_redirects=True)
        response.raise_for_status()
        jwks = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise IssuerUnreachable(
            f"the keys of {issuer} cannot be fetched: try again later", f"GET {url}: {exc}"
        ) from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise IssuerUnreachable(f"{issuer} publishes no JWKS at {JWKS_PATH}")
    return jwks


def import_credentials(
    api: CoopAPI,
    person: str,
    tokens: Sequence[str],
    *,
    now: datetime | None = None,
) -> list[ImportedView]:
    """Verify every token, then record them all for ``person``, or none: the first refusal is
    raised (its position in the message) and nothing is stored."""
    moment = now or datetime.now(UTC)
    trusted = api.settings.trusted_instances
    keys: dict[str, Mapping[str, Any]] = {}
    checked: list[Verified] = []
    for number, token in enumerate(tokens, 1):
        try:
            issuer = claimed_issuer(token)
            check_issuer(issuer, trusted)  # before anything is fetched from it
            if issuer not in keys:
                keys[issuer] = fetch_jwks(issuer)
            checked.append(verify(token, keys[issuer], trusted=trusted, now=moment))
        except CoopError as exc:
            raise _numbered(exc, number, len(tokens)) from None
    with api.sessions.begin() as session:
        on_record = ledger.imported_already(
            session, [(v.credential.issuer, v.credential.jti) for v in checked]
        )
        for number, verified in enumerate(checked, 1):
            try:
                _check_and_link(session, verified, person, on_record)
            except CoopError as exc:
                raise _numbered(exc, number, len(tokens)) from None
            on_record.add((verified.credential.issuer, verified.credential.jti))
        return ledger.store_imported(session, person, [v.credential for v in checked], now=moment)


def _check_and_link(
    session: Session, verified: Verified, person: str, on_record: set[tuple[str, str]]
) -> None:
    link = ledger.link_code(session, verified.link_hash) if verified.link_hash else None
    check_subject(verified, link, person)
    check_replay(verified, on_record)
    if verified.link_hash:
        credential = verified.credential
        ledger.bind_link(session, verified.link_hash, credential.issuer, credential.issued_to)
        # a racing import may have linked the code first: it must be to this same login
        check_subject(verified, ledger.link_code(session, verified.link_hash), person)


def _standing(spec: Challenge, history: Sequence[rewards.RewardView]) -> list[EarnedReward]:
    taken_back = {r.compensates for r in history if r.kind == RewardKind.COMPENSATION}
    rules: dict[tuple[str, int], str] = {}
    for phase in spec.phases:
        for description in describe(spec, phase):
            rules[phase.id, description.index] = description.text
    return [
        EarnedReward(
            id=r.id,
            challenge_id=spec.id,
            challenge_title=spec.title,
            phase_id=r.phase_id,
            rewarder_type=r.rewarder_type,
            rule=rules.get((r.phase_id, r.rewarder_index), r.rewarder_type),
            amount=r.amount,
            unit=r.unit,
            submission_id=r.submission_id,
            at=r.at,
        )
        for r in history
        if r.kind == RewardKind.GRANT and r.id not in taken_back
    ]


def _credit(api: CoopAPI, spec: Challenge, phase_id: str, person: str, at: datetime) -> list[Badge]:
    try:
        table = api.credit_table(spec.id, phase_id)
    except CoopError as exc:  # e.g. the challenge's repository is gone: its rewards still export
        log.warning("no credit of %s in %s/%s to export: %s", person, spec.id, phase_id, exc.log_message)
        return []
    credit = table.credit.get(person, 0.0)
    if credit <= 0:
        return []
    return [
        credit_badge(
            spec.id,
            spec.title,
            phase_id,
            table.measure,
            credit,
            spec.tags.skills,
            api.settings.public_url,
            at,
        )
    ]


def _numbered(exc: CoopError, number: int, total: int) -> CoopError:
    if total > 1:
        exc.user_message = f"credential {number} of {total}: {exc.user_message}"
        exc.args = (exc.user_message,)
    return exc
