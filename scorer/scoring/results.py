"""Plain data passed between the pipeline, the executor and the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas costs half a second to import; the ledger and CLI never need it
    import pandas as pd


@dataclass(frozen=True)
class ScoringContext:
    """What an organiser's metric function receives.

    ``answers`` holds only the rows of one split (public or private), aligned with
    ``predictions`` on the phase's id column (same order, same ids).
    """

    predictions: pd.DataFrame
    answers: pd.DataFrame
    split: str
    run_time: float
    peak_memory: float
    inputs_dir: Path
    phase: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    """A run that went to the end, as a worker hands it back: its predictions, read and parsed
    but not yet checked against the answer key (which the worker never sees)."""

    predictions: pd.DataFrame
    run_time: float
    peak_memory: float
    started_at: datetime
    executed_notebook: bytes | None
    provenance: dict[str, Any]


@dataclass(frozen=True)
class RunResult:
    """A scored run: metrics per split plus the provenance needed to reproduce it."""

    public: dict[str, float]
    private: dict[str, float]
    run_time: float
    peak_memory: float
    started_at: datetime
    finished_at: datetime
    executed_notebook: bytes
    provenance: dict[str, Any]
