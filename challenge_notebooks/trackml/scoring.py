"""Metrics of the TrackML-style challenge: accuracy, speed and efficiency.

Each metric is ``def name(ctx) -> float`` where ``ctx`` is the platform's ``ScoringContext``:
``ctx.predictions`` (hit_id, track_id) and ``ctx.answers`` (hit_id, event_id, particle_id,
weight, usage) hold the hits of one split (public or private), aligned row by row. Whole
events belong to one split. Invalid predictions raise ``ValueError`` with a message the
participant sees.

The accuracy is the TrackML score, simplified only in how weights are made (see
simulator.py): a reconstructed track and a truth particle *match* when more than half of
the track's hits belong to the particle and more than half of the particle's hits are in
the track (the "double majority"). The score of an event is the sum of the weights of the
correctly assigned hits of all matched pairs (weights sum to 1 per event, noise weighs 0);
the accuracy is the mean over the split's events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # the platform passes a ScoringContext; no runtime import needed
    from scorer.scoring.results import ScoringContext

TEST_HITS = "test_hits.csv"


def accuracy(ctx: ScoringContext) -> float:
    """The TrackML score (0 to 1): weight of the hits of double-majority matched tracks."""
    per_event = _matched_weight_per_event(ctx)
    return float(per_event.mean()) if len(per_event) else 0.0


def efficiency(ctx: ScoringContext) -> float:
    """Fraction of reconstructable particles (3 or more hits) matched to a track (0 to 1)."""
    pairs, particle_hits = _pairs(ctx)
    reconstructable = particle_hits[particle_hits >= 3]
    if reconstructable.empty:
        return 0.0
    matched = pairs.loc[pairs["matched"], ["event_id", "particle_id"]]
    keys = pd.MultiIndex.from_frame(matched)
    return float(reconstructable.index.isin(keys).mean())


def time_per_event(ctx: ScoringContext) -> float:
    """The run time of the whole notebook divided by the number of test events (seconds)."""
    n_events = _n_test_events(ctx)
    if n_events <= 0:
        raise RuntimeError("the inputs hold no test events")
    return float(ctx.run_time) / n_events


def _matched_weight_per_event(ctx: ScoringContext) -> pd.Series:
    pairs, _ = _pairs(ctx)
    events = ctx.answers["event_id"].unique()
    return pairs.loc[pairs["matched"]].groupby("event_id")["weight"].sum().reindex(events, fill_value=0.0)


def _pairs(ctx: ScoringContext) -> tuple[pd.DataFrame, pd.Series]:
    """Every (event, track, particle) intersection, flagged ``matched`` by double majority.

    Also returns the number of hits of each truth particle, indexed by (event, particle).
    """
    track = _track_ids(ctx)
    answers = ctx.answers
    weight = answers["weight"].to_numpy(dtype=float)
    event_total = answers.groupby("event_id")["weight"].transform("sum").to_numpy(dtype=float)
    hits = pd.DataFrame(
        {
            "event_id": answers["event_id"].to_numpy(),
            "track_id": track,
            "particle_id": answers["particle_id"].to_numpy(),
            "weight": np.divide(weight, event_total, out=np.zeros_like(weight), where=event_total > 0),
        }
    )
    track_size = hits.groupby(["event_id", "track_id"]).size().rename("track_size")
    particle_hits = hits.groupby(["event_id", "particle_id"]).size().rename("particle_size")
    pairs = (
        hits.groupby(["event_id", "track_id", "particle_id"])
        .agg(common=("weight", "size"), weight=("weight", "sum"))
        .join(track_size, on=["event_id", "track_id"])
        .join(particle_hits, on=["event_id", "particle_id"])
        .reset_index()
    )
    pairs["matched"] = (
        (pairs["particle_id"] != 0)
        & (2 * pairs["common"] > pairs["track_size"])
        & (2 * pairs["common"] > pairs["particle_size"])
    )
    return pairs, particle_hits.drop(0, level="particle_id", errors="ignore")


def _track_ids(ctx: ScoringContext) -> np.ndarray:
    """The predicted track ids as integers, or ``ValueError`` saying what is wrong."""
    predictions = ctx.predictions
    if "track_id" not in predictions.columns:
        raise ValueError("predictions need a 'track_id' column (one integer per hit)")
    if len(predictions) != len(ctx.answers):
        raise RuntimeError("predictions and answers are not aligned (different lengths)")
    column = predictions["track_id"]
    if column.isna().any():
        raise ValueError(f"'track_id' is missing for {int(column.isna().sum())} hit(s)")
    values = pd.to_numeric(column, errors="coerce")
    if values.isna().any():
        raise ValueError("'track_id' must be an integer for every hit")
    array = values.to_numpy(dtype=float)
    if not np.isfinite(array).all() or (array != np.round(array)).any():
        raise ValueError("'track_id' must be an integer for every hit")
    if np.abs(array).max(initial=0) >= 2**53:
        raise ValueError("'track_id' values must be below 2**53")
    return array.astype(np.int64)


def _n_test_events(ctx: ScoringContext) -> int:
    """Number of test events, read from the inputs (all splits), else from the answers."""
    path = ctx.inputs_dir / TEST_HITS
    if path.exists():
        return int(pd.read_csv(path, usecols=["event_id"])["event_id"].nunique())
    return int(ctx.answers["event_id"].nunique())
