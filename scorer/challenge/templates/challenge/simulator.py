"""Seeded data generator: writes the phase inputs and the hidden answer key."""

from pathlib import Path

import numpy as np
import pandas as pd


def generate(
    phase_id: str,
    inputs_dir: Path,
    answers_dir: Path,
    *,
    seed: int,
    public_fraction: float,
    n_train: int = 500,
    n_test: int = 200,
    noise: float = 0.1,
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, n_train + n_test)
    y = np.sin(x) + 0.3 * x + rng.normal(0, noise, x.size)
    ids = np.arange(x.size)
    pd.DataFrame({"id": ids[:n_train], "x": x[:n_train], "y": y[:n_train]}).to_csv(
        inputs_dir / "train.csv", index=False
    )
    pd.DataFrame({"id": ids[n_train:], "x": x[n_train:]}).to_csv(inputs_dir / "test.csv", index=False)
    usage = np.where(rng.random(n_test) < public_fraction, "public", "private")
    pd.DataFrame({"id": ids[n_train:], "y": y[n_train:], "usage": usage}).to_csv(
        answers_dir / "answers.csv", index=False
    )
