"""Each rewarder of a phase in words: "10 points the first time accuracy ≥ 0.9".

Pure: the spec in, sentences out. A built-in is described by the function registered for its
class below (the most specific class wins, so ``limited-hardware`` is not read as the
``score-threshold`` it extends); any other installed rewarder by its amount and the first
sentence of its class's documentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from scorer.challenge.spec import Challenge, Phase
from scorer.rewards.achievements import BeatBaseline, LimitedHardware, OrganiserCheck, ScoreThreshold
from scorer.rewards.base import Rewarder
from scorer.rewards.measures import phase_measures
from scorer.rewards.peers import PeerLikes, Reproduced
from scorer.rewards.progress import Improvement, NewRecord, ParetoFront
from scorer.rewards.registry import build
from scorer.rewards.settlement import CreditShare, RankPrize
from scorer.rewards.views import Measure, Moment

Measures = dict[str, Measure]


@dataclass(frozen=True)
class Description:
    index: int
    type: str
    amount: float
    unit: str
    moment: Moment
    text: str


def describe(challenge: Challenge, phase: Phase) -> list[Description]:
    """The phase's rewarders in its ``rewarders:`` order."""
    measures = phase_measures(challenge, phase)
    found = []
    for index, entry in enumerate(phase.rewarders):
        rewarder = build(index, entry.type, entry.amount, entry.threshold, entry.params)
        text = sentence(rewarder, measures)
        if rewarder.moment == "settlement":
            text += ", when the phase is settled (private scores)"
        found.append(Description(index, rewarder.type, rewarder.amount, rewarder.unit, rewarder.moment, text))
    return found


def amount(value: float, unit: str) -> str:
    """``10 points``, ``1 point``, ``2.5 points``."""
    singular = unit[:-1] if unit.endswith("s") and value == 1 else unit
    return f"{value:g} {singular}"


def _name(measure: Measure) -> str:
    """``accuracy``; a board's column as ``score on throughput``."""
    board, _, column = measure.key.partition(".")
    return f"{column} on {board}" if column else board


def _sign(measure: Measure) -> str:
    return "≥" if measure.direction == "maximize" else "≤"


def _noise(measure: Measure) -> str:
    return f" by more than {measure.noise_threshold:g}" if measure.noise_threshold else ""


def _each(rewarder: Rewarder) -> str:
    return amount(rewarder.amount, rewarder.unit)


@singledispatch
def sentence(rewarder: Rewarder, measures: Measures) -> str:
    """A rewarder without a sentence of its own: its amount and what its documentation says first."""
    doc = (type(rewarder).__doc__ or "").strip().split("\n\n")[0]
    first = " ".join(doc.split()).split(". ")[0].rstrip(".")
    return f"{_each(rewarder)}: {rewarder.type}" + (f" ({first})" if first else "")


@sentence.register
def _(rewarder: ScoreThreshold, measures: Measures) -> str:
    measure = measures[rewarder.params.measure]
    return f"{_each(rewarder)} the first time {_name(measure)} {_sign(measure)} {rewarder.threshold:g}"


@sentence.register
def _(rewarder: LimitedHardware, measures: Measures) -> str:
    units = {"time": " s", "time_per_event": " s", "memory": " MiB"}
    caps = ", ".join(f"{key} ≤ {cap:g}{units[key]}" for key, cap in rewarder.caps.items())
    return f"{sentence.dispatch(ScoreThreshold)(rewarder, measures)} with {caps}"


@sentence.register
def _(rewarder: BeatBaseline, measures: Measures) -> str:
    measure = measures[rewarder.params.measure]
    return (
        f"{_each(rewarder)} to the first submission beating the baseline's {_name(measure)}{_noise(measure)}"
    )


@sentence.register
def _(rewarder: OrganiserCheck, measures: Measures) -> str:
    text = f"{_each(rewarder)} the first time the organisers' check {rewarder.params.function} passes"
    if rewarder.params.metric is not None and rewarder.threshold is not None:
        measure = measures[rewarder.params.metric]
        text += f" with {_name(measure)} {_sign(measure)} {rewarder.threshold:g}"
    return text


@sentence.register
def _(rewarder: NewRecord, measures: Measures) -> str:
    measure = measures[rewarder.params.measure]
    return f"{_each(rewarder)} for each new record of {_name(measure)}{_noise(measure)}"


@sentence.register
def _(rewarder: Improvement, measures: Measures) -> str:
    measure, params = measures[rewarder.params.measure], rewarder.params
    gain = f"{params.per:g} of {_name(measure)} gained over one's own best{_noise(measure)}"
    text = f"{_each(rewarder)} per {gain}"
    if params.max_amount is not None:
        text += f" (at most {amount(params.max_amount, rewarder.unit)} a submission)"
    return text


@sentence.register
def _(rewarder: ParetoFront, measures: Measures) -> str:
    target, cost = measures[rewarder.params.measure], measures[rewarder.params.cost]
    return (
        f"{_each(rewarder)} per {rewarder.params.per:g} of hypervolume a submission adds to the "
        f"{_name(target)}-vs-{_name(cost)} front"
    )


@sentence.register
def _(rewarder: RankPrize, measures: Measures) -> str:
    prizes = ", ".join(
        f"{amount(value, rewarder.unit)} for rank {rank}"
        for rank, value in enumerate(rewarder.params.amounts, start=1)
    )
    return f"{prizes} on {rewarder.params.leaderboard}"


@sentence.register
def _(rewarder: CreditShare, measures: Measures) -> str:
    measure = measures[rewarder.params.measure]
    return f"{_each(rewarder)} shared in proportion to credit on {_name(measure)}"


@sentence.register
def _(rewarder: PeerLikes, measures: Measures) -> str:
    levels = ", ".join(str(level) for level in rewarder.params.levels)
    return f"{_each(rewarder)} each time a submission's likes from others reach {levels}"


@sentence.register
def _(rewarder: Reproduced, measures: Measures) -> str:
    return (
        f"{_each(rewarder)} when a re-run on another worker reproduces a submission's metrics "
        f"within {rewarder.params.tolerance:g}"
    )
