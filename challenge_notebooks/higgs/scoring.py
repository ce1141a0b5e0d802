"""Metrics of the Higgs challenge: the approximate median significance (AMS) and more.

Each metric is ``def name(ctx) -> float`` where ``ctx`` is the platform's ``ScoringContext``:
``ctx.predictions`` (EventId, Class) and ``ctx.answers`` (EventId, Label, Weight, usage) hold
the rows of one split (public or private), aligned row by row. Invalid predictions raise
``ValueError`` with a message the participant sees.

Weights are renormalised per split, class by class, so that a split's signal and background
weights sum to the expected totals (``metadata.json`` in the inputs), as in HiggsML 2014:
the AMS of the public and of the private split are then comparable with each other and with
the AMS computed on the training set.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # the platform passes a ScoringContext; no runtime import needed
    from scorer.scoring.results import ScoringContext

#: Default regularisation term of the AMS, used when metadata.json does not give one.
B_REG = 10.0
CLASSES = ("s", "b")


def ams(ctx: ScoringContext) -> float:
    """Approximate median significance of the events predicted as signal.

    AMS = sqrt(2 ((s + b + b_reg) ln(1 + s / (b + b_reg)) - s)), with s (b) the sum of the
    weights of true signal (background) events predicted as signal, and b_reg = 10.
    """
    selected, is_signal, weight = _selection(ctx)
    s = float(weight[selected & is_signal].sum())
    b = float(weight[selected & ~is_signal].sum())
    return ams_value(s, b, _b_reg(ctx))


def signal_efficiency(ctx: ScoringContext) -> float:
    """Weighted fraction of the true signal that is predicted as signal (0 to 1)."""
    selected, is_signal, weight = _selection(ctx)
    total = float(weight[is_signal].sum())
    return float(weight[selected & is_signal].sum()) / total if total > 0 else 0.0


def ams_value(s: float, b: float, b_reg: float = B_REG) -> float:
    """The AMS formula itself (also handy in notebooks)."""
    if s < 0 or b < 0:
        raise ValueError("s and b must be non-negative")
    radicand = 2.0 * ((s + b + b_reg) * math.log1p(s / (b + b_reg)) - s)
    return math.sqrt(max(radicand, 0.0))


def _selection(ctx: ScoringContext) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predicted signal, true signal, renormalised weight) as arrays over the split."""
    predictions, answers = ctx.predictions, ctx.answers
    if "Class" not in predictions.columns:
        raise ValueError("predictions need a 'Class' column with values 's' or 'b'")
    predicted = predictions["Class"]
    if predicted.isna().any():
        raise ValueError(f"'Class' is missing for {int(predicted.isna().sum())} event(s)")
    predicted = predicted.astype(str).str.strip()
    bad = sorted(set(predicted) - set(CLASSES))
    if bad:
        shown = ", ".join(repr(v) for v in bad[:5])
        raise ValueError(f"'Class' must be 's' or 'b'; found {shown}")
    if len(predicted) != len(answers):
        raise RuntimeError("predictions and answers are not aligned (different lengths)")

    is_signal = (answers["Label"] == "s").to_numpy()
    weight = answers["Weight"].to_numpy(dtype=float).copy()
    meta = _metadata(ctx)
    for mask, total in (
        (is_signal, meta.get("expected_signal")),
        (~is_signal, meta.get("expected_background")),
    ):
        split_sum = weight[mask].sum()
        if total is not None and split_sum > 0:
            weight[mask] *= float(total) / split_sum
    return (predicted == "s").to_numpy(), is_signal, weight


def _b_reg(ctx: ScoringContext) -> float:
    """b_r from the phase parameters, else from metadata.json, else 10."""
    value = ctx.params.get("b_reg", _metadata(ctx).get("b_reg", B_REG))
    return float(value)


def _metadata(ctx: ScoringContext) -> dict[str, Any]:
    path = ctx.inputs_dir / "metadata.json"
    return json.loads(path.read_text()) if path.exists() else {}
