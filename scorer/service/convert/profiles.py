"""A person's profile as its viewer may see it, its pages of submissions, imported credentials."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from coop_client.models import (
    ImportedCredentialOut,
    JoinedPhaseOut,
    ProfileBalanceOut,
    ProfileOut,
    ProfileSkillOut,
    ProfileSubmissionOut,
    RankOut,
    RewardOut,
    SubmissionPageOut,
)
from scorer.ledger.credentials import ImportedView
from scorer.ledger.rewards import RewardView
from scorer.profiles.profile import EVIDENCE_SHOWN, Profile, SubmissionPage
from scorer.profiles.skills import Skill
from scorer.service.convert.credit import of_phase_credit
from scorer.service.convert.finite import finite
from scorer.service.convert.people import of_evidence
from scorer.service.convert.rewards import of_rewards


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
                public=finite(scores.public),
                private=finite(scores.private) if scores.private is not None else None,
            )
            for view, scores in page.submissions
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
