"""Rewards others give: likes reaching levels, and an independent re-run reproducing a score."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Annotated, ClassVar

from pydantic import Field, NonNegativeFloat, PositiveInt, field_validator

from scorer.challenge.spec import BUILTIN_VARIABLES
from scorer.rewards.base import IDENT, Grant, Params, Reference, Rewarder
from scorer.rewards.views import Live, Split


class LikeParams(Params):
    levels: list[PositiveInt] = Field([5, 20, 50], min_length=1, max_length=10)

    @field_validator("levels")
    @classmethod
    def _increasing(cls, levels: list[int]) -> list[int]:
        if any(b <= a for a, b in pairwise(levels)):
            raise ValueError("levels must increase")
        return levels


class PeerLikes(Rewarder):
    """A submission's likes from other people reaching each level (5, 20, 50 by default);
    self-likes never count. ``amount`` per level. Example::

        - type: peer-likes
          amount: 5
          params: {levels: [5, 20, 50]}
    """

    params_model: ClassVar[type[Params]] = LikeParams
    params: LikeParams

    def live(self, event: Live) -> list[Grant]:
        params = self.params
        submission = event.submission
        likes = submission.likes_from_others
        return [
            self.grant(
                event.phase,
                submission.person,
                ("likes", submission.id, level),
                f"{level} likes from others",
                submission,
                values={"likes": likes},
            )
            for level in params.levels
            if likes >= level
        ]


class ReproducedParams(Params):
    tolerance: NonNegativeFloat = Field(1e-9, description="Absolute difference allowed.")
    relative: NonNegativeFloat = Field(0.0, description="Relative difference allowed.")
    metrics: list[Annotated[str, Field(pattern=IDENT)]] | None = Field(
        None,
        description="Metrics compared (if absent, all the run's metrics: never its own run time "
        "and memory, nor board columns, which vary from run to run).",
    )

    def references(self) -> list[Reference]:
        return [Reference(("metrics", str(i)), metric=key) for i, key in enumerate(self.metrics or [])]


class Reproduced(Rewarder):
    """An independent re-run of the same commit on another worker gives the same metrics (public
    and private) within tolerance. Once per submission. Example::

        - type: reproduced
          amount: 5
          params: {tolerance: 1.0e-6}
    """

    params_model: ClassVar[type[Params]] = ReproducedParams
    params: ReproducedParams

    def live(self, event: Live) -> list[Grant]:
        params = self.params
        original, rerun = event.submission, event.rerun
        if rerun is None or rerun.commit != original.commit:
            return []
        if rerun.worker is None or rerun.worker == original.worker:
            return []
        splits: tuple[Split, ...] = ("public", "private")
        compared = {}
        for split in splits:
            written = original.scores.public if split == "public" else original.scores.private
            for key in params.metrics or sorted(k for k in written if _scored_metric(k)):
                a, b = original.value(key, split), rerun.value(key, split)
                if (
                    a is None
                    or b is None
                    or not math.isclose(a, b, rel_tol=params.relative, abs_tol=params.tolerance)
                ):
                    return []
                compared[f"{split}.{key}"] = b
        if not compared:
            return []
        rule = f"re-run on {rerun.worker} matched within {params.tolerance:g}"
        return [
            self.grant(
                event.phase, original.person, ("submission", original.id), rule, original, values=compared
            )
        ]


def _scored_metric(key: str) -> bool:
    """A metric the organiser's code computed, rather than the run's measured time or memory or
    a board's column (``board.column``) a view adds."""
    return key not in BUILTIN_VARIABLES and "." not in key
