"""Progress on a board: each new record (the Ladder), gains over one's own best, and points
that enlarge the accuracy-vs-time Pareto front."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PositiveFloat

from scorer.rewards.base import IDENT, EventTarget, Grant, Params, PerSubmission, Reference
from scorer.rewards.views import Measure, PhaseView, Split, Submission


class NewRecord(PerSubmission):
    """Each new best of the phase (everyone's submissions, the baseline's score included) by
    more than the noise threshold: the Ladder. Example::

        - type: new-record
          amount: 5
          params: {leaderboard: throughput, column: score}
    """

    params_model: ClassVar[type[Params]] = EventTarget
    params: EventTarget

    def judge(
        self, phase: PhaseView, submission: Submission, earlier: tuple[Submission, ...], split: Split
    ) -> list[Grant]:
        measure = phase.measure(self.params.measure)
        before = [s.value(measure.key, split) for s in earlier]
        if phase.baseline is not None:
            before.append(phase.baseline.value(measure.key, split))
        record = measure.best(before)
        value = submission.value(measure.key, split)
        if not measure.beats(value, record):
            return []
        values = {measure.key: value, "record": record}
        rule = f"new record of {measure.key}" + ("" if record is None else f" (was {record:g})")
        return [
            self.grant(
                phase, submission.person, ("submission", submission.id), rule, submission, split, values
            )
        ]


class ImprovementParams(EventTarget):
    per: PositiveFloat = Field(1.0, description="`amount` is paid per this much gain.")
    max_amount: PositiveFloat | None = Field(None, description="The most one submission earns.")


class Improvement(PerSubmission):
    """``amount`` per ``per`` of gain over the person's own best so far, when the gain is more
    than the noise threshold (a first submission sets the best and earns nothing). Example::

        - type: improvement
          amount: 1
          params: {metric: accuracy, per: 0.01, max_amount: 20}
    """

    params_model: ClassVar[type[Params]] = ImprovementParams
    params: ImprovementParams

    def judge(
        self, phase: PhaseView, submission: Submission, earlier: tuple[Submission, ...], split: Split
    ) -> list[Grant]:
        params = self.params
        measure = phase.measure(params.measure)
        own = measure.best([s.value(measure.key, split) for s in earlier if s.person == submission.person])
        value = submission.value(measure.key, split)
        if own is None or value is None or not measure.beats(value, own):
            return []
        gain = measure.gain(value, own)
        amount = self.amount * gain / params.per
        if params.max_amount is not None:
            amount = min(amount, params.max_amount)
        values = {measure.key: value, "own_best": own, "gain": gain}
        rule = f"{measure.key} improved by {gain:g} over own best {own:g}"
        return [
            self.grant(
                phase,
                submission.person,
                ("submission", submission.id),
                rule,
                submission,
                split,
                values,
                amount,
            )
        ]


Point = tuple[float, float]


def hypervolume(points: list[Point], reference: Point) -> float:
    """Area dominated by ``points`` (larger is better in both) and bounded by ``reference``."""
    inside = sorted((p for p in points if p[0] > reference[0] and p[1] > reference[1]), reverse=True)
    area, top = 0.0, reference[1]
    for x, y in inside:
        if y > top:
            area += (x - reference[0]) * (y - top)
            top = y
    return area


class ParetoParams(EventTarget):
    cost: str = Field("time", pattern=IDENT, description="The second measure, e.g. `time`.")
    reference: float = Field(description="The worst value of the target measure counted.")
    cost_reference: float = Field(description="The worst value of `cost` counted.")
    per: PositiveFloat = Field(1.0, description="`amount` is paid per this much hypervolume.")

    def references(self) -> list[Reference]:
        return [*super().references(), Reference(("cost",), metric=self.cost)]


class ParetoFront(PerSubmission):
    """A submission that enlarges the front of the target measure against a cost (run time by
    default), paid ``amount`` per ``per`` of the hypervolume it adds within the reference box.
    A point within both noise thresholds of an earlier one adds nothing. Example::

        - type: pareto-front
          amount: 10
          params: {metric: accuracy, cost: time, reference: 0.5, cost_reference: 300, per: 1}
    """

    params_model: ClassVar[type[Params]] = ParetoParams
    params: ParetoParams

    def judge(
        self, phase: PhaseView, submission: Submission, earlier: tuple[Submission, ...], split: Split
    ) -> list[Grant]:
        params = self.params
        target, cost = phase.measure(params.measure), phase.measure(params.cost)

        def point(s: Submission) -> Point | None:
            a, b = s.value(target.key, split), s.value(cost.key, split)
            return None if a is None or b is None else (target.utility(a), cost.utility(b))

        new = point(submission)
        if new is None:
            return []
        front = [p for p in map(point, earlier) if p is not None]
        if any(_covers(p, new, target, cost) for p in front):
            return []
        reference = (target.utility(params.reference), cost.utility(params.cost_reference))
        gain = hypervolume([*front, new], reference) - hypervolume(front, reference)
        if gain <= 0:
            return []
        values = {
            target.key: submission.value(target.key, split),
            cost.key: submission.value(cost.key, split),
            "hypervolume_gain": gain,
        }
        rule = f"enlarged the {target.key}-vs-{cost.key} front by {gain:g}"
        amount = self.amount * gain / params.per
        return [
            self.grant(
                phase,
                submission.person,
                ("submission", submission.id),
                rule,
                submission,
                split,
                values,
                amount,
            )
        ]


def _covers(old: Point, new: Point, first: Measure, second: Measure) -> bool:
    """``old`` is as good as ``new`` in both measures, up to their noise thresholds."""
    return old[0] >= new[0] - first.noise_threshold and old[1] >= new[1] - second.noise_threshold
