"""A phase's data: inputs notebooks may read, and the answer key only the scorer reads.

Both live under the scorer's private data folder, never in the challenge repository:
``<data>/<challenge>/<phase>/{inputs/, answers/answers.csv, meta.json}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scorer.challenge.organiser_code import load_function
from scorer.challenge.spec import Challenge, Phase
from scorer.exceptions import CoopError, PhaseDataMissing

ANSWERS_FILE = "answers.csv"
USAGE_COLUMN = "usage"


@dataclass(frozen=True)
class PhaseData:
    root: Path
    meta: dict[str, Any]

    @property
    def inputs(self) -> Path:
        return self.root / "inputs"

    @property
    def answers(self) -> Path:
        return self.root / "answers" / ANSWERS_FILE

    @property
    def input_hash(self) -> str:
        return str(self.meta["inputs_sha256"])

    @property
    def answers_hash(self) -> str:
        return str(self.meta["answers_sha256"])


def phase_root(data_root: Path, challenge_id: str, phase_id: str) -> Path:
    return data_root / challenge_id / phase_id


def load_phase_data(data_root: Path, challenge_id: str, phase_id: str) -> PhaseData:
    root = phase_root(data_root, challenge_id, phase_id)
    meta_file = root / "meta.json"
    if not meta_file.is_file():
        raise PhaseDataMissing(
            f"the data of phase {phase_id!r} of {challenge_id!r} is not prepared yet: "
            f"run `coop challenge prepare` first"
        )
    return PhaseData(root, json.loads(meta_file.read_text()))


def prepare_phase_data(
    challenge: Challenge,
    phase: Phase,
    organiser_tree: Path,
    data_root: Path,
    *,
    seed: int | None = None,
    force: bool = False,
) -> PhaseData:
    """Run the organiser's seeded generator for one phase (atomically; kept unless ``force``)."""
    root = phase_root(data_root, challenge.id, phase.id)
    if (root / "meta.json").is_file() and not force:
        return load_phase_data(data_root, challenge.id, phase.id)
    data_root.mkdir(parents=True, exist_ok=True)
    os.chmod(data_root, 0o700)  # answer keys inside: the scorer's eyes only
    root.parent.mkdir(parents=True, exist_ok=True)
    generate = load_function(organiser_tree, challenge.data.generator)
    # The seed is secret: with the public simulator, knowing it would reveal the answer key.
    seed = secrets.randbits(63) if seed is None else seed
    staging = Path(tempfile.mkdtemp(prefix=f".{phase.id}-", dir=root.parent))
    inputs, answers = staging / "inputs", staging / "answers"
    inputs.mkdir()
    answers.mkdir()
    try:
        generate(
            phase.id,
            inputs,
            answers,
            seed=seed,
            public_fraction=phase.test_split.public_fraction,
            **phase.data_args,
        )
        if not (answers / ANSWERS_FILE).is_file():
            raise CoopError(f"the generator wrote no answers/{ANSWERS_FILE} for phase {phase.id!r}")
        _readable_by_all(inputs)
        meta = {
            "challenge": challenge.id,
            "phase": phase.id,
            "seed": seed,
            "generated_at": datetime.now(UTC).isoformat(),
            "inputs_sha256": tree_hash(inputs),
            "answers_sha256": tree_hash(answers),
        }
        (staging / "meta.json").write_text(json.dumps(meta, indent=2))
        os.chmod(staging, 0o755)
        os.chmod(answers, 0o700)
        if root.exists():
            shutil.rmtree(root)
        staging.rename(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PhaseData(root, meta)


def tree_hash(folder: Path) -> str:
    """SHA-256 over the sorted relative paths and contents of every file in ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _readable_by_all(folder: Path) -> None:
    os.chmod(folder, 0o755)
    for path in folder.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
