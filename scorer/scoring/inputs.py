"""A phase's public inputs where scoring workers read them: outside the phase data folder.

The phase data (``<data>/<challenge>/<phase>/``) holds the answer key and the generator's secret
seed beside the inputs, so workers never get it. The scorer process publishes the inputs once
per content hash into ``<home>/inputs/<hash>/`` (hard links, no copy, when on one filesystem),
and a task names that folder: it is all a worker needs of the phase data, and all it mounts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scorer.challenge.phase_data import load_phase_data
from scorer.config import ScorerSettings


@dataclass(frozen=True)
class PublicInputs:
    """The published inputs of a phase: the folder a run binds read-only, and its hash."""

    folder: Path
    hash: str


def inputs_root(settings: ScorerSettings) -> Path:
    return settings.home_path / "inputs"


def publish_inputs(settings: ScorerSettings, challenge_id: str, phase_id: str) -> PublicInputs:
    """The phase's inputs under :func:`inputs_root`, published (atomically) unless they are;
    raises :class:`~scorer.exceptions.PhaseDataMissing` when the phase is not prepared."""
    data = load_phase_data(settings.data_root, challenge_id, phase_id)
    target = inputs_root(settings) / data.input_hash
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{data.input_hash[:16]}-", dir=target.parent))
        try:
            shutil.copytree(data.inputs, staging / "inputs", copy_function=_link_or_copy)
            (staging / "inputs").rename(target)
        except OSError:
            if not target.is_dir():  # else another process published the same hash first
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return PublicInputs(target, data.input_hash)


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another filesystem, or one without hard links
        shutil.copy2(source, destination)
