"""The organiser's trusted files (spec, scoring code, baselines), one folder per organiser commit."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from scorer.config import ScorerSettings
from scorer.ingest.repo import ChallengeRepo, file_lock


def organiser_tree(settings: ScorerSettings, repo: ChallengeRepo, challenge_id: str, sha: str) -> Path:
    """The organiser's files at ``sha``, exported once into the scorer's trusted folder."""
    target = settings.trusted / challenge_id / sha
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.parent / f".{sha}.lock"):
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(dir=target.parent))
            try:
                repo.export(sha, staging)
                staging.rename(target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    return target
