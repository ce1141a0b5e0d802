"""Credit as the API shows it: a phase's table, the contribution graph, a person's credit per phase."""

from __future__ import annotations

from typing import Literal

from coop_client.models import (
    BestPointOut,
    ContributionGraphOut,
    CreditCommitOut,
    CreditRowOut,
    CreditTableOut,
    GraphEdgeOut,
    GraphGroupOut,
    GraphNodeOut,
    GraphOverviewOut,
    PhaseCreditOut,
)
from scorer.credit.contribution import GraphNode, GraphPage
from scorer.credit.overview import Overview
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
        nodes=[_node(node, split, page.likes) for node in page.nodes],
        edges=[GraphEdgeOut(source=e.source, target=e.target, kind=e.kind) for e in page.edges],
    )


def of_overview(
    challenge_id: str,
    phase_id: str,
    board: str | None,
    split: Literal["public", "private"],
    measure: str,
    found: Overview,
) -> GraphOverviewOut:
    page = found.page
    return GraphOverviewOut(
        challenge=challenge_id,
        phase=phase_id,
        leaderboard=board,
        measure=measure,
        split=split,
        direction="maximize" if found.direction == "maximize" else "minimize",
        start=found.start,
        end=found.end,
        total=found.total,
        phase_total=found.phase_total,
        people=found.people,
        best=[BestPointOut(time=time, value=value) for time, value in found.best],
        nodes=[] if page is None else [_node(node, split, page.likes) for node in page.nodes],
        edges=[]
        if page is None
        else [GraphEdgeOut(source=e.source, target=e.target, kind=e.kind) for e in page.edges],
        groups=[
            GraphGroupOut(
                person=g.person,
                start=g.start,
                end=g.end,
                count=g.count,
                best=g.best,
                credit=g.credit,
                best_node=g.best_key,
            )
            for g in found.groups
        ],
        earned={
            person: [
                CreditCommitOut(
                    commit=node.version.commit,
                    notebook=node.version.notebook,
                    submission=node.version.submission_id,
                    metric=measure,
                    increment=node.increment,
                    credit=node.credit[person],
                )
                for node in nodes
            ]
            for person, nodes in found.earned.items()
        },
    )


def _node(node: GraphNode, split: Literal["public", "private"], likes: dict[int, int]) -> GraphNodeOut:
    return GraphNodeOut(
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
        likes=likes.get(node.version.submission_id, 0),
        flags=list(node.flags),
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
