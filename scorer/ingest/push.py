"""Push-to-score: after an accepted push to a served repository, record and queue.

:func:`on_push` runs in the service for the repository's post-receive hook, from the entry the
hook spooled once the refs were updated (:mod:`scorer.ingest.spool`). For every commit that
first arrives it records the pusher (from the token, never the author line), the commit's
claims and its notebooks' fingerprints; every newly
recorded commit that adds or changes a solution notebook becomes a submission in the current
phase, credited to the pusher. Over one of the phase's limits the submission is recorded as
rejected with the time the next slot opens: sharing is never blocked. It returns the lines the
git client shows as ``remote: …``.

A refused commit stays scoreable: once the limits allow, :func:`resubmit` queues its notebook
again as a new submission (the API's ``POST /api/submissions/{id}/resubmit``, ``coop resubmit``),
and so does pushing a commit that changes nothing (``git commit --allow-empty``) for every
notebook of the pusher whose newest submission a limit refused. Forge webhooks
(:mod:`scorer.ingest.forge_push`) record and queue through the same :func:`read_arrivals` and
:func:`queue_arrivals`.

The scorer must later read those commits from the served repository, so the challenge's
``repo_url`` is made to point at it (``CoopAPI.register`` of the served path) when it does not
yet, and again whenever the push moves the organiser ref (a new spec may have arrived).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from coop_client.git import HEADS, ZERO_SHA, run
from coop_client.models import SubmissionStatus
from scorer.challenge.spec import SLUG, Challenge, Phase
from scorer.environments.phases import prepare_environments
from scorer.exceptions import CoopError, UnknownChallenge
from scorer.facade import CoopAPI
from scorer.ingest.attribution import LOG_FORMAT, CommitFacts, notebook_fingerprint, parse_log
from scorer.ingest.limits import LimitReached, check_limits
from scorer.ingest.repo import ChallengeRepo, ChangedNotebook
from scorer.ledger import queries, store
from scorer.ledger.commits import record_commits
from scorer.ledger.db import Session
from scorer.ledger.locks import lock_person
from scorer.ledger.queries import SubmissionView


@dataclass(frozen=True)
class PushLine:
    text: str
    submission_id: int | None = None
    status: str | None = None  # "queued" or "rejected" for a submission

    def __str__(self) -> str:
        return self.text


Update = tuple[str, str, str]  # (old, new, ref) as git gives them to the hook


def on_push(
    api: CoopAPI,
    repo_path: Path,
    pusher: str,
    updates: Sequence[Update],
    now: datetime | None = None,
    *,
    status_url: str = "",
    refs: Sequence[tuple[str, str]] | None = None,
) -> list[PushLine]:
    """Record the push's new commits and queue (or reject) their solution notebooks; ``refs``:
    the repository's ``(sha, ref)`` as the push left them (default: as they are now)."""
    moment = now or datetime.now(UTC)
    served = Path(repo_path).resolve()
    challenge_id = served.name.removesuffix(".git")
    if not served.name.endswith(".git") or not re.fullmatch(SLUG, challenge_id):
        return [PushLine(f"push accepted; {served.name} is not a challenge repository: nothing was queued")]
    try:
        challenge = api.challenge(challenge_id)
    except UnknownChallenge:
        return [
            PushLine(
                f"push accepted; challenge {challenge_id} is not registered with the scorer: nothing queued"
            )
        ]
    live = [(old, new, ref) for old, new, ref in updates if new != ZERO_SHA]  # deletions bring nothing
    if not live:
        return []
    lines: list[PushLine] = []
    queueing = True
    organiser_moved = any(ref == HEADS + challenge.organiser.ref for _o, _n, ref in live)
    if organiser_moved or _repo_url(api, challenge_id) != str(served):
        try:
            challenge, _repo, tree = api.register(str(served))
        except CoopError as exc:
            queueing = False
            lines.append(
                PushLine(f"the scorer cannot read this challenge now ({exc.user_message}): nothing queued")
            )
        else:
            if organiser_moved:
                lines += environment_lines(api, challenge, tree)
    arrivals = arrived(served, live, refs)
    if not arrivals:
        return lines
    found = read_arrivals(served, challenge, arrivals)
    with api.sessions.begin() as session:
        lines += queue_arrivals(
            session, challenge, found, pusher, moment, queueing=queueing, status_url=status_url
        )
    return lines


def environment_lines(api: CoopAPI, challenge: Challenge, tree: Path) -> list[PushLine]:
    """A new organiser commit's environments, built now; a failure keeps the previous ones."""
    try:
        prepared = prepare_environments(api.settings, challenge, tree, [p.id for p in challenge.phases])
    except CoopError as exc:
        return [PushLine(f"environment not built, the previous one keeps serving: {exc.user_message}")]
    return [
        PushLine(f"phase {p.phase}: environment {p.environment.short} built")
        for p in prepared
        if p.environment is not None and not p.reused
    ]


@dataclass(frozen=True)
class Arrivals:
    """What a push brought, as read from the repository holding it."""

    refs: dict[str, list[str]]  # ref -> the commits it brought, oldest first (see :func:`arrived`)
    facts: dict[str, CommitFacts]  # with the fingerprints of the solution notebooks changed
    changed: dict[str, list[ChangedNotebook]]  # sha -> the solution notebooks it adds or changes
    empty: frozenset[str] = frozenset()  # the commits that change nothing (see empty_commits)


def read_arrivals(repo_path: Path, challenge: Challenge, arrivals: dict[str, list[str]]) -> Arrivals:
    """The new commits' facts and the solution notebooks each adds or changes (git only)."""
    repo = ChallengeRepo(repo_path)
    facts = {c.sha: c for c in read_facts(repo_path, [sha for shas in arrivals.values() for sha in shas])}
    changed = {sha: repo.changed_notebooks(sha, challenge.solutions) for sha in facts}
    for sha, notebooks in changed.items():
        prints = {nb.path: notebook_fingerprint(repo.read(sha, nb.path)) for nb in notebooks}
        facts[sha] = replace(facts[sha], notebooks={p: f for p, f in prints.items() if f is not None})
    return Arrivals(arrivals, facts, changed, empty_commits(repo_path, list(facts)))


def empty_commits(repo: Path, shas: Sequence[str]) -> frozenset[str]:
    """Those of ``shas`` that have one parent and its tree (``git commit --allow-empty``; a merge
    never counts, whatever its tree)."""
    if not shas:
        return frozenset()
    out = run(
        repo, "log", "--no-walk=unsorted", "--format=%H %T %P", "--stdin", bare=True, input=_lines(shas)
    )
    children = [fields for fields in (line.split() for line in out.splitlines()) if len(fields) == 3]
    if not children:
        return frozenset()
    trees = run(repo, "rev-parse", *(f"{fields[2]}^{{tree}}" for fields in children), bare=True).split()
    return frozenset(fields[0] for fields, tree in zip(children, trees, strict=True) if fields[1] == tree)


def queue_arrivals(
    session: Session,
    challenge: Challenge,
    found: Arrivals,
    pusher: str,
    now: datetime,
    *,
    queueing: bool = True,
    status_url: str = "",
) -> list[PushLine]:
    """Record the commits that arrive first, with ``pusher``, and queue (or reject over a limit)
    a submission per solution notebook each adds or changes, in the phase open at ``now``.

    Shared by git pushes (:func:`on_push`) and forge webhooks (:mod:`scorer.ingest.forge_push`);
    ``queueing=False`` records the commits only.
    """
    lines: list[PushLine] = []
    phase = challenge.current_phase(now)
    lock_person(session, pusher)  # the limits' check-then-insert, one push per person at a time
    for ref, shas in found.refs.items():
        recorded = record_commits(
            session, challenge.id, pusher=pusher, ref=ref, commits=[found.facts[s] for s in shas], now=now
        )
        for sha in recorded:
            asks_again = sha in found.empty and not found.changed[sha]
            if not (found.changed[sha] or asks_again) or not queueing:
                continue
            if phase is None:
                lines.append(
                    PushLine(f"commit {sha[:12]} not queued: no phase of {challenge.id} is open now")
                )
                continue
            for notebook in found.changed[sha]:
                lines.append(_submit(session, challenge, phase, sha, notebook, pusher, now, status_url))
            if asks_again:
                lines += _resubmit_refused(session, challenge, phase, sha, pusher, now, status_url)
    return lines


def _resubmit_refused(
    session: Session,
    challenge: Challenge,
    phase: Phase,
    sha: str,
    pusher: str,
    now: datetime,
    status_url: str,
) -> list[PushLine]:
    """An empty commit asks to score again the pusher's commits that a limit refused."""
    waiting = refused_waiting(session, challenge.id, phase.id, pusher)
    if not waiting:
        return [PushLine(f"commit {sha[:12]} changes nothing and no refused submission of yours waits")]
    lines = []
    for view in waiting:
        try:
            lines.append(_requeue(session, phase, view, now, status_url))
        except LimitReached as exc:
            lines.append(PushLine(f"submission {view.id} still waits: {exc.hit.text}"))
    return lines


class NotWaiting(CoopError):
    """A submission asked to be resubmitted that no limit holds back."""

    http_status = 409


class NotYourSubmission(CoopError):
    """Someone asked to resubmit another person's submission."""

    http_status = 403


def refused_waiting(
    session: Session, challenge_id: str, phase_id: str, username: str
) -> list[SubmissionView]:
    """The person's pushed work that a limit refused and nothing replaced since: for each
    notebook, their newest submission of it in the phase, when that one was refused."""
    newest: dict[str, SubmissionView] = {}
    for view in queries.submissions(
        session, challenge_id=challenge_id, phase_id=phase_id, username=username, limit=None
    ):  # newest first
        newest.setdefault(view.notebook_path, view)
    return [view for view in newest.values() if view.status == SubmissionStatus.REJECTED]


def resubmit(
    api: CoopAPI,
    submission_id: int,
    *,
    caller: str | None,
    now: datetime | None = None,
    status_url: str = "",
) -> PushLine:
    """Queue again the commit and notebook of a submission that a limit refused, as a new
    submission of the same person, now that the limits allow it.

    ``caller``: who asks (it must be the submission's person); ``None``: an operator. Over a
    limit still: :class:`LimitReached` (with the next slot), and nothing is recorded.
    """
    moment = now or datetime.now(UTC)
    with api.sessions.begin() as session:
        view = queries.submission(session, submission_id)
        if caller is not None and caller != view.username:
            raise NotYourSubmission(f"submission {submission_id} is {view.username}'s, not yours")
        lock_person(session, view.username)
        waiting = refused_waiting(session, view.challenge_id, view.phase_id, view.username)
        if all(w.id != view.id for w in waiting):
            raise NotWaiting(_not_waiting(view))
        phase = queries.load_challenge(session, view.challenge_id).current_phase(moment)
        if phase is None or phase.id != view.phase_id:
            raise NotWaiting(
                f"submission {view.id} was made in phase {view.phase_id}, which is not open now: "
                "push your notebook again to submit it to the open phase"
            )
        return _requeue(session, phase, view, moment, status_url)


def _not_waiting(view: SubmissionView) -> str:
    if view.status == SubmissionStatus.REJECTED:
        return f"submission {view.id} is not your newest of {view.notebook_path}: a newer one replaced it"
    return (
        f"submission {view.id} was not refused over a limit (it is {view.status.value}): nothing to resubmit"
    )


def _requeue(
    session: Session, phase: Phase, view: SubmissionView, now: datetime, status_url: str
) -> PushLine:
    """A new submission of a refused one's commit and notebook, when the limits allow."""
    hit = check_limits(
        phase.submissions, queries.counted_times(session, view.challenge_id, phase.id, view.username), now
    )
    if hit is not None:
        raise LimitReached(hit)
    row = store.enqueue(
        session,
        challenge_id=view.challenge_id,
        phase_id=phase.id,
        commit_sha=view.commit_sha,
        notebook_path=view.notebook_path,
        username=view.username,
        parameters=dict(phase.parameters),
        now=now,
    )
    return _queued(
        row.id,
        view.notebook_path,
        phase.id,
        status_url,
        f"; the commit {view.commit_sha[:10]} of submission {view.id}",
    )


def _submit(
    session: Session,
    challenge: Challenge,
    phase: Phase,
    sha: str,
    notebook: ChangedNotebook,
    pusher: str,
    now: datetime,
    status_url: str,
) -> PushLine:
    earlier = queries.counted_times(session, challenge.id, phase.id, pusher)
    row = store.enqueue(
        session,
        challenge_id=challenge.id,
        phase_id=phase.id,
        commit_sha=sha,
        notebook_path=notebook.path,
        username=pusher,
        parameters=dict(phase.parameters),
        now=now,
    )
    hit = check_limits(phase.submissions, earlier, now)
    if hit is not None:
        store.reject(session, row.id, hit.code, hit.text, now=now)
        return PushLine(
            f"submission {row.id} not scored: {hit.text}", row.id, SubmissionStatus.REJECTED.value
        )
    return _queued(row.id, notebook.path, phase.id, status_url)


def _queued(submission: int, notebook: str, phase: str, status_url: str, more: str = "") -> PushLine:
    status = (
        f"{status_url.rstrip('/')}/api/submissions/{submission}"
        if status_url
        else f"coop submission {submission}"
    )
    return PushLine(
        f"submission {submission} queued: {notebook} (phase {phase}) — status: {status}{more}",
        submission,
        SubmissionStatus.QUEUED.value,
    )


def arrived(
    repo: Path, updates: Sequence[Update], refs: Sequence[tuple[str, str]] | None = None
) -> dict[str, list[str]]:
    """ref -> the commits the push brought to it, oldest first, each under the first ref only.

    After the push the refs (``refs``, or the repository's now) point at the new tips, so a
    commit arrived when no ref outside this push and no pushed ref's old value reaches it.
    """
    pushed = {ref for _o, _n, ref in updates}
    if refs is None:
        refs = parse_refs(run(repo, "for-each-ref", "--format=%(objectname) %(refname)", bare=True))
    others = [sha for sha, name in refs if name not in pushed]
    olds = [old for old, _n, _r in updates if old != ZERO_SHA]
    excluded = sorted(set(others + olds))
    seen: set[str] = set()
    found: dict[str, list[str]] = {}
    for _old, new, ref in updates:
        revs = [new, *(f"^{sha}" for sha in excluded)]
        out = run(repo, "rev-list", "--reverse", "--topo-order", "--stdin", bare=True, input=_lines(revs))
        shas = [s for s in out.split() if s not in seen]
        seen.update(shas)
        if shas:
            found[ref] = shas
    return found


def parse_refs(listing: str) -> list[tuple[str, str]]:
    """``(sha, ref)`` from ``git for-each-ref --format='%(objectname) %(refname)'``."""
    return [(sha, name) for line in listing.splitlines() for sha, _, name in [line.partition(" ")] if name]


def read_facts(repo: Path, shas: Sequence[str]) -> list[CommitFacts]:
    if not shas:
        return []
    log = ("log", "--no-walk=unsorted", f"--format={LOG_FORMAT}", "--stdin")
    out = run(repo, *log, bare=True, input=_lines(shas))
    return parse_log(out)


def _repo_url(api: CoopAPI, challenge_id: str) -> str:
    with api.sessions() as session:
        return queries.repo_url(session, challenge_id)


def _lines(values: Sequence[str]) -> str:
    return "".join(f"{value}\n" for value in values)
