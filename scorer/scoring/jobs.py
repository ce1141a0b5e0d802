"""Building a :class:`~scorer.scoring.pipeline.Job` from the ledger's view of a submission: the
commit, the organiser's trusted tree, the phase's published inputs, the sandbox and the phase's
environment: nothing of the answer keys."""

from __future__ import annotations

from scorer.challenge.organiser_tree import organiser_tree
from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.environments.store import environment_for
from scorer.ingest.repo import ChallengeRepo
from scorer.scoring.inputs import PublicInputs
from scorer.scoring.pipeline import Job
from scorer.scoring.sandbox.choose import runner_for


def build_job(
    settings: ScorerSettings,
    challenge: Challenge,
    repo_url: str,
    phase_id: str,
    commit: str,
    notebook: str,
    inputs: PublicInputs,
) -> Job:
    repo = ChallengeRepo.mirror(repo_url, settings.mirrors, having=commit)
    organiser_commit = repo.resolve(challenge.organiser.ref)
    tree = organiser_tree(settings, repo, challenge.id, organiser_commit)
    return Job(
        challenge=challenge,
        phase=challenge.phase(phase_id),
        repo=repo,
        commit=repo.resolve(commit),
        notebook=notebook,
        organiser_tree=tree,
        organiser_commit=organiser_commit,
        inputs=inputs,
        runner=runner_for(settings, challenge),
        runs_dir=settings.runs,
        environment=environment_for(settings, challenge, phase_id, tree),
    )
