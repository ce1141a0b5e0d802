"""The organiser's metrics: each receives a ScoringContext and returns a float."""

import numpy as np


def _errors(ctx) -> np.ndarray:  # noqa: ANN001
    predicted = ctx.predictions["y"].to_numpy(dtype=float)
    return predicted - ctx.answers["y"].to_numpy(dtype=float)


def rmse(ctx) -> float:  # noqa: ANN001
    return float(np.sqrt(np.mean(_errors(ctx) ** 2)))


def mae(ctx) -> float:  # noqa: ANN001
    return float(np.mean(np.abs(_errors(ctx))))
