"""The service's side of the API contract: :mod:`coop_client.models` built from the spec and the
ledger's views (the contract itself knows neither)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from coop_client.models import (
    BalanceOut,
    BoardSummary,
    ChallengeOut,
    ChallengeSummary,
    ColumnOut,
    ContributionGraphOut,
    CreditCommitOut,
    CreditRowOut,
    CreditTableOut,
    GraphEdgeOut,
    GraphNodeOut,
    ImportedCredentialOut,
    JoinedPhaseOut,
    LeaderboardOut,
    LimitsOut,
    MetricOut,
    PeopleSearchOut,
    PersonMatchOut,
    PhaseCreditOut,
    PhaseOut,
    ProfileBalanceOut,
    ProfileOut,
    ProfileSkillOut,
    ProfileSubmissionOut,
    QuotaOut,
    RankOut,
    RewarderOut,
    RewardOut,
    RowOut,
    SkillCountOut,
    SkillEvidenceOut,
    SkillsOut,
    SkillTermOut,
    SubmissionOut,
    SubmissionPageOut,
    SubmissionSummary,
)
from scorer.challenge.spec import Challenge, Phase, column_sorting
from scorer.credit.contribution import GraphPage
from scorer.credit.phase import CreditTable
from scorer.exceptions import UnknownPhase
from scorer.ingest.limits import check_limits, submissions_left
from scorer.ledger.credentials import ImportedView
from scorer.ledger.queries import (
    LeaderboardView,
    SubmissionScores,
    SubmissionView,
    phase_of,
    private_scores_visible,
)
from scorer.ledger.rewards import Balance, RewardView
from scorer.profiles import search as people
from scorer.profiles.profile import EVIDENCE_SHOWN, PhaseCredit, Profile, SubmissionPage
from scorer.profiles.skills import Evidence, Skill, SkillIndex
from scorer.ranking.leaderboard import column_label, column_precision
from scorer.rewards.describe import Description

#: What evidence drawn from private scores keeps while they are hidden: no value, and no rule
#: either (a rule may quote one, "new record (was 0.8123)").
PLAIN_EVIDENCE = ("moment", "submission", "commit", "split", "reason")


def _finite(values: dict[str, float | None]) -> dict[str, float | None]:
    """JSON has no NaN or infinity: an undefined value is ``null``."""
    return {k: v if v is None or math.isfinite(v) else None for k, v in values.items()}


def of_phase(challenge: Challenge, phase: Phase, now: datetime) -> PhaseOut:
    return PhaseOut(
        id=phase.id,
        title=phase.title,
        description=phase.description,
        start=phase.start,
        end=phase.end,
        open=phase.is_open(now),
        leaderboards=[b.key for b in challenge.phase_leaderboards(phase)],
        private_visible_at=phase.private_visible_at(),
        submissions=LimitsOut(**phase.submissions.model_dump()),
    )


def of_challenge_summary(challenge: Challenge, now: datetime) -> ChallengeSummary:
    current = challenge.current_phase(now)
    return ChallengeSummary(id=challenge.id, title=challenge.title, current_phase=current and current.id)


def of_challenge(challenge: Challenge, now: datetime) -> ChallengeOut:
    return ChallengeOut(
        **of_challenge_summary(challenge, now).model_dump(),
        description=challenge.description,
        domain=challenge.tags.domain,
        skills=challenge.tags.skills,
        metrics=[
            MetricOut(
                key=m.key,
                label=m.label or m.key,
                direction=str(m.direction),
                precision=m.precision,
                description=m.description,
            )
            for m in challenge.metrics
        ],
        leaderboards=[
            BoardSummary(key=b.key, title=b.title or b.key, primary=b.primary) for b in challenge.leaderboards
        ],
        phases=[of_phase(challenge, p, now) for p in challenge.phases],
    )


def of_leaderboard(
    challenge: Challenge, view: LeaderboardView, likes: dict[int, int] | None = None
) -> LeaderboardOut:
    """``likes``: how many people like each row's submission (absent: none)."""
    likes = likes or {}
    changes = view.rank_changes
    return LeaderboardOut(
        challenge=view.challenge_id,
        phase=view.phase_id,
        leaderboard=view.board.key,
        title=view.board.title or view.board.key,
        split=view.split,
        primary=view.board.primary,
        columns=[
            ColumnOut(
                key=c.key,
                label=column_label(challenge, c),
                precision=column_precision(challenge, c),
                sorting=str(column_sorting(challenge, c)),
            )
            for c in view.columns
        ],
        rows=[
            RowOut(
                rank=row.rank,
                person=row.person,
                submission=row.submission_id,
                submitted_at=row.submitted_at,
                values=_finite(row.columns),
                rank_change=changes.get(row.person, 0) if changes is not None else None,
                likes=likes.get(row.submission_id, 0),
            )
            for row in view.rows
        ],
    )


def _summary_fields(view: SubmissionView) -> dict[str, Any]:
    return {
        "id": view.id,
        "challenge": view.challenge_id,
        "phase": view.phase_id,
        "commit": view.commit_sha,
        "notebook": view.notebook_path,
        "person": view.username,
        "status": str(view.status),
        "failure_class": view.failure_class,
        "reason": view.failure_reason,
        "created_at": view.created_at,
        "finished_at": view.finished_at,
        "rescore_of": view.rescore_of,
    }


def of_submission_summary(view: SubmissionView) -> SubmissionSummary:
    return SubmissionSummary(**_summary_fields(view))


def of_submission(view: SubmissionView, scores: SubmissionScores) -> SubmissionOut:
    return SubmissionOut(
        **_summary_fields(view),
        attempts=view.attempts,
        started_at=view.started_at,
        run_time=view.run_time,
        peak_memory_mib=view.peak_memory,
        public=_finite(scores.public),
        private=_finite(scores.private) if scores.private is not None else None,
        provenance=view.provenance,
    )


def of_quota(
    challenge_id: str, phase: Phase, person: str, counted: Iterable[datetime], now: datetime
) -> QuotaOut:
    """What ``phase``'s limits leave ``person``, whose submissions that count were made at ``counted``."""
    counted = list(counted)
    hit = check_limits(phase.submissions, counted, now)
    left_today, left_in_phase = submissions_left(phase.submissions, counted, now)
    return QuotaOut(
        challenge=challenge_id,
        phase=phase.id,
        person=person,
        at=now,
        limits=LimitsOut(**phase.submissions.model_dump()),
        left_today=left_today,
        left_in_phase=left_in_phase,
        next_slot=now if hit is None else hit.next_slot,
        blocked_by=hit and hit.code,
        reason=hit and hit.text,
        reached=hit and hit.message,
    )


def of_rewards(
    challenge: Challenge, found: Iterable[RewardView], *, organiser: bool, now: datetime
) -> list[RewardOut]:
    """Rows of the reward ledger as a viewer (an organiser or not) may see them ``now``."""
    visible: dict[str, bool] = {}

    def shows_private(phase_id: str) -> bool:
        if phase_id not in visible:
            try:
                phase = phase_of(challenge, phase_id)
            except UnknownPhase:  # a phase the spec no longer has: its private scores stay hidden
                visible[phase_id] = organiser
            else:
                visible[phase_id] = private_scores_visible(phase, now=now, viewer_is_organiser=organiser)
        return visible[phase_id]

    return [of_reward(view, shows_private(view.phase_id)) for view in found]


def of_reward(view: RewardView, private_visible: bool) -> RewardOut:
    """A ledger row as the API shows it; while its phase hides private scores
    (``private_visible`` false), evidence drawn from them keeps no value."""
    evidence = dict(view.evidence)
    values = evidence.get("values")
    private = view.moment == "settlement" or evidence.get("split") == "private"
    leaks = isinstance(values, dict) and any(str(k).startswith("private.") for k in values)
    hidden = not private_visible and (private or leaks)
    if hidden and private:
        evidence = {k: v for k, v in evidence.items() if k in PLAIN_EVIDENCE}
    elif hidden and isinstance(values, dict):
        evidence["values"] = {k: v for k, v in values.items() if not str(k).startswith("private.")}
    return RewardOut(
        id=view.id,
        kind=view.kind.value,
        compensates=view.compensates,
        at=view.at,
        challenge=view.challenge_id,
        phase=view.phase_id,
        person=view.person,
        rewarder=view.rewarder_type,
        rewarder_index=view.rewarder_index,
        moment=view.moment.value,
        amount=float(view.amount),
        unit=view.unit,
        submission=view.submission_id,
        commit=view.commit_sha,
        rule=evidence.get("rule") if view.kind == "grant" else None,
        reason=evidence.get("reason") if view.kind == "compensation" else None,
        evidence=evidence,
        evidence_hidden=hidden,
    )


def of_balance(balance: Balance) -> BalanceOut:
    return BalanceOut(person=balance.person, unit=balance.unit, amount=float(balance.amount))


def of_rewarder(description: Description) -> RewarderOut:
    return RewarderOut(
        index=description.index,
        type=description.type,
        amount=description.amount,
        unit=description.unit,
        moment=description.moment,
        text=description.text,
    )


def of_credit_table(table: CreditTable) -> CreditTableOut:
    return CreditTableOut(
        challenge=table.challenge_id,
        phase=table.phase_id,
        leaderboard=table.board,
        measure=table.measure,
        split=table.split,
        direction="maximize" if table.direction == "maximize" else "minimize",
        noise_threshold=table.noise_threshold,
        total=table.total,
        rows=[
            CreditRowOut(person=person, credit=credit, versions=table.versions.get(person, 0))
            for person, credit in table.credit.items()
        ],
    )


def of_graph(
    challenge_id: str,
    phase_id: str,
    board: str | None,
    split: Literal["public", "private"],
    detail: Literal["all", "steps"],
    page: GraphPage,
) -> ContributionGraphOut:
    nodes = [
        GraphNodeOut(
            id=node.key,
            commit=node.version.commit,
            notebook=node.version.notebook,
            submission=node.version.submission_id,
            people=list(node.people),
            time=node.time,
            values=node.version.public if split == "public" else node.version.private,
            score=node.score,
            best=node.best,
            increment=node.increment,
            credit=node.credit,
            likes=page.likes.get(node.version.submission_id, 0),
            flags=list(node.flags),
        )
        for node in page.nodes
    ]
    return ContributionGraphOut(
        challenge=challenge_id,
        phase=phase_id,
        leaderboard=board,
        measure=page.measure,
        split=split,
        detail=detail,
        total=page.total,
        offset=page.offset,
        next_offset=page.next_offset,
        nodes=nodes,
        edges=[GraphEdgeOut(source=e.source, target=e.target, kind=e.kind) for e in page.edges],
    )


# --- profiles -----------------------------------------------------------------------------------


def of_profile(profile: Profile, *, organiser: bool, now: datetime) -> ProfileOut:
    """A profile as its viewer may see it (private evidence of rewards obeys the rule)."""
    fields = profile.fields

    def rewards_of(found: Iterable[RewardView]) -> list[RewardOut]:
        by_challenge: dict[str, list[RewardView]] = {}
        for view in found:
            by_challenge.setdefault(view.challenge_id, []).append(view)
        shown = [
            row
            for cid, views in by_challenge.items()
            for row in of_rewards(profile.specs[cid], views, organiser=organiser, now=now)
        ]
        return sorted(shown, key=lambda row: row.id)

    return ProfileOut(
        person=fields.person,
        display_name=fields.display_name,
        affiliation=fields.affiliation,
        orcid=fields.orcid,
        links=fields.links,
        hidden=fields.hidden,
        joined=[
            JoinedPhaseOut(
                challenge=j.challenge_id,
                title=profile.specs[j.challenge_id].title,
                phase=j.phase_id,
                submissions=j.submissions,
                first_at=j.first_at,
                last_at=j.last_at,
            )
            for j in profile.joined
        ],
        submissions=of_submission_page(profile.submissions),
        ranks=[
            RankOut(
                challenge=r.challenge_id,
                phase=r.phase_id,
                leaderboard=r.board,
                split=r.split,
                rank=r.rank,
                of=r.of,
                delta=r.delta,
            )
            for r in profile.ranks
        ],
        rewards=rewards_of(profile.rewards),
        balances=[
            ProfileBalanceOut(challenge=cid, unit=b.unit, amount=float(b.amount))
            for cid, b in profile.balances
        ],
        credit=[of_phase_credit(c) for c in profile.credit],
        achievements=rewards_of(profile.achievements),
        likes_given=profile.likes_given,
        likes_received=profile.likes_received,
        skills=[of_profile_skill(skill) for skill in profile.skills],
        credentials=[of_imported(view) for view in profile.credentials],
    )


def of_profile_skill(skill: Skill) -> ProfileSkillOut:
    return ProfileSkillOut(
        skill=skill.name,
        percentile=skill.percentile,
        strength=round(skill.raw, 3),
        evidence=[of_evidence(e) for e in skill.evidence[:EVIDENCE_SHOWN]],
        evidence_count=len(skill.evidence),
    )


def of_submission_page(page: SubmissionPage) -> SubmissionPageOut:
    return SubmissionPageOut(
        person=page.person,
        total=page.total,
        offset=page.offset,
        next_offset=page.next_offset,
        submissions=[
            ProfileSubmissionOut(
                id=view.id,
                challenge=view.challenge_id,
                phase=view.phase_id,
                commit=view.commit_sha,
                notebook=view.notebook_path,
                status=view.status,
                created_at=view.created_at,
                finished_at=view.finished_at,
                public=_finite(scores.public),
                private=_finite(scores.private) if scores.private is not None else None,
            )
            for view, scores in page.submissions
        ],
    )


def of_phase_credit(credit: PhaseCredit) -> PhaseCreditOut:
    return PhaseCreditOut(
        challenge=credit.challenge_id,
        phase=credit.phase_id,
        measure=credit.measure,
        split=credit.split,
        credit=credit.credit,
        commits=[
            CreditCommitOut(
                commit=c.commit,
                notebook=c.notebook,
                submission=c.submission_id,
                metric=c.metric,
                increment=c.increment,
                credit=c.credit,
            )
            for c in credit.commits
        ],
    )


def of_imported(view: ImportedView) -> ImportedCredentialOut:
    """A credential imported from another instance, marked with its issuer."""
    return ImportedCredentialOut(
        id=view.id,
        issuer=view.issuer,
        issued_to=view.issued_to,
        kind=view.kind,
        name=view.name,
        skills=list(view.skills),
        evidence_url=view.evidence_url,
        issued_at=view.issued_at,
        expires_at=view.expires_at,
        imported_at=view.imported_at,
    )


def of_results(results: people.Results) -> PeopleSearchOut:
    rows = [
        PersonMatchOut(
            person=row.person,
            score=row.score,
            last_active=row.last_active,
            terms=[
                SkillTermOut(
                    skill=t.skill,
                    weight=t.weight,
                    percentile=round(t.percentile, 1),
                    counted=t.counted,
                    contribution=t.contribution,
                    evidence=[of_evidence(e) for e in t.evidence],
                    evidence_count=t.evidence_count,
                )
                for t in row.terms
            ],
        )
        for row in results.rows
    ]
    return PeopleSearchOut(
        rows=rows, total=results.total, offset=results.offset, limit=results.limit, notes=list(results.notes)
    )


def of_evidence(e: Evidence) -> SkillEvidenceOut:
    return SkillEvidenceOut(
        kind=e.kind,
        weight=round(e.weight, 3),
        challenge=e.challenge_id,
        phase=e.phase_id,
        submission=e.submission_id,
        reward=e.reward_id,
        detail=e.detail,
    )


def of_skills(index: SkillIndex, table: dict[str, str]) -> SkillsOut:
    counts = [
        SkillCountOut(skill=name, people=len(index.holders.get(name, {}))) for name in sorted(index.known)
    ]
    return SkillsOut(table=dict(sorted(table.items())), skills=counts)
