"""Scoring one notebook at one commit: sanitize → execute → collect on a worker, then judge.

Each step is a small function. :func:`run` strings the worker's steps together and returns
the predictions (a :class:`Run`); :func:`judge`, in the scorer process, which alone reads the
answer keys, checks them against the key and computes the metrics. Recording the result is the
caller's business (the ledger), so this module does no database work.
"""

from __future__ import annotations

import contextlib
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import nbformat

from scorer.challenge.phase_data import PhaseData
from scorer.challenge.spec import Challenge, Phase
from scorer.environments.model import Environment
from scorer.environments.store import lease
from scorer.exceptions import InfrastructureError, PolicyRefusal, SubmissionFailure
from scorer.ingest.repo import ChallengeRepo
from scorer.scoring.inputs import PublicInputs
from scorer.scoring.metrics import compute_metrics, read_answers
from scorer.scoring.outcome import check_outcome, run_time
from scorer.scoring.predictions import check_predictions, load_predictions
from scorer.scoring.provenance import environment_hash, scorer_version
from scorer.scoring.results import Run, RunResult
from scorer.scoring.safe_read import NotARegularFile, read_regular
from scorer.scoring.sandbox.runner import RunFolders, Runner, RunOutcome, RunRequest
from scorer.scoring.sanitize import MAX_NOTEBOOK_BYTES, CellLabel, read_notebook, sanitize

#: Key of the executed notebook's ``coop`` metadata naming the challenge environment it ran in.
ENVIRONMENT_METADATA = "environment"


@dataclass(frozen=True)
class Job:
    """Everything one run needs; the organiser's tree is trusted, the commit is not."""

    challenge: Challenge
    phase: Phase
    repo: ChallengeRepo
    commit: str
    notebook: str
    organiser_tree: Path
    organiser_commit: str
    inputs: PublicInputs
    runner: Runner
    runs_dir: Path
    #: The challenge environment the kernel runs from; None: the platform's own Python.
    environment: Environment | None = None


def run(job: Job) -> Run:
    """Run one notebook; raise :class:`SubmissionFailure` when it leaves no readable predictions."""
    job.runs_dir.mkdir(parents=True, exist_ok=True)
    folders = RunFolders.create(Path(tempfile.mkdtemp(prefix="run-", dir=job.runs_dir)))
    started = datetime.now(UTC)
    try:
        labels = checkout(job, folders.work)
        with lease(job.environment) if job.environment else contextlib.nullcontext():
            outcome = execute(job, folders)
        executed = _read_executed(folders.output / "executed.ipynb")
        try:
            return collect(job, folders, outcome, executed, labels, started)
        except SubmissionFailure as failure:  # the run happened: its notebook shows the failure
            failure.details["executed_notebook"] = executed
            failure.details["provenance"] = provenance(job, started, outcome, executed)
            raise
    finally:
        shutil.rmtree(folders.root, ignore_errors=True)


def collect(
    job: Job,
    folders: RunFolders,
    outcome: RunOutcome,
    executed: bytes | None,
    labels: Sequence[CellLabel],
    started: datetime,
) -> Run:
    """What the run left: how it ended, and its predictions (read, not yet checked)."""
    check_outcome(outcome, job.phase.limits, executed, labels)
    return Run(
        predictions=load_predictions(folders.output / job.phase.predictions.file, job.phase.predictions),
        run_time=run_time(executed),
        peak_memory=outcome.peak_memory / 1024**2,
        started_at=started,
        executed_notebook=executed,
        provenance=provenance(job, started, outcome, executed),
    )


def judge(run: Run, challenge: Challenge, phase: Phase, organiser_tree: Path, data: PhaseData) -> RunResult:
    """The run's predictions against the answer key, with the organiser's metric code at the
    run's organiser commit (``organiser_tree``): the scorer process's step."""
    facts = {**run.provenance, "answers_hash": data.answers_hash}
    try:
        answers = read_answers(data.answers, phase)
        ids = answers[phase.predictions.id_column]
        predictions = check_predictions(run.predictions, phase.predictions, ids)
        metrics = compute_metrics(
            challenge,
            phase,
            organiser_tree / challenge.data.scoring_module,
            predictions,
            answers,
            run_time=run.run_time,
            peak_memory=run.peak_memory,
            inputs_dir=data.inputs,
        )
    except SubmissionFailure as failure:  # the run happened: its notebook shows the failure
        failure.details["executed_notebook"] = run.executed_notebook
        failure.details["provenance"] = facts
        raise
    return RunResult(
        public=metrics["public"],
        private=metrics["private"],
        run_time=run.run_time,
        peak_memory=run.peak_memory,
        started_at=run.started_at,
        finished_at=datetime.now(UTC),
        executed_notebook=run.executed_notebook or b"",
        provenance=facts,
    )


def checkout(job: Job, work: Path) -> tuple[CellLabel, ...]:
    """The commit's tree, with the organiser's paths put back and the notebook sanitized; how
    the cells that run are named in the participant's notebook."""
    export(job, work)
    for owned in job.challenge.organiser.paths:
        target = work / owned.rstrip("/")
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        source = job.organiser_tree / owned.rstrip("/")
        if source.is_dir():
            shutil.copytree(source, target)
        elif source.is_file():
            shutil.copy2(source, target)
    baseline_file = job.organiser_tree / job.phase.baseline
    baseline = read_notebook(baseline_file.read_bytes(), job.phase.baseline)
    sanitized = sanitize(
        job.repo.read(job.commit, job.notebook), job.notebook, baseline, job.environment is not None
    )
    coop = sanitized.notebook.metadata.setdefault("coop", {})
    coop.pop(ENVIRONMENT_METADATA, None)  # participant input: only the scorer says where it ran
    if job.environment:
        coop[ENVIRONMENT_METADATA] = job.environment.key
    target = work / PurePosixPath(job.notebook)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nbformat.writes(sanitized.notebook), encoding="utf-8")
    return sanitized.labels


def export(job: Job, work: Path) -> None:
    """The commit's files; a link that would lead out of the checkout (the archive's ``data``
    filter refuses it) is the commit's fault, said so, never retried as ours."""
    try:
        job.repo.export(job.commit, work)
    except tarfile.FilterError as exc:
        member = exc.tarinfo
        what = f"a link to {member.linkname}" if member.issym() or member.islnk() else "not a regular file"
        raise PolicyRefusal(
            "link",
            f"commit {job.commit[:10]} cannot be checked out for scoring: {member.name} is {what}, "
            f"which leads out of the repository; remove it (git rm {member.name}), read data from "
            "inputs_dir, and commit again",
            f"export of {job.commit} refused: {exc}",
        ) from exc


def execute(job: Job, folders: RunFolders) -> RunOutcome:
    request = RunRequest(
        folders,
        job.notebook,
        dict(job.phase.parameters),
        job.inputs.folder,
        job.phase.limits,
        job.phase.predictions.file,
        job.environment,
    )
    try:
        return job.runner.run(request)
    except OSError as exc:
        raise InfrastructureError("the notebook could not be started", repr(exc)) from exc


def provenance(job: Job, started: datetime, outcome: RunOutcome, executed: bytes | None) -> dict[str, Any]:
    return {
        "challenge": job.challenge.id,
        "phase": job.phase.id,
        "commit": job.commit,
        "notebook": job.notebook,
        "organiser_commit": job.organiser_commit,
        "parameters": outcome.parameters,
        "input_hash": job.inputs.hash,
        "scorer_version": scorer_version(),
        "environment_hash": environment_hash(),
        "challenge_environment": job.environment.key if job.environment else None,
        "sandboxed": outcome.sandboxed,
        "limits": job.phase.limits.model_dump(mode="json"),
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "wall_time": round(outcome.wall_time, 3),
        "run_time": round(run_time(executed), 3) if executed else None,
        "peak_memory_mib": round(outcome.peak_memory / 1024**2, 1),
    }


def _read_executed(path: Path) -> bytes | None:
    """The executed notebook, unless the run replaced it with a link or something else."""
    try:
        return read_regular(path, MAX_NOTEBOOK_BYTES)
    except NotARegularFile:
        return None
