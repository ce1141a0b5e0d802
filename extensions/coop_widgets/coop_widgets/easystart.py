"""Easy start: copy a phase's baseline into the participant's own solution notebook.

The specification and the baseline are read from the organiser's branch as fetched
(``origin/HEAD`` names it), never from the participant's working tree. An existing solution
notebook is never overwritten: Easy start then simply opens it. When the phase declares a
challenge environment, the copy names its kernel ("Python (higgs)"), so that JupyterLab runs it
with the packages the scorer runs it with. The phase's inputs are put
where that notebook reads them by :mod:`coop_widgets.inputs`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import yaml
from pydantic import ValidationError

from coop_client.errors import CoopError
from coop_client.git import call
from coop_client.layout import SPEC_FILE, Layout, PhaseView, latest_phase, solution_path


class EasyStartError(CoopError):
    """Easy start cannot proceed: something of ours or of the organiser's branch is wrong."""

    http_status = 500


class EasyStartNotFound(EasyStartError):
    """The clone or the phase Easy start was asked for does not exist."""

    http_status = 404


def choose_phase(layout: Layout, phase_id: str | None, now: datetime) -> PhaseView:
    """The phase asked for, else the open one, else the one that started last."""
    if phase_id:
        try:
            return layout.phase(phase_id)
        except KeyError as exc:
            raise EasyStartNotFound(str(exc.args[0])) from None
    return latest_phase(layout.phases, now)


def phase_to_start(clone: Path, phase_id: str | None = None, now: datetime | None = None) -> PhaseView:
    """The phase Easy start opens in ``clone`` (see :func:`choose_phase`)."""
    return choose_phase(_organiser_spec(clone), phase_id, now or datetime.now(UTC))


def easy_start(
    clone: Path, user: str, *, phase_id: str | None = None, now: datetime | None = None
) -> PurePosixPath:
    """Make sure ``user``'s notebook for the phase exists in ``clone``; its path in the clone."""
    layout = _organiser_spec(clone)
    phase = choose_phase(layout, phase_id, now or datetime.now(UTC))
    relative = solution_path(layout.solutions, user, phase.id)
    target = clone / relative
    if target.exists():
        return relative
    baseline = _show(clone, f"origin/{layout.organiser.ref}", phase.baseline)
    if kernel := layout.kernelspec(phase):
        baseline = _with_kernel(baseline, kernel, phase.baseline)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(target, "xb") as handle:  # "x": a notebook made meanwhile is kept, not replaced
            handle.write(baseline)
    except FileExistsError:
        pass
    return relative


def _with_kernel(notebook: bytes, kernel: dict[str, str], path: str) -> bytes:
    try:
        document = json.loads(notebook)
        document["metadata"]["kernelspec"] = kernel
    except (ValueError, TypeError, KeyError) as exc:
        raise EasyStartError(f"the baseline {path} is not a notebook: {exc!r}") from None
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


def _organiser_spec(clone: Path) -> Layout:
    if not (clone / ".git").is_dir():
        raise EasyStartNotFound(f"there is no clone of this challenge at {clone.name}")
    try:
        return Layout.model_validate(yaml.safe_load(_show(clone, "origin/HEAD", SPEC_FILE)))
    except (yaml.YAMLError, ValidationError) as exc:
        raise EasyStartError(f"the organiser's {SPEC_FILE} cannot be read: {exc}") from None


def _show(clone: Path, ref: str, path: str) -> bytes:
    done = call(clone, "show", f"{ref}:{path}")
    if not done.ok:
        problem = done.stderr.strip()
        raise EasyStartError(f"{path} is not on the organiser's branch ({ref}): {problem}")
    return done.stdout
