"""The edge between a challenge's spec and the views rewarders read: each measure a phase offers
(metrics, ``time``, ``memory`` and every value column of its boards) with its direction as the
boards sort it, and a run's values with its boards' computed columns filled in."""

from __future__ import annotations

from collections.abc import Mapping

from scorer.challenge.spec import BUILTIN_VARIABLES, Challenge, Phase, Sorting, column_sorting
from scorer.ranking.leaderboard import column_values, is_rank_based
from scorer.rewards.views import Direction, Measure, Scores, Values, column_key


def phase_measures(challenge: Challenge, phase: Phase) -> dict[str, Measure]:
    """Metrics with their direction and noise threshold (their own, else the challenge's); ``time`` and
    ``memory`` (minimised, no noise threshold); each value column of the phase's boards in its
    board's sort order (rank columns are left out: they are no value of one submission)."""
    noise = challenge.noise_threshold
    measures = {
        m.key: Measure(m.key, m.direction.value, challenge.metric_noise(m.key)) for m in challenge.metrics
    }
    measures.update({key: Measure(key, "minimize", 0.0) for key in BUILTIN_VARIABLES})
    for board in challenge.phase_leaderboards(phase):
        for column in board.columns:
            if is_rank_based(column):
                continue
            key = column_key(board.key, column.key)
            direction: Direction = (
                "maximize" if column_sorting(challenge, column) == Sorting.DESC else "minimize"
            )
            source = measures.get(column.source_metric) if column.computation is None else None
            measures[key] = Measure(key, direction, noise if source is None else source.noise_threshold)
    return measures


def with_columns(challenge: Challenge, phase: Phase, values: Values) -> dict[str, float | None]:
    """``values`` (metric keys, ``time``, ``memory``) plus every value column of the phase's boards."""
    found: dict[str, float | None] = dict(values)
    for board in challenge.phase_leaderboards(phase):
        for column, value in column_values(challenge, board, values).items():
            if not is_rank_based(board.column(column)):
                found[column_key(board.key, column)] = value
    return found


def scores(
    challenge: Challenge,
    phase: Phase,
    public: Mapping[str, float | None],
    private: Mapping[str, float | None],
    time: float | None,
    memory: float | None,
) -> Scores:
    """A run's :class:`Scores` view, its boards' columns computed per split."""
    measured = {"time": time, "memory": memory}
    return Scores(
        with_columns(challenge, phase, {**public, **measured}),
        with_columns(challenge, phase, {**private, **measured}),
        time,
        memory,
    )
