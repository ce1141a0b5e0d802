"""Credit as the API shows it: a phase's table, the contribution graph, a person's credit per phase."""

from __future__ import annotations

from typing import Literal

from coop_client.models import (
    ContributionGraphOut,
    CreditCommitOut,
    CreditRowOut,
    CreditTableOut,
    GraphEdgeOut,
    GraphNodeOut,
    PhaseCreditOut,
)
from scorer.credit.contribution import GraphPage
from scorer.credit.phase import CreditTable
from scorer.profiles.profile import PhaseCredit


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
