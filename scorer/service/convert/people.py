"""The people search and the skills table as the API shows them, each row with its evidence."""

from __future__ import annotations

from coop_client.models import (
    PeopleSearchOut,
    PersonMatchOut,
    SkillCountOut,
    SkillEvidenceOut,
    SkillsOut,
    SkillTermOut,
)
from scorer.profiles import search as people
from scorer.profiles.skills import Evidence, SkillIndex


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
