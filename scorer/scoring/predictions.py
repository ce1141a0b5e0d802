"""Reading the predictions a notebook wrote (on the worker), and checking them against the answer
key's ids (in the scorer process, which alone reads the keys)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from scorer.challenge.spec import Predictions
from scorer.exceptions import PredictionsInvalid, PredictionsMissing
from scorer.scoring.safe_read import NotARegularFile, printable, read_regular

MAX_PREDICTIONS_BYTES = 200 * 1024**2


def read_predictions(path: Path, spec: Predictions, answer_ids: pd.Series) -> pd.DataFrame:
    """The predictions, one row per answer id and in the answer key's order."""
    return check_predictions(load_predictions(path, spec), spec, answer_ids)


def load_predictions(path: Path, spec: Predictions) -> pd.DataFrame:
    """The predictions file as the run wrote it (at most :data:`MAX_PREDICTIONS_BYTES`), unchecked."""
    try:
        data = read_regular(path, MAX_PREDICTIONS_BYTES)
    except NotARegularFile as exc:
        raise PredictionsInvalid(f"{exc}: write your predictions as a plain file") from exc
    if data is None:
        raise PredictionsMissing(
            f"the notebook wrote no {spec.file}: write your predictions to the path in the "
            "`predictions_path` parameter"
        )
    try:
        if spec.file.endswith(".parquet"):
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype={spec.id_column: str})
    except Exception as exc:  # pandas raises many kinds for a malformed file
        raise PredictionsInvalid(f"{spec.file} cannot be read: {printable(str(exc))}") from exc
    return frame


def check_predictions(frame: pd.DataFrame, spec: Predictions, answer_ids: pd.Series) -> pd.DataFrame:
    missing_columns = [c for c in [spec.id_column, *spec.columns] if c not in frame.columns]
    if missing_columns:
        raise PredictionsInvalid(
            f"{spec.file} lacks the column(s) {', '.join(missing_columns)} "
            f"(found: {_listed(frame.columns) or 'none'})"
        )
    ids = frame[spec.id_column].astype(str)
    duplicated = ids[ids.duplicated()]
    if not duplicated.empty:
        raise PredictionsInvalid(
            f"{spec.file} has {len(duplicated)} duplicated {spec.id_column} value(s), "
            f"e.g. {_listed(duplicated.head(3))}"
        )
    expected = answer_ids.astype(str)
    unknown = ids[~ids.isin(expected)]
    absent = expected[~expected.isin(ids)]
    if not unknown.empty or not absent.empty:
        parts = [f"{spec.file} has {len(frame)} rows for {len(expected)} expected ids"]
        if not absent.empty:
            parts.append(f"{len(absent)} missing, e.g. {_listed(absent.head(3))}")
        if not unknown.empty:
            parts.append(f"{len(unknown)} unknown, e.g. {_listed(unknown.head(3))}")
        raise PredictionsInvalid("; ".join(parts))
    if not spec.allow_nan:
        empty = [c for c in spec.columns if frame[c].isna().any()]
        if empty:
            counts = ", ".join(f"{c} ({int(frame[c].isna().sum())} rows)" for c in empty)
            raise PredictionsInvalid(f"{spec.file} has missing values (NaN) in {counts}")
    aligned = frame.assign(**{spec.id_column: ids}).set_index(spec.id_column).loc[pd.Index(expected)]
    return aligned.reset_index()


def _listed(values: Iterable[object]) -> str:
    """Values the notebook wrote (ids, column names), quoted safely in a reason."""
    return printable(", ".join(map(str, values)))
