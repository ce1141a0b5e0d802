"""The rewarder plugin API: a params model, the moments a rewarder acts on, a pure decision.

A rewarder is a class registered under the entry-point group ``coop.rewarders``. It is built
from one entry of a phase's ``rewarders:`` (type, amount, threshold, params) and decides, from
ledger views only (:mod:`scorer.rewards.views`), which :class:`Grant` s an event earns. Each grant
carries an idempotency key made of the challenge, the phase, the rewarder's index and the event,
so deciding twice (a retried scoring, a second worker) proposes the same key and the reward
ledger keeps one. The key leaves the moment out: an achievement is one whether it was decided
live or at settlement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from scorer.rewards.views import Live, Moment, PhaseView, Settlement, Split, Submission, Values, column_key

IDENT = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"


@dataclass(frozen=True)
class Evidence:
    """Why a grant was made: the rule that fired, on which submission, with which values."""

    rule: str
    moment: Moment
    submission: int | None = None
    commit: str | None = None
    split: Split | None = None
    values: Values = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """A reward a rewarder proposes; the ledger grants it once per ``key``."""

    person: str
    amount: float
    unit: str
    rewarder: str  # the type
    index: int  # the rewarder's place in its phase
    key: str
    evidence: Evidence


@dataclass(frozen=True)
class Reference:
    """A name a rewarder's params use, checked against the phase: a metric, a leaderboard, or a
    leaderboard's column. ``field`` is where it is written under ``params``."""

    field: tuple[str, ...]
    metric: str | None = None
    leaderboard: str | None = None
    column: str | None = None


class Params(BaseModel):
    """Base of every params model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def references(self) -> list[Reference]:
        return []


class Target(Params):
    """The measure a rewarder compares: a metric (or ``time``, ``memory``) or a board's column."""

    metric: str | None = Field(None, pattern=IDENT, description="A metric key, `time` or `memory`.")
    leaderboard: str | None = Field(None, pattern=SLUG, description="A leaderboard (with `column`).")
    column: str | None = Field(None, pattern=IDENT, description="A value column of `leaderboard`.")

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if (self.metric is None) == (self.leaderboard is None and self.column is None):
            raise ValueError("name either `metric` or `leaderboard` and `column`")
        if self.metric is None and (self.leaderboard is None or self.column is None):
            raise ValueError("`leaderboard` and `column` go together")
        return self

    @property
    def measure(self) -> str:
        if self.metric is not None:
            return self.metric
        assert self.leaderboard is not None and self.column is not None
        return column_key(self.leaderboard, self.column)

    def references(self) -> list[Reference]:
        if self.metric is not None:
            return [Reference(("metric",), metric=self.metric)]
        return [Reference(("column",), leaderboard=self.leaderboard, column=self.column)]


class EventTarget(Target):
    """A target judged submission by submission: live on public scores, or replayed in order
    on private scores at settlement."""

    moment: Moment = Field("live", description="`live` (public scores) or `settlement` (private).")


ThresholdUse = Literal["required", "optional", "unused"]


class Rewarder:
    """Base of every rewarder. Subclasses set ``params_model``, ``moments`` and
    ``threshold_use`` and override :meth:`live` and/or :meth:`settle` (pure functions)."""

    params_model: ClassVar[type[Params]] = Params
    moments: ClassVar[frozenset[Moment]] = frozenset({"live"})
    threshold_use: ClassVar[ThresholdUse] = "unused"
    unit: ClassVar[str] = "points"

    def __init__(
        self, *, type: str, index: int, amount: float, threshold: float | None, params: Params
    ) -> None:
        self.type = type
        self.index = index
        self.amount = amount
        self.threshold = threshold
        self.params = params

    @classmethod
    def validate(cls, amount: float, threshold: float | None, params: Mapping[str, Any]) -> Params:
        """The params model of ``params``, checked with the amount and threshold; a
        :class:`ValidationError` locates each problem from the rewarder (``params.x``, ``threshold``)."""
        try:
            model = cls.params_model.model_validate(dict(params))
        except ValidationError as exc:
            raise _located(exc, ("params",)) from None
        problems = cls.check(model, amount, threshold)
        if cls.threshold_use == "required" and threshold is None:
            problems.append((("threshold",), f"{cls.__name__} needs a threshold"))
        if cls.threshold_use == "unused" and threshold is not None:
            problems.append((("threshold",), f"{cls.__name__} uses no threshold: remove it"))
        if problems:
            raise ValidationError.from_exception_data(
                cls.__name__,
                [
                    InitErrorDetails(type="value_error", loc=loc, input=None, ctx={"error": ValueError(text)})
                    for loc, text in problems
                ],
            )
        return model

    @classmethod
    def check(cls, params: Any, amount: float, threshold: float | None) -> list[tuple[tuple[str, ...], str]]:
        """Problems of params together with amount and threshold (none by default)."""
        return []

    @property
    def moment(self) -> Moment:
        chosen = getattr(self.params, "moment", None)
        if chosen is not None:
            return chosen
        [only] = self.moments
        return only

    def decide(self, event: Live | Settlement) -> list[Grant]:
        """The grants ``event`` earns, or none when the rewarder does not act on this moment."""
        if isinstance(event, Live):
            return self.live(event) if self.moment == "live" else []
        return self.settle(event) if self.moment == "settlement" else []

    def live(self, event: Live) -> list[Grant]:
        return []

    def settle(self, event: Settlement) -> list[Grant]:
        return []

    def key(self, phase: PhaseView, *event: object) -> str:
        """The idempotency key of one event: challenge, phase, rewarder index and the event."""
        return "/".join(str(part) for part in (phase.challenge, phase.phase, self.index, *event))

    def grant(
        self,
        phase: PhaseView,
        person: str,
        event: tuple[object, ...],
        rule: str,
        submission: Submission | None = None,
        split: Split | None = None,
        values: Values | None = None,
        amount: float | None = None,
    ) -> Grant:
        evidence = Evidence(
            rule=rule,
            moment=self.moment,
            submission=None if submission is None else submission.id,
            commit=None if submission is None else submission.commit,
            split=split,
            values=dict(values or {}),
        )
        return Grant(
            person=person,
            amount=self.amount if amount is None else amount,
            unit=self.unit,
            rewarder=self.type,
            index=self.index,
            key=self.key(phase, *event),
            evidence=evidence,
        )


class PerSubmission(Rewarder):
    """A rule judged one submission at a time against those before it: live on the submission
    just scored (public scores), or at settlement on every submission in order (private)."""

    moments = frozenset({"live", "settlement"})

    def judge(
        self, phase: PhaseView, submission: Submission, earlier: tuple[Submission, ...], split: Split
    ) -> list[Grant]:
        raise NotImplementedError

    def live(self, event: Live) -> list[Grant]:
        return self.judge(event.phase, event.submission, event.earlier, "public")

    def settle(self, event: Settlement) -> list[Grant]:
        ordered = event.submissions
        return [g for i, s in enumerate(ordered) for g in self.judge(event.phase, s, ordered[:i], "private")]


def _located(exc: ValidationError, prefix: tuple[str, ...]) -> ValidationError:
    """``exc`` with every location under ``prefix``."""
    details = []
    for error in exc.errors(include_url=False):
        detail = InitErrorDetails(type=error["type"], loc=(*prefix, *error["loc"]), input=error.get("input"))
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(exc.title, details)
