"""Achievements: a person's first submission that reaches a score (under hardware caps, or
passing an organiser's check), and the first submission of all to beat the baseline."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ByteSize, Field, PositiveFloat

from scorer.rewards.base import IDENT, EventTarget, Grant, Params, PerSubmission, Reference, Rewarder
from scorer.rewards.views import Live, Measure, PhaseView, Split, Submission

MIB = 1024**2


def _sign(measure: Measure) -> str:
    return "≥" if measure.direction == "maximize" else "≤"


class ScoreThreshold(PerSubmission):
    """The first time a person's measure reaches ``threshold`` (≥, or ≤ for a minimised one).
    Once per person. Example::

        - type: score-threshold
          amount: 10
          threshold: 0.9
          params: {metric: accuracy}           # moment: live (public) by default

    ``params: {leaderboard: throughput, column: score, moment: settlement}`` reads a board's
    column on private scores when the phase ends.
    """

    params_model: ClassVar[type[Params]] = EventTarget
    params: EventTarget
    threshold_use = "required"

    def qualifies(self, phase: PhaseView, submission: Submission, split: Split) -> bool:
        measure = phase.measure(self.params.measure)
        assert self.threshold is not None
        return measure.passes(submission.value(measure.key, split), self.threshold)

    def rule(self, phase: PhaseView) -> str:
        measure = phase.measure(self.params.measure)
        return f"{measure.key} {_sign(measure)} {self.threshold:g}"

    def judge(
        self, phase: PhaseView, submission: Submission, earlier: tuple[Submission, ...], split: Split
    ) -> list[Grant]:
        if not self.qualifies(phase, submission, split):
            return []
        if any(self.qualifies(phase, e, split) for e in earlier if e.person == submission.person):
            return []
        keys = [self.params.measure, *self.shown]
        values = {k: submission.value(k, split) for k in keys}
        return [
            self.grant(
                phase,
                submission.person,
                ("person", submission.person),
                self.rule(phase),
                submission,
                split,
                values,
            )
        ]

    @property
    def shown(self) -> list[str]:
        """Further measures the evidence records."""
        return []


class HardwareParams(EventTarget):
    max_time: PositiveFloat | None = Field(None, description="Seconds of the whole run, as measured.")
    max_memory: ByteSize | None = Field(None, description="Peak memory of the run (e.g. 1GiB).")
    max_time_per_event: PositiveFloat | None = Field(
        None, description="Seconds per event, read from the `time_per_event` metric."
    )

    def references(self) -> list[Reference]:
        extra = (
            [Reference(("max_time_per_event",), metric="time_per_event")] if self.max_time_per_event else []
        )
        return [*super().references(), *extra]


class LimitedHardware(ScoreThreshold):
    """A score reached under caps of run time, time per event and peak memory, as measured by
    the sandbox (a run without a measurement does not qualify). Once per person. Example::

        - type: limited-hardware
          amount: 50
          threshold: 0.8
          params: {metric: accuracy, max_time: 30, max_memory: 1GiB}
    """

    params_model: ClassVar[type[Params]] = HardwareParams
    params: HardwareParams

    @classmethod
    def check(cls, params: Any, amount: float, threshold: float | None) -> list[tuple[tuple[str, ...], str]]:
        if params.max_time is None and params.max_memory is None and params.max_time_per_event is None:
            return [(("params",), "name at least one cap: max_time, max_memory or max_time_per_event")]
        return []

    @property
    def caps(self) -> dict[str, float]:
        params = self.params
        caps = {"time": params.max_time, "time_per_event": params.max_time_per_event}
        if params.max_memory is not None:
            caps["memory"] = params.max_memory / MIB
        return {key: cap for key, cap in caps.items() if cap is not None}

    @property
    def shown(self) -> list[str]:
        return list(self.caps)

    def qualifies(self, phase: PhaseView, submission: Submission, split: Split) -> bool:
        for key, cap in self.caps.items():
            value = submission.value(key, split)
            if value is None or value > cap:
                return False
        return super().qualifies(phase, submission, split)

    def rule(self, phase: PhaseView) -> str:
        caps = ", ".join(f"{key} ≤ {cap:g}" for key, cap in self.caps.items())
        return f"{super().rule(phase)} with {caps}"


class BeatBaseline(PerSubmission):
    """The first submission of all to beat the phase baseline's score by more than the noise
    threshold. Once per phase. Example::

        - type: beat-baseline
          amount: 20
          params: {metric: ams}
    """

    params_model: ClassVar[type[Params]] = EventTarget
    params: EventTarget

    def judge(
        self, phase: PhaseView, submission: Submission, earlier: tuple[Submission, ...], split: Split
    ) -> list[Grant]:
        measure = phase.measure(self.params.measure)
        baseline = None if phase.baseline is None else phase.baseline.value(measure.key, split)
        if baseline is None:
            return []
        beats = [measure.beats(s.value(measure.key, split), baseline) for s in (*earlier, submission)]
        if not beats[-1] or any(beats[:-1]):
            return []
        values = {measure.key: submission.value(measure.key, split), "baseline": baseline}
        rule = (
            f"first to beat the baseline's {measure.key} ({baseline:g}) "
            f"by more than {measure.noise_threshold:g}"
        )
        return [self.grant(phase, submission.person, ("first",), rule, submission, split, values)]


class CheckParams(Params):
    function: str = Field(
        pattern=r"^[A-Za-z0-9_./-]+\.py:[A-Za-z_][A-Za-z0-9_]*$",
        description="`file.py:function` in the challenge's trusted organiser code.",
    )
    metric: str | None = Field(None, pattern=IDENT, description="The metric `threshold` applies to.")

    def references(self) -> list[Reference]:
        return [] if self.metric is None else [Reference(("metric",), metric=self.metric)]


class OrganiserCheck(Rewarder):
    """An organiser's function decides (e.g. "a single model"): it is called, outside the
    sandbox, with the executed notebook and the metrics, and its verdict comes in the live view.
    With a threshold, the metric must reach it too. Once per person. Example::

        - type: organiser-check
          amount: 30
          threshold: 2.0
          params: {function: "checks.py:single_model", metric: ams}
    """

    params_model: ClassVar[type[Params]] = CheckParams
    params: CheckParams
    threshold_use = "optional"

    @classmethod
    def check(cls, params: Any, amount: float, threshold: float | None) -> list[tuple[tuple[str, ...], str]]:
        if threshold is not None and params.metric is None:
            return [(("params", "metric"), "a threshold needs the metric it applies to")]
        return []

    def live(self, event: Live) -> list[Grant]:
        verdict = event.verdicts.get(self.index)
        submission = event.submission
        params = self.params
        if verdict is None or not verdict.passed:
            return []
        rule = f"{params.function} passed" + (f": {verdict.reason}" if verdict.reason else "")
        values = {}
        if params.metric is not None:
            measure = event.phase.measure(params.metric)
            value = submission.value(measure.key, "public")
            if self.threshold is not None and not measure.passes(value, self.threshold):
                return []
            values[measure.key] = value
            if self.threshold is not None:
                rule += f"; {measure.key} {_sign(measure)} {self.threshold:g}"
        return [
            self.grant(
                event.phase,
                submission.person,
                ("person", submission.person),
                rule,
                submission,
                "public",
                values,
            )
        ]
