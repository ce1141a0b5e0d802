"""The kernel a shipped challenge's notebooks run in outside the scorer (nbval, papermill in the
challenge tests): its environment's, built and offered to Jupyter as `coop challenge prepare`
does, when the challenge declares one; the platform's ``python3`` otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from coop_client.layout import kernel_name
from scorer.challenge.spec import Challenge, environment_spec
from scorer.config import ScorerSettings
from scorer.environments.build import build
from scorer.environments.inputs import environment_inputs
from scorer.environments.kernelspecs import install_kernelspec, jupyter_path
from tests.conftest import require


@dataclass(frozen=True)
class ChallengeKernel:
    name: str
    #: What finds it: ``JUPYTER_PATH`` for a challenge environment's kernel.
    variables: dict[str, str] = field(default_factory=dict)


def challenge_kernel(challenge: Challenge, folder: Path, home: Path) -> ChallengeKernel:
    """The kernel of ``challenge`` (its files in ``folder``), built under ``home`` if needed."""
    spec = environment_spec(challenge, challenge.phases[0].id)
    assert all(environment_spec(challenge, p.id) == spec for p in challenge.phases), "one per challenge"
    if spec is None:
        return ChallengeKernel("python3")
    require("bwrap")  # environments are built in bubblewrap
    settings = ScorerSettings(home=str(home))
    install_kernelspec(settings, build(settings, environment_inputs(spec, folder)), challenge.id)
    return ChallengeKernel(kernel_name(challenge.id), {"JUPYTER_PATH": str(jupyter_path(settings))})
