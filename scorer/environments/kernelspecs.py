"""JupyterLab's side of challenge environments: one kernelspec per environment a challenge (or a
phase of its own) declares, ``coop-<challenge>[-<phase>]``, in one folder under the environments
root that the single-user servers have on ``JUPYTER_PATH``.

The kernel runs the environment's own Python, the one the scorer mounts read-only into the
sandbox, so "it ran in my notebook" means "it runs in the scorer".
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from coop_client.layout import kernelspec
from scorer.config import ScorerSettings
from scorer.environments.model import Environment


def jupyter_path(settings: ScorerSettings) -> Path:
    """The ``JUPYTER_PATH`` entry holding every challenge's kernelspec (``kernels/coop-*``)."""
    return settings.environments / "jupyter"


def install_kernelspec(
    settings: ScorerSettings, environment: Environment, challenge_id: str, phase_id: str | None = None
) -> Path:
    """Offer ``environment`` to JupyterLab as the challenge's kernel (the phase's, when it has an
    environment of its own); replaces the previous one atomically. The kernelspec's folder."""
    spec = kernelspec(challenge_id, phase_id)
    folder = jupyter_path(settings) / "kernels" / spec["name"]
    folder.mkdir(parents=True, exist_ok=True)
    document = {
        "argv": environment.kernel_argv(),
        "display_name": spec["display_name"],
        "language": "python",
        "metadata": {"coop": {"environment": environment.key}},
    }
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".json")  # readers never see half a file
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=1)
    os.chmod(temporary, 0o644)
    os.replace(temporary, folder / "kernel.json")
    return folder
