"""The embedded demo: publish the shipped challenges, commit baselines and examples, score them."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coop_client.git import HEADS, enable_nbdime, run
from coop_client.layout import solution_path
from coop_client.lineage import Lineage, with_lineage
from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.challenge.spec import Challenge
from scorer.environments.phases import PhaseEnvironment
from scorer.facade import CoopAPI, Queued
from scorer.ledger.settlements import SettlementView
from scorer.organise.settle import settle_ended

#: Fixed so that the demo prints the same figures every time; real challenges use a secret seed.
DEMO_SEED = 2026
BASELINE_USER = "baseline"
#: How far back the demo's first commit is dated, and the time between two commits.
DEMO_SPAN = timedelta(hours=8)
DEMO_STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class DemoChallenge:
    challenge: Challenge
    repository: Path
    queued: list[Queued]
    #: Submissions of examples that fail on purpose, and why (their ``coop.fails_on_purpose``).
    on_purpose: dict[int, str]
    #: Submissions of examples others like once scored (their ``coop.liked_by``).
    liked_by: dict[int, tuple[str, ...]]
    #: Each phase's software environment as prepare left it.
    environments: list[PhaseEnvironment]


def challenge_folders(source: Path) -> list[Path]:
    return sorted(p.parent for p in source.glob("*/challenge.yaml"))


def _prefixed(progress: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    return lambda message: progress(f"{prefix}: {message}")


def build(
    api: CoopAPI, source: Path, workspace: Path, progress: Callable[[str], None] | None = None
) -> list[DemoChallenge]:
    """Publish every challenge under ``source`` (its environments built, its data generated) and
    queue its baselines and examples."""
    built = []
    # Work spread over the last hours, in commit order: the contribution graph is drawn over time
    # (made in one go, every commit would share a second).
    dates = (datetime.now(UTC) - DEMO_SPAN + n * DEMO_STEP for n in itertools.count())
    for folder in challenge_folders(source):
        challenge = load_spec(folder)
        if progress:
            progress(f"{challenge.id}: publishing")
        repository = workspace / "git" / f"{challenge.id}.git"
        publish(
            folder,
            repository,
            message=f"Publish {challenge.title}",
            author="Organiser",
            email="organiser@coopetition.local",
        )
        said = _prefixed(progress, challenge.id) if progress else None
        prepared = api.prepare(str(repository), seed=DEMO_SEED, progress=said)
        clone = workspace / "clones" / challenge.id
        run(workspace, "clone", "-q", str(repository), str(clone), env=_identity("Organiser"))
        enable_nbdime(clone)
        queued: list[Queued] = []
        on_purpose: dict[int, str] = {}
        liked_by: dict[int, tuple[str, ...]] = {}
        for phase in challenge.phases:
            target = str(solution_path(challenge.solutions, BASELINE_USER, f"{phase.id}-baseline"))
            sha = _commit(clone, BASELINE_USER, {target: (folder / phase.baseline).read_bytes()}, next(dates))
            queued += api.enqueue_commit(str(repository), sha, phase_id=phase.id)
        now = datetime.now(UTC)
        committed: dict[str, Lineage] = {}
        for example in sorted((folder / "examples").glob("*.ipynb")):
            person, _, name = example.stem.partition("-")
            notebook = json.loads(example.read_text(encoding="utf-8"))
            coop = notebook.get("metadata", {}).get("coop", {})
            phase_id = coop.get("phase")
            chosen = challenge.phase(phase_id) if phase_id else challenge.current_phase(now)
            target = str(solution_path(challenge.solutions, person, name or "solution"))
            content = example.read_bytes()
            if "builds_on" in coop:
                content = _built_on(notebook, committed, coop["builds_on"], example)
            sha = _commit(clone, person, {target: content}, next(dates))
            committed[example.stem] = Lineage(path=target, commit=sha)
            mine = api.enqueue_commit(str(repository), sha, phase_id=chosen.id if chosen else None)
            if coop.get("fails_on_purpose"):
                on_purpose.update({q.submission_id: coop["fails_on_purpose"] for q in mine})
            liked_by.update({q.submission_id: tuple(coop.get("liked_by", ())) for q in mine})
            queued += mine
        built.append(
            DemoChallenge(challenge, repository, queued, on_purpose, liked_by, prepared.environments)
        )
    return built


def cooperate(api: CoopAPI, built: list[DemoChallenge]) -> list[SettlementView]:
    """After scoring: people like the examples their metadata says, and the phases that have
    ended are settled on private scores, as ``coop serve`` does when a phase ends."""
    for item in built:
        for submission_id, people in sorted(item.liked_by.items()):
            for person in people:
                api.like(submission_id, person)
    return settle_ended(api)


def reset(workspace: Path) -> None:
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)


def _built_on(notebook: dict[str, Any], committed: dict[str, Lineage], original: str, example: Path) -> bytes:
    """``notebook`` as "Build on this" leaves it: ``coop.lineage`` names the example it copied, as
    committed before it (examples are committed in name order)."""
    if original not in committed:
        raise ValueError(f"{example.name} builds on {original!r}, which is no example committed before it")
    notebook["metadata"] = with_lineage(notebook["metadata"], committed[original])
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode()


def _commit(clone: Path, user: str, files: dict[str, bytes], when: datetime) -> str:
    for relative, content in files.items():
        path = clone / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    date = when.isoformat(timespec="seconds")
    env = {**_identity(user), "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    run(clone, "add", "--all", env=env)
    run(clone, "commit", "-q", "-m", f"{user}: {', '.join(files)}", env=env)
    run(clone, "push", "-q", "origin", f"HEAD:{HEADS}{user}/demo", env=env)
    return run(clone, "rev-parse", "HEAD", env=env).strip()


def _identity(user: str) -> dict[str, str]:
    """git as ``user``, without the global git settings of whoever runs the demo."""
    email = f"{user.lower()}@coopetition.local"
    names = {"GIT_AUTHOR_NAME": user, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": user}
    return {**names, "GIT_COMMITTER_EMAIL": email, "GIT_CONFIG_GLOBAL": os.devnull}
