"""Organisers' changes to a served challenge: open a phase, change a phase's dates or limits,
edit a rewarder, rescore a phase.

The spec lives in git. A change to it is a commit on the organiser ref of the served
repository (``<home>/git/<id>.git``) that changes ``challenge.yaml`` only, written with git's
plumbing in the bare repository: the new blob (``hash-object``), a tree built in a temporary
index (``GIT_INDEX_FILE``: ``read-tree``, ``update-index``, ``write-tree``), ``commit-tree``
with the organiser as author, then ``update-ref`` given the old value, so that a change made
meanwhile (another organiser, a push to the organiser ref) is detected, never overwritten.
Before anything is written the new spec is checked as ``coop challenge validate`` would
(:func:`~scorer.challenge.load.parse_spec`, then the files it names): an invalid change leaves
everything as it was. Afterwards the challenge is registered again (:meth:`CoopAPI.register`)
so that the scorer and pushes use the new spec, and an audit event (:mod:`scorer.ledger.audit`)
records who changed what, from which commit to which, with the values before and after.

The YAML is edited by :mod:`scorer.organise.spec_edit`, which keeps comments and layout; what
a change to a phase sets is worked out by :mod:`scorer.organise.phase_plans`.
"""

from __future__ import annotations

import difflib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from coop_client.errors import GitError
from coop_client.git import HEADS, run
from scorer.challenge.load import SPEC_FILE, file_problems, parse_spec
from scorer.challenge.organiser_tree import organiser_tree
from scorer.challenge.phase_data import prepare_phase_data
from scorer.challenge.spec import Challenge
from scorer.environments.phases import prepare_environments
from scorer.exceptions import (
    ConcurrentChange,
    NotServed,
    OrganiseError,
    SpecError,
    UnknownChallenge,
)
from scorer.facade import CoopAPI
from scorer.ingest.repo import ChallengeRepo
from scorer.ingest.served import git_root, repository_path
from scorer.ledger.audit import AuditEntry, audit_events, record_audit_event
from scorer.ledger.queries import phase_of
from scorer.ledger.rewards import CompensationReason, compensate_rewarder
from scorer.organise.phase_plans import Moment, Plan, dates_plan, iso, limits_plan, rewarder_plan
from scorer.organise.settle import refuse_settled_edit
from scorer.organise.spec_edit import SpecEdit, YamlPath, set_in_yaml
from scorer.rewards.granting import replay_live

COMMITTER = {"GIT_COMMITTER_NAME": "Coopetition scorer", "GIT_COMMITTER_EMAIL": "scorer@coopetition.local"}
OPEN_PHASE = "open-phase"
RESCORE = "rescore"
REGRANT = "rewarder-regranted"


@dataclass(frozen=True)
class SpecChange:
    """A change made (or, for a dry run, only worked out) on the organiser ref."""

    challenge: str
    action: str
    applied: bool
    base: str  # the organiser commit the change applies to
    commit: str | None  # the new organiser commit; ``None`` for a dry run
    diff: str  # unified diff of challenge.yaml
    before: dict[str, Any]
    after: dict[str, Any]
    audit: int | None


# --- the actions -----------------------------------------------------------------------------


def open_phase(
    api: CoopAPI,
    repo: Path,
    challenge_id: str,
    actor: str,
    *,
    phase_id: str | None = None,
    close_current: bool = False,
    base: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> SpecChange:
    """Open a phase now (by default the next one to start): its ``start`` becomes now; with
    ``close_current`` the phase open until now ends now. Its data is prepared if it is not yet."""
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)

    def plan(spec: Challenge, _data: dict[str, Any]) -> SpecEdit:
        return _open_plan(spec, phase_id, close_current, moment)

    change = change_spec(api, repo, challenge_id, actor, plan, base=base, dry_run=dry_run)
    if change.applied:
        challenge, _repo, tree = api.register(str(repo.resolve()))
        opened = challenge.phase(change.after["phase"])
        prepare_phase_data(challenge, opened, tree, api.settings.data_root)
    return change


def edit_rewarder(
    api: CoopAPI,
    repo: Path,
    challenge_id: str,
    actor: str,
    *,
    phase_id: str,
    index: int,
    rewarder: dict[str, Any],
    base: str | None = None,
    dry_run: bool = False,
) -> SpecChange:
    """Replace rewarder ``index`` of a phase by ``rewarder`` (its fields as in challenge.yaml).

    Its open grants are then compensated and it is judged again live over the phase's
    submissions, so that what it paid follows the new rule; an audit event says how many
    grants were taken back and made (when any were)."""
    refuse_settled_edit(api, challenge_id, phase_id, index)
    plan = rewarder_plan(phase_id, index, rewarder)
    change = change_spec(api, repo, challenge_id, actor, plan, base=base, dry_run=dry_run)
    if change.applied:
        _challenge, _repo, tree = api.register(str(repo.resolve()))
        with api.sessions.begin() as session:
            detail = {"phase": phase_id, "index": index, "edit": change.audit}
            taken = compensate_rewarder(
                session, challenge_id, phase_id, index, CompensationReason.REWARDER_EDITED, detail
            )
            granted = replay_live(session, challenge_id, phase_id, index, trusted=lambda: tree)
            outcome = {
                "compensated": len(taken),
                "granted": len(granted.created),
                "failures": len(granted.failures),
            }
            if taken or granted.rewards or granted.failures:  # rewards changed: say how
                record_audit_event(session, actor, challenge_id, REGRANT, {**detail, **outcome})
    return change


def edit_phase_dates(
    api: CoopAPI,
    repo: Path,
    challenge_id: str,
    actor: str,
    *,
    phase_id: str,
    start: Moment | None = None,
    end: Moment | None = None,
    open_ended: bool = False,
    private_visible: Moment | str | None = None,
    base: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> SpecChange:
    """Schedule a phase: its start, its end (``"now"`` ends it now, so that private scores shown
    at its end appear) and when its private scores show. Its data is prepared if it is not yet."""
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    visible: Any = private_visible  # "end", "never", "now" or a time; the spec checks the rest
    plan = dates_plan(
        phase_id, now=moment, start=start, end=end, open_ended=open_ended, private_visible=visible
    )
    change = change_spec(api, repo, challenge_id, actor, plan, base=base, dry_run=dry_run)
    if change.applied:
        challenge, _repo, tree = api.register(str(repo.resolve()))
        prepare_phase_data(challenge, challenge.phase(phase_id), tree, api.settings.data_root)
    return change


def edit_phase_limits(
    api: CoopAPI,
    repo: Path,
    challenge_id: str,
    actor: str,
    *,
    phase_id: str,
    limits: dict[str, Any] | None = None,
    submissions: dict[str, Any] | None = None,
    base: str | None = None,
    dry_run: bool = False,
) -> SpecChange:
    """Replace a phase's run limits and/or submission limits (each as written in challenge.yaml)."""
    plan = limits_plan(phase_id, limits=limits, submissions=submissions)
    change = change_spec(api, repo, challenge_id, actor, plan, base=base, dry_run=dry_run)
    if change.applied:
        api.register(str(repo.resolve()))
    return change


def rescore(api: CoopAPI, challenge_id: str, actor: str, phase_id: str) -> tuple[list[int], int]:
    """Queue a new run of every finished submission of a phase; the queued ids and the audit id."""
    phase_of(api.challenge(challenge_id), phase_id)
    queued = api.rescore(challenge_id, phase_id)
    with api.sessions.begin() as session:
        audit = record_audit_event(
            session, actor, challenge_id, RESCORE, {"phase": phase_id, "queued": queued}
        )
    return queued, audit


def audit_trail(api: CoopAPI, challenge_id: str, *, limit: int = 100) -> list[AuditEntry]:
    """The challenge's audit events, newest first."""
    api.challenge(challenge_id)  # an unknown challenge is an error, not an empty trail
    with api.sessions() as session:
        return audit_events(session, challenge_id, limit=limit)


@dataclass(frozen=True)
class OrganiserState:
    """The organiser ref, its commit, and the spec there: validated (defaults filled in) and as
    challenge.yaml writes it."""

    ref: str
    base: str
    spec: dict[str, Any]
    written: dict[str, Any]


def organiser_state(api: CoopAPI, repo: Path, challenge_id: str) -> OrganiserState:
    ref = HEADS + api.challenge(challenge_id).organiser.ref
    base = run(repo, "rev-parse", "--verify", f"{ref}^{{commit}}", bare=True).strip()
    text = run(repo, "cat-file", "blob", f"{base}:{SPEC_FILE}", bare=True)
    spec = parse_spec(text, f"{ref}:{SPEC_FILE}")
    return OrganiserState(ref, base, spec.model_dump(mode="json"), yaml.safe_load(text))


def served_repository(api: CoopAPI, challenge_id: str) -> Path:
    """The repository ``coop serve`` serves for a registered challenge: the one changes go to."""
    api.challenge(challenge_id)  # 404 for an unknown challenge first
    repo = repository_path(api.settings.home_path, challenge_id)
    if repo is None:
        raise NotServed(
            f"challenge {challenge_id!r} has no repository served here: `coop serve` serves each "
            "registered challenge's repository"
        )
    return repo


def organised_challenges(api: CoopAPI) -> list[Challenge]:
    """The challenges an organiser can change here: every registered one with a served repository."""
    home = api.settings.home_path
    served = sorted(p.name.removesuffix(".git") for p in git_root(home).glob("*.git"))
    found = []
    for challenge_id in served:
        if repository_path(home, challenge_id) is None:
            continue
        try:
            found.append(api.challenge(challenge_id))
        except UnknownChallenge:
            continue  # served but not registered (yet): nothing to organise
    return found


# --- one change to challenge.yaml, committed ---------------------------------------------------


def change_spec(
    api: CoopAPI,
    repo: Path,
    challenge_id: str,
    actor: str,
    plan: Plan,
    *,
    base: str | None = None,
    dry_run: bool = False,
) -> SpecChange:
    """Work out ``plan``'s change to the spec on the organiser ref, check it, and (unless
    ``dry_run``) commit it there; ``base`` is the organiser commit the caller reviewed."""
    ref = HEADS + api.challenge(challenge_id).organiser.ref
    current = run(repo, "rev-parse", "--verify", f"{ref}^{{commit}}", bare=True).strip()
    if base is not None and base != current:
        raise ConcurrentChange(
            f"the challenge changed since you reviewed it ({ref} is now at {current[:12]}, "
            f"not {base[:12]}): look at the change again"
        )
    text = run(repo, "cat-file", "blob", f"{current}:{SPEC_FILE}", bare=True)
    edit, new_text = planned(text, plan, f"{ref}:{SPEC_FILE}")
    spec = parse_spec(new_text, SPEC_FILE)
    tree = organiser_tree(api.settings, ChallengeRepo(repo), challenge_id, current)
    problems = file_problems(spec, tree, SPEC_FILE)  # only challenge.yaml changes: same files
    if problems:
        raise SpecError(problems)
    diff = "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            f"a/{SPEC_FILE}",
            f"b/{SPEC_FILE}",
        )
    )
    if dry_run:
        return SpecChange(
            challenge_id, edit.action, False, current, None, diff, edit.before, edit.after, None
        )
    # A changed environment is built before the change takes effect; a failed build refuses it.
    prepare_environments(api.settings, spec, tree, [p.id for p in spec.phases])
    commit = _commit_spec(
        repo, current, new_text, f"{edit.message}\n\nMade by {actor} through the API.", actor
    )
    detail = {"ref": ref, "base": current, "commit": commit, "before": edit.before, "after": edit.after}
    with api.sessions.begin() as session:  # the audit row commits only if the ref moved
        audit = record_audit_event(session, actor, challenge_id, edit.action, detail)
        _move_ref(repo, ref, commit, current, f"coop: {edit.message} (by {actor})")
    return SpecChange(challenge_id, edit.action, True, current, commit, diff, edit.before, edit.after, audit)


def planned(text: str, plan: Plan, where: str = SPEC_FILE) -> tuple[SpecEdit, str]:
    """``plan``'s edit of the spec ``text`` (read from ``where``) and the edited text."""
    edit = plan(parse_spec(text, where), yaml.safe_load(text))
    new_text = set_in_yaml(text, edit.changes, edit.placed) if edit.changes else text
    if new_text == text:
        raise OrganiseError(f"nothing to change: {SPEC_FILE} already says so")
    return edit, new_text


def _open_plan(spec: Challenge, phase_id: str | None, close_current: bool, now: datetime) -> SpecEdit:
    if phase_id is None:
        upcoming = sorted((p for p in spec.phases if p.start > now), key=lambda p: p.start)
        if not upcoming:
            raise OrganiseError("every phase has started already: there is no next phase to open")
        target = upcoming[0]
    else:
        target = phase_of(spec, phase_id)
        if target.is_open(now):
            raise OrganiseError(f"phase {target.id!r} is open already (since {iso(target.start)})")
        if target.end is not None and target.end <= now:
            raise OrganiseError(
                f"phase {target.id!r} ended at {iso(target.end)}: give it a later end to reopen it"
            )
    changes: list[tuple[YamlPath, Any]] = [(("phases", spec.phases.index(target), "start"), now)]
    before: dict[str, Any] = {"phase": target.id, "start": iso(target.start)}
    after: dict[str, Any] = {"phase": target.id, "start": iso(now)}
    message = f"Open phase {target.id} now"
    placed: dict[YamlPath, str] = {}
    current = spec.current_phase(now)
    if close_current and current is not None and current.id != target.id:
        end = ("phases", spec.phases.index(current), "end")
        changes.append((end, now))
        placed[end] = "start"  # an open-ended phase gets its end after its start
        before["closes"] = {"phase": current.id, "end": iso(current.end)}
        after["closes"] = {"phase": current.id, "end": iso(now)}
        message += f" and close phase {current.id}"
    return SpecEdit(OPEN_PHASE, changes, before, after, message, placed)


# --- git plumbing in the bare repository ------------------------------------------------------


def _commit_spec(repo: Path, base: str, text: str, message: str, actor: str) -> str:
    """A commit on top of ``base`` whose tree differs only by ``challenge.yaml`` = ``text``."""
    mode = run(repo, "ls-tree", base, "--", SPEC_FILE, bare=True).split()[0]
    blob = run(repo, "hash-object", "-w", "--stdin", input=text, bare=True).strip()
    with tempfile.TemporaryDirectory(prefix="coop-index-") as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        run(repo, "read-tree", base, env=index, bare=True)
        run(repo, "update-index", "--cacheinfo", f"{mode},{blob},{SPEC_FILE}", env=index, bare=True)
        tree = run(repo, "write-tree", env=index, bare=True).strip()
    author = {"GIT_AUTHOR_NAME": actor, "GIT_AUTHOR_EMAIL": f"{actor}@users.coopetition.local"}
    commit = ("commit-tree", tree, "-p", base, "-m", message)
    return run(repo, *commit, env={**author, **COMMITTER}, bare=True).strip()


def _move_ref(repo: Path, ref: str, new: str, old: str, reason: str) -> None:
    try:
        run(repo, "update-ref", "-m", reason, ref, new, old, bare=True)
    except GitError as exc:
        now = run(repo, "rev-parse", "--verify", ref, bare=True).strip()
        if now != old:
            raise ConcurrentChange(
                f"the challenge changed while your change was being made ({ref} moved to "
                f"{now[:12]}): nothing was changed; look at it again"
            ) from exc
        raise
