"""The edge where rewarders meet the ledger: build the views, evaluate, record what was earned
and what failed, in the caller's session (the caller owns the transaction).

- :func:`grant_live`: a submission was just scored (public scores). A rescore first takes back
  the open grants of the runs it replaces, then is judged afresh; a reproduction run judges the
  ``reproduced`` rewarders of the run it reproduces.
- :func:`grant_on_like`: ``peer-likes`` judged again after a like. Levels reached are granted
  once; an unlike takes nothing back (a like once given is an event that happened, and a
  toggle must not let anyone pull a reward from another person).
- :func:`grant_settlement`: a phase settled on private scores, with the caller's credit tables.
- :func:`replay_live`: one rewarder judged again over every judged submission in order (after
  an organiser edited it; the caller compensates its old grants first).
- :func:`queue_reproduction`: one independent re-run of a judged submission, for ``reproduced``
  (the dispatcher prefers another worker for it).

Every grant is recorded exactly once (see :mod:`scorer.ledger.rewards`), so calling any of
these again, or from two workers at once, adds nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from scorer.challenge.spec import Challenge, Phase
from scorer.exceptions import CoopError, OrganiseError
from scorer.ledger import reward_views, store
from scorer.ledger.db import Session
from scorer.ledger.locks import lock_person
from scorer.ledger.models import Moment, SubmissionStatus
from scorer.ledger.queries import load_challenge, phase_of
from scorer.ledger.rewards import (
    CompensationReason,
    Recorded,
    RewardView,
    compensate_submission,
    record_grant,
    record_rewarder_failure,
)
from scorer.rewards.checks import CheckFailed, TrustedTree, verdict
from scorer.rewards.evaluate import Evaluation, Failure, evaluate
from scorer.rewards.views import Live, Settlement, Submission, Verdict

CHECK, LIKES, REPRODUCED = "organiser-check", "peer-likes", "reproduced"


@dataclass(frozen=True)
class Granted:
    """What one call recorded: every grant row it proposed (new or found) and the ids of the
    rewarder failures it recorded."""

    rewards: tuple[Recorded, ...] = ()
    failures: tuple[int, ...] = ()

    @property
    def created(self) -> tuple[RewardView, ...]:
        """The grants this call added (the others existed already)."""
        return tuple(r.reward for r in self.rewards if r.created)

    def __add__(self, other: Granted) -> Granted:
        return Granted(self.rewards + other.rewards, self.failures + other.failures)


def grant_live(session: Session, submission_id: int, *, trusted: TrustedTree | None = None) -> Granted:
    """A submission finished (scored or failed): judge the live rewarders of what can be judged
    now, in the order work was submitted, so that "first" means first submitted whichever
    worker ends first. While work submitted before it is queued or running, nothing is judged:
    that work's end judges it. Then it (when scored) and the scored work after it that waited,
    up to the next run still going. ``trusted`` finds the organiser's code for
    ``organiser-check``. Nothing for the baseline's run, an invalidated submission or a score
    superseded by a newer rescore; a re-run judges ``reproduced`` of the work it reproduces."""
    facts = reward_views.facts(session, submission_id)
    if facts is None:
        return Granted()
    challenge = load_challenge(session, facts.challenge_id)
    phase = next((p for p in challenge.phases if p.id == facts.phase_id), None)
    if phase is None:
        return Granted()
    if facts.reproduces is not None:
        if facts.status is not SubmissionStatus.SCORED:
            return Granted()
        lock_person(session, facts.person)
        return _judge_rerun(session, challenge, phase, facts.reproduces, submission_id)
    granted = Granted()
    for ready in reward_views.in_order(session, challenge, phase, submission_id):
        granted += _grant_scored(session, challenge, phase, ready, trusted)
    return granted


def _grant_scored(
    session: Session, challenge: Challenge, phase: Phase, submission_id: int, trusted: TrustedTree | None
) -> Granted:
    """Judge one scored submission: a rescore first takes back the open grants of the runs it
    replaces."""
    facts = reward_views.facts(session, submission_id)
    assert facts is not None
    lock_person(session, facts.person)  # one judge per person at a time (SQLite: the write lock)
    family = reward_views.family(session, submission_id)
    if any(other > submission_id for other, status in family if status is SubmissionStatus.SCORED):
        return Granted()  # a newer score of the same work decides
    for replaced in (other for other, _status in family if other < submission_id):
        compensate_submission(session, replaced, CompensationReason.RESCORE, {"rescored_by": submission_id})
    return _judge_judged(session, challenge, phase, submission_id, None, trusted)


def grant_on_like(session: Session, submission_id: int) -> Granted:
    """Judge the ``peer-likes`` rewarders of the liked submission's phase again."""
    found = _scored(session, submission_id)
    if found is None:
        return Granted()
    _facts, challenge, phase = found
    likes = _indices(phase, LIKES)
    return _judge_judged(session, challenge, phase, submission_id, likes, None) if likes else Granted()


def grant_settlement(
    session: Session, challenge: Challenge, phase_id: str, credit: Mapping[str, Mapping[str, float]]
) -> Granted:
    """Judge the phase's settlement rewarders on private scores: every judged submission in
    order, each board's private ranking, and ``credit`` (a measure key -> person -> credit)."""
    phase = phase_of(challenge, phase_id)
    event = Settlement(
        phase=reward_views.phase_view(session, challenge, phase),
        submissions=reward_views.judged(session, challenge, phase),
        standings=reward_views.standings(session, challenge, phase),
        credit=credit,
    )
    return _record(session, challenge.id, phase.id, evaluate(phase.rewarders, event))


def replay_live(
    session: Session,
    challenge_id: str,
    phase_id: str,
    rewarder_index: int,
    *,
    trusted: TrustedTree | None = None,
) -> Granted:
    """Judge rewarder ``rewarder_index`` live over every judged submission, oldest first, as if
    each had just been scored (re-runs included for ``reproduced``)."""
    challenge = load_challenge(session, challenge_id)
    phase = phase_of(challenge, phase_id)
    if not 0 <= rewarder_index < len(phase.rewarders):
        raise OrganiseError(f"phase {phase_id!r} has no rewarder {rewarder_index}")
    judged = reward_views.judged(session, challenge, phase)
    granted = Granted()
    for submission in judged:
        reruns: list[Submission | None] = [*reward_views.reruns(session, challenge, phase, submission.id)]
        for rerun in reruns or [None]:
            granted += _judge(session, challenge, phase, submission, judged, {rewarder_index}, trusted, rerun)
    return granted


def queue_reproduction(session: Session, submission_id: int) -> int | None:
    """Queue one independent re-run of a judged submission when its phase has a ``reproduced``
    rewarder; the re-run's id, or ``None`` (not wanted, or queued already)."""
    found = _scored(session, submission_id)
    if found is None:
        return None
    facts, _challenge, phase = found
    if facts.reproduces is not None or not _indices(phase, REPRODUCED):
        return None
    if reward_views.is_baseline(phase, facts.person, facts.notebook):
        return None
    lock_person(session, facts.person)  # racing callers queue one re-run
    if reward_views.reproductions(session, submission_id):
        return None
    rerun = store.enqueue(
        session,
        challenge_id=facts.challenge_id,
        phase_id=facts.phase_id,
        commit_sha=facts.commit,
        notebook_path=facts.notebook,
        username=facts.person,
        parameters=facts.parameters,
        reproduces=submission_id,
    )
    return rerun.id


def _judge(
    session: Session,
    challenge: Challenge,
    phase: Phase,
    submission: Submission,
    judged: tuple[Submission, ...],
    indices: Collection[int] | None,
    trusted: TrustedTree | None,
    rerun: Submission | None = None,
) -> Granted:
    order = reward_views.order(submission)
    earlier = tuple(s for s in judged if reward_views.order(s) < order)
    chosen = set(range(len(phase.rewarders)) if indices is None else indices)
    verdicts: dict[int, Verdict] = {}
    failed: list[Failure] = []
    for index in _indices(phase, CHECK) & chosen:
        entry = phase.rewarders[index]
        metrics = {m.key: submission.scores.public.get(m.key) for m in challenge.metrics}
        notebook = reward_views.executed_notebook(session, submission.id)
        try:
            verdicts[index] = verdict(trusted, str(entry.params.get("function")), notebook, metrics)
        except CheckFailed as exc:
            failed.append(Failure(entry.type, index, Moment.LIVE, submission.id, str(exc)))
            chosen.discard(index)
    event = Live(reward_views.phase_view(session, challenge, phase), submission, earlier, rerun, verdicts)
    evaluation = evaluate(phase.rewarders, event, indices=chosen)
    return _record(
        session, challenge.id, phase.id, Evaluation(evaluation.grants, (*failed, *evaluation.failures))
    )


def _judge_judged(
    session: Session,
    challenge: Challenge,
    phase: Phase,
    submission_id: int,
    indices: Collection[int] | None,
    trusted: TrustedTree | None,
    rerun: Submission | None = None,
) -> Granted:
    """Judge a submission if the phase's judged submissions hold it (not the baseline's run,
    not an invalidated or superseded one)."""
    judged = reward_views.judged(session, challenge, phase)
    mine = [s for s in judged if s.id == submission_id]
    return _judge(session, challenge, phase, mine[0], judged, indices, trusted, rerun) if mine else Granted()


def _judge_rerun(
    session: Session, challenge: Challenge, phase: Phase, original_id: int, rerun_id: int
) -> Granted:
    """Judge ``reproduced`` on the submission a scored re-run reproduces."""
    reproduced = _indices(phase, REPRODUCED)
    if not reproduced:
        return Granted()
    rerun = reward_views.submission(session, challenge, phase, rerun_id)
    return _judge_judged(session, challenge, phase, original_id, reproduced, None, rerun)


def _record(session: Session, challenge_id: str, phase_id: str, evaluation: Evaluation) -> Granted:
    rewards: list[Recorded] = []
    failures = list(evaluation.failures)
    for grant in evaluation.grants:
        try:
            rewards.append(record_grant(session, grant))
        except CoopError as exc:  # refused before anything was written (amount, submission)
            failures.append(
                Failure(
                    grant.rewarder_type, grant.rewarder_index, grant.moment, grant.submission_id, str(exc)
                )
            )
    ids = tuple(
        record_rewarder_failure(
            session,
            challenge_id=challenge_id,
            phase_id=phase_id,
            rewarder_type=f.rewarder_type,
            rewarder_index=f.rewarder_index,
            moment=f.moment,
            submission_id=f.submission_id,
            error=f.error[:4000],
        )
        for f in failures
    )
    return Granted(tuple(rewards), ids)


def _scored(session: Session, submission_id: int) -> tuple[reward_views.Facts, Challenge, Phase] | None:
    """A scored submission's facts, challenge and phase; ``None`` when it is not scored or its
    phase is no longer in the spec."""
    facts = reward_views.facts(session, submission_id)
    if facts is None or facts.status is not SubmissionStatus.SCORED:
        return None
    challenge = load_challenge(session, facts.challenge_id)
    phase = next((p for p in challenge.phases if p.id == facts.phase_id), None)
    return None if phase is None else (facts, challenge, phase)


def _indices(phase: Phase, rewarder_type: str) -> set[int]:
    return {i for i, entry in enumerate(phase.rewarders) if entry.type == rewarder_type}
