"""Easy start: copy a phase's baseline into the participant's own solution notebook.

The specification and the baseline are read from the organiser's branch as fetched
(``origin/HEAD`` names it), never from the participant's working tree. An existing solution
notebook is never overwritten: Easy start then simply opens it. The phase's inputs are put
where that notebook reads them by :mod:`coop_widgets.inputs`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from coop_client.git import call

from scorer.challenge.load import SPEC_FILE, parse_spec
from scorer.challenge.spec import Challenge, Phase
from scorer.exceptions import CoopError, SpecError


class EasyStartError(CoopError):
    """Easy start cannot proceed; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


def solution_path(challenge: Challenge, user: str, phase: Phase) -> PurePosixPath:
    """Where ``user``'s notebook for ``phase`` lives, following the challenge's ``solutions``."""
    base = PurePosixPath(challenge.solutions.path)
    if challenge.solutions.per_user:
        return base / user / f"{phase.id}.ipynb"
    return base / f"{user}-{phase.id}.ipynb"


def choose_phase(challenge: Challenge, phase_id: str | None, now: datetime) -> Phase:
    """The phase asked for, else the open one, else the one that started last."""
    if phase_id:
        try:
            return challenge.phase(phase_id)
        except KeyError as exc:
            raise EasyStartError(str(exc.args[0]), 404) from None
    started = [p for p in challenge.phases if p.start <= now] or challenge.phases
    return challenge.current_phase(now) or max(started, key=lambda p: p.start)


def phase_to_start(clone: Path, phase_id: str | None = None, now: datetime | None = None) -> Phase:
    """The phase Easy start opens in ``clone`` (see :func:`choose_phase`)."""
    return choose_phase(_organiser_spec(clone), phase_id, now or datetime.now(UTC))


def easy_start(
    clone: Path, user: str, *, phase_id: str | None = None, now: datetime | None = None
) -> PurePosixPath:
    """Make sure ``user``'s notebook for the phase exists in ``clone``; its path in the clone."""
    challenge = _organiser_spec(clone)
    phase = choose_phase(challenge, phase_id, now or datetime.now(UTC))
    relative = solution_path(challenge, user, phase)
    target = clone / relative
    if target.exists():
        return relative
    baseline = _show(clone, f"origin/{challenge.organiser.ref}", phase.baseline)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "xb") as handle:  # "x": a notebook made meanwhile is kept, not replaced
            handle.write(baseline)
    except FileExistsError:
        pass
    return relative


def _organiser_spec(clone: Path) -> Challenge:
    if not (clone / ".git").is_dir():
        raise EasyStartError(f"there is no clone of this challenge at {clone.name}", 404)
    try:
        return parse_spec(_show(clone, "origin/HEAD", SPEC_FILE).decode("utf-8"))
    except (SpecError, UnicodeDecodeError) as exc:
        raise EasyStartError(f"the organiser's {SPEC_FILE} cannot be read: {exc}") from None


def _show(clone: Path, ref: str, path: str) -> bytes:
    done = call(clone, "show", f"{ref}:{path}")
    if not done.ok:
        problem = done.stderr.strip()
        raise EasyStartError(f"{path} is not on the organiser's branch ({ref}): {problem}")
    return done.stdout
