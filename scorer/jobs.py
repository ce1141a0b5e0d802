"""Building a :class:`~scorer.pipeline.Job` from the ledger's view of a submission."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from scorer.config import ScorerSettings
from scorer.phase_data import load_phase_data
from scorer.pipeline import Job
from scorer.repo import ChallengeRepo, file_lock
from scorer.sandbox import make_runner
from scorer.spec import Challenge


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


def build_job(
    settings: ScorerSettings,
    challenge: Challenge,
    repo_url: str,
    phase_id: str,
    commit: str,
    notebook: str,
    *,
    allow_unsandboxed: bool = False,
) -> Job:
    repo = ChallengeRepo.mirror(repo_url, settings.mirrors)
    organiser_commit = repo.resolve(challenge.organiser.ref)
    return Job(
        challenge=challenge,
        phase=challenge.phase(phase_id),
        repo=repo,
        commit=repo.resolve(commit),
        notebook=notebook,
        organiser_tree=organiser_tree(settings, repo, challenge.id, organiser_commit),
        organiser_commit=organiser_commit,
        data=load_phase_data(settings.data_root, challenge.id, phase_id),
        runner=make_runner(
            settings.sandbox,
            allow_unsandboxed=allow_unsandboxed or settings.allow_unsandboxed or challenge.allow_unsandboxed,
        ),
        runs_dir=settings.runs,
    )
