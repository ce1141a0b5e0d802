"""A challenge's phases given their environments: every declared environment checked, then
built (or found built), and only when all are there does each phase switch to its own, with
its JupyterLab kernelspec. A failure switches nothing: what served before still serves."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from scorer.challenge.spec import Challenge, environment_spec
from scorer.config import ScorerSettings
from scorer.environments.build import build
from scorer.environments.inputs import EnvironmentInputs, environment_inputs
from scorer.environments.kernelspecs import install_kernelspec
from scorer.environments.model import Environment
from scorer.environments.store import environment_at, is_built, record_use


@dataclass(frozen=True)
class PhaseEnvironment:
    phase: str
    environment: Environment | None  # None: the platform's own
    reused: bool  # found built (no build ran)


def prepare_environments(
    settings: ScorerSettings,
    challenge: Challenge,
    tree: Path,
    phase_ids: Iterable[str],
    progress: Callable[[str], None] | None = None,
) -> list[PhaseEnvironment]:
    """Build what ``phase_ids`` need from the organiser's ``tree``, then switch them to it."""
    said = progress or (lambda _message: None)
    wanted: dict[str, EnvironmentInputs | None] = {}
    for phase_id in phase_ids:  # every requirements file is checked before anything is built
        spec = environment_spec(challenge, phase_id)
        wanted[phase_id] = environment_inputs(spec, tree) if spec else None
    built: dict[str, tuple[Environment, bool]] = {}
    for key, inputs in {i.key: i for i in wanted.values() if i}.items():
        environment = environment_at(settings, key)
        reused = is_built(environment)
        if not reused:
            names = ", ".join(p for p, i in wanted.items() if i and i.key == key)
            said(f"{challenge.id} ({names}): building environment {inputs.short}")
        built[key] = (build(settings, inputs, _prefixed(said, inputs.short)), reused)
    prepared = []
    for phase_id, needed in wanted.items():
        if needed is None:
            record_use(settings, challenge.id, phase_id, None)
            prepared.append(PhaseEnvironment(phase_id, None, False))
            continue
        environment, reused = built[needed.key]
        record_use(settings, challenge.id, phase_id, environment)
        own = challenge.phase(phase_id).environment is not None
        install_kernelspec(settings, environment, challenge.id, phase_id if own else None)
        prepared.append(PhaseEnvironment(phase_id, environment, reused))
    return prepared


def _prefixed(said: Callable[[str], None], prefix: str) -> Callable[[str], None]:
    return lambda message: said(f"{prefix}: {message}")
