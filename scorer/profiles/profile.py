"""A person's profile assembled from the ledger's views (pure): who may see it, their rank on
each board, the commits that earned them credit, their achievements, a page of submissions.

The edge (:mod:`scorer.profiles.read`) reads the views; the private-score rule is applied there
through :mod:`scorer.ledger.queries`, so that nothing here sees a value the viewer may not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from scorer.challenge.spec import Challenge
from scorer.credit.contribution import GraphNode
from scorer.ledger.credentials import ImportedView
from scorer.ledger.models import RewardKind
from scorer.ledger.profiles import JoinedPhase, ProfileFields
from scorer.ledger.queries import SubmissionScores, SubmissionView
from scorer.ledger.rewards import Balance, RewardView
from scorer.profiles.skills import PersonSkills, Skill
from scorer.ranking.leaderboard import RankedRow

#: Rewarders whose grants are achievements (``scorer.rewards.achievements``): a thing done,
#: rather than progress, a prize or peers' approval.
ACHIEVEMENTS = frozenset({"score-threshold", "limited-hardware", "beat-baseline", "organiser-check"})
#: The largest page of submissions a request may ask for.
MAX_PAGE = 500
#: The evidence a profile shows per skill (the strongest first).
EVIDENCE_SHOWN = 10

Split = Literal["public", "private"]


@dataclass(frozen=True)
class BoardStanding:
    """One board of a phase as the viewer may see it: its public ranking, and its private one
    with each person's public rank minus private rank when private scores are visible."""

    challenge_id: str
    phase_id: str
    board: str
    public: Sequence[RankedRow]
    private: Sequence[RankedRow] | None = None
    rank_changes: dict[str, int] | None = None


@dataclass(frozen=True)
class Rank:
    challenge_id: str
    phase_id: str
    board: str
    split: Split
    rank: int
    of: int
    delta: int | None = None


@dataclass(frozen=True)
class CreditCommit:
    """A notebook version that earned the person credit: its gain on the measure."""

    commit: str
    notebook: str
    submission_id: int
    metric: str
    increment: float
    credit: float


@dataclass(frozen=True)
class PhaseCredit:
    challenge_id: str
    phase_id: str
    measure: str
    split: Split
    credit: float
    commits: list[CreditCommit]


@dataclass(frozen=True)
class SubmissionPage:
    """Submissions newest first, with the scores the viewer may see (private ``None`` else)."""

    person: str
    total: int
    offset: int
    submissions: list[tuple[SubmissionView, SubmissionScores]]

    @property
    def next_offset(self) -> int | None:
        end = self.offset + len(self.submissions)
        return end if end < self.total and self.submissions else None


@dataclass(frozen=True)
class Profile:
    fields: ProfileFields
    joined: list[JoinedPhase]
    submissions: SubmissionPage
    ranks: list[Rank]
    rewards: list[RewardView]
    balances: list[tuple[str, Balance]]
    credit: list[PhaseCredit]
    likes_given: list[int]
    likes_received: int
    specs: Mapping[str, Challenge] = field(default_factory=dict)  # by id: titles, phases, rules
    skills: list[Skill] = field(default_factory=list)
    credentials: list[ImportedView] = field(default_factory=list)  # from other instances

    @property
    def achievements(self) -> list[RewardView]:
        return achievements(self.rewards)


def may_view(fields: ProfileFields, *, viewer: str | None, organiser: bool) -> bool:
    """A profile is public unless hidden; a hidden one shows only to its person and organisers."""
    return not fields.hidden or organiser or (viewer is not None and viewer == fields.person)


def page_window(offset: int, limit: int) -> tuple[int, int]:
    """``offset`` and ``limit`` brought within bounds (a page holds 1 to :data:`MAX_PAGE`)."""
    return max(0, offset), max(1, min(limit, MAX_PAGE))


def ranks(person: str, standings: Iterable[BoardStanding]) -> list[Rank]:
    """The person's rank on each board where they stand: public, and private when shown (with
    ``delta``, their public rank minus their private rank)."""
    found: list[Rank] = []
    for board in standings:
        where = (board.challenge_id, board.phase_id, board.board)
        row = _row(person, board.public)
        if row is not None:
            found.append(Rank(*where, "public", row.rank, len(board.public)))
        private = _row(person, board.private or ())
        if board.private is not None and private is not None:
            delta = (board.rank_changes or {}).get(person)
            found.append(Rank(*where, "private", private.rank, len(board.private), delta))
    return found


def credit_commits(person: str, measure: str, nodes: Iterable[GraphNode]) -> list[CreditCommit]:
    """The versions of a contribution graph that credited ``person``, parents first."""
    return [
        CreditCommit(
            node.version.commit,
            node.version.notebook,
            node.version.submission_id,
            measure,
            node.increment,
            node.credit[person],
        )
        for node in nodes
        if node.credit.get(person)
    ]


def achievements(rewards: Iterable[RewardView]) -> list[RewardView]:
    """Grants of achievement rewarders that no compensation took back, oldest first."""
    rows = list(rewards)
    taken_back = {r.compensates for r in rows if r.kind == RewardKind.COMPENSATION}
    return [
        r
        for r in rows
        if r.kind == RewardKind.GRANT and r.rewarder_type in ACHIEVEMENTS and r.id not in taken_back
    ]


def strongest_skills(found: PersonSkills | None) -> list[Skill]:
    """A person's skills, highest percentile first (then by name)."""
    skills = found.skills.values() if found else ()
    return sorted(skills, key=lambda skill: (-skill.percentile, skill.name))


def _row(person: str, rows: Sequence[RankedRow]) -> RankedRow | None:
    return next((row for row in rows if row.person == person), None)
