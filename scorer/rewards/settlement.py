"""Settlement rewarders: prizes by private rank, and a pool split by credit."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, PositiveFloat

from scorer.rewards.base import SLUG, Grant, Params, Reference, Rewarder, Target
from scorer.rewards.views import Settlement

#: The most ranks a rank-prize may pay.
MAX_PRIZES = 10


class RankParams(Params):
    leaderboard: str = Field(pattern=SLUG, description="The board whose private ranking decides.")
    amounts: list[PositiveFloat] = Field(
        min_length=1, max_length=MAX_PRIZES, description="The prize of rank 1, 2, …"
    )

    def references(self) -> list[Reference]:
        return [Reference(("leaderboard",), leaderboard=self.leaderboard)]


class RankPrize(Rewarder):
    """Amounts by private rank on a board when the phase is settled; ``amount`` is the budget
    the amounts must fit in. Example::

        - type: rank-prize
          amount: 600
          params: {leaderboard: significance, amounts: [300, 200, 100]}
    """

    params_model: ClassVar[type[Params]] = RankParams
    params: RankParams
    moments = frozenset({"settlement"})

    @classmethod
    def check(cls, params: Any, amount: float, threshold: float | None) -> list[tuple[tuple[str, ...], str]]:
        total = sum(params.amounts)
        if total > amount:
            return [
                (("params", "amounts"), f"the amounts add up to {total:g}, more than amount ({amount:g})")
            ]
        return []

    def settle(self, event: Settlement) -> list[Grant]:
        params = self.params
        standings = event.standings.get(params.leaderboard, ())
        return [
            self.grant(
                event.phase,
                row.person,
                ("rank", row.rank, row.person),
                f"rank {row.rank} on {params.leaderboard} (private)",
                split="private",
                values={"rank": row.rank, "value": row.value, "submission": row.submission_id},
                amount=params.amounts[row.rank - 1],
            )
            for row in standings
            if 1 <= row.rank <= len(params.amounts)
        ]


class CreditShare(Rewarder):
    """``amount`` split among people in proportion to their positive credit on a measure (the
    credit table of the phase's commit graph). Example::

        - type: credit-share
          amount: 1000
          params: {metric: ams}
    """

    params_model: ClassVar[type[Params]] = Target
    params: Target
    moments = frozenset({"settlement"})

    def settle(self, event: Settlement) -> list[Grant]:
        measure = self.params.measure
        credit = {person: c for person, c in event.credit.get(measure, {}).items() if c > 0}
        total = sum(credit.values())
        return [
            self.grant(
                event.phase,
                person,
                ("person", person),
                f"share of {self.amount:g} by credit on {measure}",
                split="private",
                values={"credit": credit[person], "total_credit": total},
                amount=self.amount * credit[person] / total,
            )
            for person in sorted(credit)
        ]
