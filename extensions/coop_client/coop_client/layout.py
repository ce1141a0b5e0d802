"""The participant's view of ``challenge.yaml``: what a clone needs to find its way.

A clone reads the organiser's specification to know where solution notebooks go, which branch
is the organiser's and when each phase opens. :class:`Layout` reads only those keys and ignores
the rest: the scorer validates the whole specification (:mod:`scorer.challenge.spec`) and uses
the same rules from here, so the two never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coop_client.models import SLUG
from coop_client.utc import as_utc

#: The specification's file name, at the root of the challenge's repository.
SPEC_FILE = "challenge.yaml"
#: Where solution notebooks live unless the specification says otherwise.
SOLUTIONS_PATH = "solutions"
#: The organiser's branch unless the specification says otherwise.
ORGANISER_REF = "main"
#: Prefix of the kernels JupyterLab offers for challenge environments.
KERNEL_PREFIX = "coop-"


class Timed(Protocol):
    """A phase as far as time goes: its id and when it opens and closes."""

    @property
    def id(self) -> str: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime | None: ...


PhaseT = TypeVar("PhaseT", bound=Timed)


class SolutionsRule(Protocol):
    """Where solution notebooks live: under ``path``, in one folder per person if ``per_user``."""

    @property
    def path(self) -> str: ...

    @property
    def per_user(self) -> bool: ...


def is_open(phase: Timed, now: datetime) -> bool:
    return phase.start <= now and (phase.end is None or now < phase.end)


def find_phase(phases: Sequence[PhaseT], phase_id: str) -> PhaseT:
    """The phase named ``phase_id``; ``KeyError`` naming the known ones otherwise."""
    for phase in phases:
        if phase.id == phase_id:
            return phase
    known = ", ".join(p.id for p in phases)
    raise KeyError(f"unknown phase {phase_id!r} (phases: {known})")


def current_phase(phases: Sequence[PhaseT], now: datetime) -> PhaseT | None:
    """The open phase that started last, or ``None`` between phases."""
    open_phases = [p for p in phases if is_open(p, now)]
    return max(open_phases, key=lambda p: p.start) if open_phases else None


def latest_phase(phases: Sequence[PhaseT], now: datetime) -> PhaseT:
    """The open phase, else the one that started last, else (before any) the last to start."""
    started = [p for p in phases if p.start <= now] or list(phases)
    return current_phase(phases, now) or max(started, key=lambda p: p.start)


def solution_path(solutions: SolutionsRule, user: str, name: str) -> PurePosixPath:
    """Where ``user``'s notebook ``name`` (without ``.ipynb``) lives: in the person's own folder
    when solutions are per user, else beside everyone's, prefixed with their name."""
    base = PurePosixPath(solutions.path)
    if solutions.per_user:
        return base / user / f"{name}.ipynb"
    return base / f"{user}-{name}.ipynb"


def kernel_name(challenge_id: str, phase_id: str | None = None) -> str:
    """The kernel JupyterLab offers for a challenge's environment (``coop-<challenge>``), or for
    a phase's own (``coop-<challenge>-<phase>``) when the phase declares one."""
    return f"{KERNEL_PREFIX}{challenge_id}" + (f"-{phase_id}" if phase_id else "")


def kernelspec(challenge_id: str, phase_id: str | None = None) -> dict[str, str]:
    """A notebook's ``kernelspec`` metadata naming that kernel ("Python (trackml)")."""
    shown = f"{challenge_id}, {phase_id}" if phase_id else challenge_id
    return {
        "name": kernel_name(challenge_id, phase_id),
        "display_name": f"Python ({shown})",
        "language": "python",
    }


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SolutionsView(_Tolerant):
    path: str = SOLUTIONS_PATH
    per_user: bool = True


class OrganiserView(_Tolerant):
    ref: str = ORGANISER_REF


class PhaseView(_Tolerant):
    id: str = Field(pattern=SLUG)
    start: datetime
    end: datetime | None = None
    baseline: str
    environment: dict[str, object] | None = None

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)


class Layout(_Tolerant):
    """The keys of ``challenge.yaml`` a participant's clone reads."""

    id: str | None = Field(None, pattern=SLUG)
    environment: dict[str, object] | None = None
    solutions: SolutionsView = SolutionsView()
    organiser: OrganiserView = OrganiserView()
    phases: list[PhaseView] = Field(min_length=1)

    def phase(self, phase_id: str) -> PhaseView:
        return find_phase(self.phases, phase_id)

    def kernelspec(self, phase: PhaseView) -> dict[str, str] | None:
        """The kernel of the phase's challenge environment; None when it declares none (the
        platform's own Python)."""
        if self.id is None:
            return None
        if phase.environment:
            return kernelspec(self.id, phase.id)
        return kernelspec(self.id) if self.environment else None
