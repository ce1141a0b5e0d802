"""Forge mode: a signed push webhook from GitHub, GitLab or Gitea becomes queued submissions.

:func:`receive` takes one delivery through these steps:

1. the signature, checked against the secret of every registered challenge hosted on that forge
   (``webhook_secrets``, ``webhook_secrets_file``): none matches → 401, nothing stored;
2. the event: a ping, or any event but a push, is answered 202 "ignored" and not recorded (a
   replay of it is ignored again, with the same answer; forges' test deliveries leave no trace);
3. the payload (400 saying what is wrong) and the challenge whose secret signed it and whose
   ``forge`` section names the payload's repository (none: 202 "ignored", not recorded);
4. the delivery id: one already recorded is answered "already processed" with what it led to;
5. the pushed commit is fetched from the challenge's ``forge.repository`` (never from a URL in
   the payload) into ``<home>/forge/<challenge>.git``, whose refs are what the scorer has taken
   so far. The commits the push brings beyond them are recorded and queued exactly like a git
   push (:func:`scorer.ingest.push.queue_arrivals`), credited to the hub user of the forge login that
   pushed, and the delivery is recorded in the same transaction; then the ref moves to the
   pushed commit. The forge's branch protection is all that guards its repository, so the path
   rules of a hub push (:func:`scorer.ingest.policy.check_commit`) decide what is scored: a commit
   that changes organiser files, someone else's solutions (or adds a link or an oversized file)
   is recorded, but none of its notebooks is queued as the pusher's (:func:`held_to_the_rules`).
   A commit already recorded (the same push delivered under a new id, or pushed to a second
   branch) is never queued twice.

The challenge's ``repo_url`` is its forge repository: the scorer's mirror reads the commits from
the forge to score them. A push that moves the organiser ref registers the challenge again from
the forge (its spec may have changed), as a push to a served repository does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from coop_client.git import HEADS, ZERO_SHA, call, run
from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.exceptions import (
    CoopError,
    DuplicateDelivery,
    ForgeUnreachable,
    MalformedDelivery,
    WebhookSettingsError,
)
from scorer.facade import CoopAPI
from scorer.ingest.forges.base import ForgeWebhooks, PushEvent, hub_user
from scorer.ingest.hooks import Where, rules_of, scan
from scorer.ingest.policy import Pusher, check_commit
from scorer.ingest.push import Arrivals, PushLine, arrived, queue_arrivals, read_arrivals
from scorer.ingest.repo import file_lock
from scorer.ledger import queries
from scorer.ledger.deliveries import record_delivery, recorded_delivery

#: ``git fetch`` from a forge: never prompt for credentials; give up on a stalled transfer.
FETCH = ("-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=60", "fetch", "--quiet", "--no-tags")


class WebhookReceipt(BaseModel):
    """What a delivery led to: the webhook's answer, and the outcome recorded for it."""

    status: Literal["accepted", "ignored", "already processed"]
    forge: str
    reason: str = ""
    delivery: str | None = None
    challenge: str | None = None
    pusher: str | None = None  # the hub user credited
    commits: list[str] = []  # what the push brought beyond what the scorer had, oldest first
    submissions: list[int] = []  # queued, or rejected over a limit
    messages: list[str] = []  # what a git push would have printed as remote: lines


def receive(
    api: CoopAPI,
    forge: ForgeWebhooks,
    headers: Mapping[str, str],
    body: bytes,
    *,
    status_url: str = "",
    now: datetime | None = None,
) -> WebhookReceipt:
    """Take one delivery (``body``: the raw bytes the signature covers)."""
    admitted = admit(api, forge, headers, body)
    if isinstance(admitted, WebhookReceipt):
        return admitted
    challenge, push = admitted
    return take(api, challenge, push, now or datetime.now(UTC), status_url)


def admit(
    api: CoopAPI, forge: ForgeWebhooks, headers: Mapping[str, str], body: bytes
) -> tuple[Challenge, PushEvent] | WebhookReceipt:
    """Steps 1-4, which need neither the forge nor git: the challenge and push to take, or the
    answer to a delivery that is ignored or already processed."""
    hosted = hosted_challenges(api, forge.name)
    secrets = webhook_secrets(api.settings)
    signers = forge.signers(headers, body, {cid: secrets.get(cid, "") for cid in hosted})
    event = forge.event(headers)
    kind = forge.kind(event)
    if kind != "push":
        reason = (
            "ping: the webhook reaches the scorer" if kind == "ping" else f"{event!r} events are not taken"
        )
        return WebhookReceipt(status="ignored", forge=forge.name, reason=reason)
    push = forge.push_event(headers, body)
    challenge = next((hosted[cid] for cid in signers if _hosts(hosted[cid], push)), None)
    if challenge is None:
        return WebhookReceipt(
            status="ignored",
            forge=forge.name,
            delivery=push.delivery_id,
            reason=f"{push.full_name} is not the repository of a challenge with this webhook secret",
        )
    return processed(api, push) or (challenge, push)


def take(
    api: CoopAPI, challenge: Challenge, push: PushEvent, now: datetime, status_url: str
) -> WebhookReceipt:
    """Step 5, once per delivery (a lock per challenge, then the ledger's delivery record)."""
    lock = receiving_path(api.settings, challenge.id).with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(lock):
        return processed(api, push) or _take(api, challenge, push, now, status_url)


def hosted_challenges(api: CoopAPI, forge: str) -> dict[str, Challenge]:
    """Registered challenges hosted on ``forge``, by id."""
    with api.sessions() as session:
        challenges = [queries.load_challenge(session, cid) for cid in queries.challenge_ids(session)]
    return {c.id: c for c in challenges if c.forge is not None and c.forge.kind == forge}


def webhook_secrets(settings: ScorerSettings) -> dict[str, str]:
    """Challenge id -> webhook secret: ``webhook_secrets``, then ``webhook_secrets_file``."""
    secrets = dict(settings.webhook_secrets)
    if not settings.webhook_secrets_file:
        return secrets
    path = Path(settings.webhook_secrets_file)
    unreadable = "the scorer cannot check webhook signatures now (its secrets file is unreadable)"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise WebhookSettingsError(
            unreadable, f"cannot read the webhook secrets file {path}: {exc}"
        ) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise WebhookSettingsError(unreadable, f"{path}: expected a mapping of challenge id -> secret")
    return secrets | {str(k): v for k, v in data.items()}


def receiving_path(settings: ScorerSettings, challenge_id: str) -> Path:
    """``<home>/forge/<challenge>.git``: its refs are what the scorer has taken from the forge."""
    return settings.home_path / "forge" / f"{challenge_id}.git"


def receiving_repository(settings: ScorerSettings, challenge: Challenge, source: str) -> Path:
    """The receiving repository, created on first use with the organiser's branch as the forge
    has it: history from before the scorer took webhooks is nobody's push (as a served
    repository starts as a clone of the published one)."""
    path = receiving_path(settings, challenge.id)
    if not (path / "HEAD").is_file():
        run(None, "init", "--bare", "--quiet", str(path))
    if not run(path, "for-each-ref", "--count=1", bare=True).strip():
        branch = HEADS + challenge.organiser.ref
        done = call(path, *FETCH, "--", source, f"+{branch}:{branch}", bare=True)
        if not done.ok:
            raise ForgeUnreachable(
                "the scorer cannot read the challenge's repository on the forge now: deliver it again later",
                f"fetching {branch} from {source}: {done.stderr.strip()}",
            )
    return path


def processed(api: CoopAPI, push: PushEvent) -> WebhookReceipt | None:
    """What an already recorded delivery led to, or ``None`` for a new one."""
    with api.sessions() as session:
        row = recorded_delivery(session, push.forge, push.delivery_id)
        if row is None:
            return None
        when = row.received_at.isoformat(timespec="seconds")
        return WebhookReceipt.model_validate(
            row.outcome
            | {
                "status": "already processed",
                "reason": f"delivery {push.delivery_id} was processed at {when}",
            }
        )


def fetch(receiving: Path, source: str, push: PushEvent) -> None:
    """Bring the pushed commit from the forge: by its SHA (protocol v2 serves any), else by the
    pushed ref (older servers), which still holds it unless it moved on since."""
    problems = []
    for wanted in (push.after, push.ref):
        done = call(receiving, *FETCH, "--", source, wanted, bare=True)
        if done.ok and call(receiving, "cat-file", "-e", push.after, bare=True).ok:
            return
        problems.append(done.stderr.strip())
    raise ForgeUnreachable(
        f"the scorer cannot fetch commit {push.after[:12]} from the forge now: deliver it again later",
        f"fetching {push.after} / {push.ref} from {source}: {' | '.join(problems)}",
    )


def _take(
    api: CoopAPI, challenge: Challenge, push: PushEvent, now: datetime, status_url: str
) -> WebhookReceipt:
    assert challenge.forge is not None
    source = challenge.forge.repository
    if not call(None, "check-ref-format", push.ref).ok:
        raise MalformedDelivery(f"{push.ref!r} is not a valid git ref")
    pusher = hub_user(push.forge, push.pusher, api.settings.forge_logins)
    challenge, lines, queueing = _current_spec(api, challenge, source, push.ref)
    receiving = receiving_repository(api.settings, challenge, source)
    arrivals: dict[str, list[str]] = {}
    if not push.deleted:
        fetch(receiving, source, push)
        taken = call(receiving, "rev-parse", "--verify", "--quiet", push.ref, bare=True).out.strip()
        arrivals = arrived(receiving, [(taken or ZERO_SHA, push.after, push.ref)])
    found = read_arrivals(receiving, challenge, arrivals)
    found, held = held_to_the_rules(
        receiving, challenge, Pusher(pusher, push.ref == HEADS + challenge.organiser.ref), found
    )
    lines += held
    try:
        with api.sessions.begin() as session:
            if arrivals:
                lines += queue_arrivals(
                    session, challenge, found, pusher, now, queueing=queueing, status_url=status_url
                )
            receipt = WebhookReceipt(
                status="accepted",
                forge=push.forge,
                delivery=push.delivery_id,
                challenge=challenge.id,
                pusher=pusher,
                commits=[sha for shas in arrivals.values() for sha in shas],
                submissions=[line.submission_id for line in lines if line.submission_id is not None],
                messages=[str(line) for line in lines],
            )
            record_delivery(
                session,
                forge=push.forge,
                delivery_id=push.delivery_id,
                challenge_id=challenge.id,
                event="push",
                received_at=now,
                outcome=receipt.model_dump(mode="json"),
            )
    except DuplicateDelivery:  # another scorer process took the same delivery first: its outcome
        earlier = processed(api, push)
        if earlier is None:
            raise
        return earlier
    if push.deleted:
        run(receiving, "update-ref", "-d", push.ref, bare=True)
    else:
        run(receiving, "update-ref", push.ref, push.after, bare=True)
    return receipt


def held_to_the_rules(
    receiving: Path, challenge: Challenge, pusher: Pusher, found: Arrivals
) -> tuple[Arrivals, list[PushLine]]:
    """``found`` without the notebooks of the commits a hub push would have refused (their path
    rules; the ref rules are the forge's), and a line per refusal. A push to the organiser ref
    is the organiser's (only the forge's branch protection lets one in)."""
    rules = rules_of(challenge)
    scored = [sha for sha, notebooks in found.changed.items() if notebooks]
    lines, held = [], set()
    for commit in scan(scored, Where(receiving)):
        for refusal in check_commit(pusher, commit, rules):
            held.add(commit.sha)
            why = refusal.message.removeprefix("refusing ")
            lines.append(PushLine(f"commit {commit.sha[:12]} not scored as {pusher.name}'s: {why}"))
    changed = {sha: [] if sha in held else notebooks for sha, notebooks in found.changed.items()}
    return replace(found, changed=changed), lines


def _current_spec(
    api: CoopAPI, challenge: Challenge, source: str, ref: str
) -> tuple[Challenge, list[PushLine], bool]:
    """The challenge, registered again from the forge when the push moved the organiser ref or
    it was registered from elsewhere; when that fails, the commits are recorded, not queued."""
    with api.sessions() as session:
        registered_from = queries.repo_url(session, challenge.id)
    if ref != HEADS + challenge.organiser.ref and registered_from == source:
        return challenge, [], True
    try:
        fresh, _repo, _tree = api.register(source)
    except CoopError as exc:
        return (
            challenge,
            [PushLine(f"the scorer cannot read the challenge now ({exc.user_message}): nothing queued")],
            False,
        )
    return fresh, [], True


def _hosts(challenge: Challenge, push: PushEvent) -> bool:
    forge = challenge.forge
    return forge is not None and push.is_for(forge.repository, forge.full_name)
