"""What the environment tests share: the wheelhouse ``make`` fills (``<venv>/wheelhouse``), from
which they build offline, and a scaffolded challenge that declares an environment."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from scorer.challenge.scaffold import scaffold
from tests.conftest import unavailable

WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


def need_wheelhouse() -> None:
    if not any(WHEELHOUSE.glob("ipykernel-*.whl")):
        unavailable(f"no wheelhouse at {WHEELHOUSE} (`make` fetches it)")


def scaffold_with_environment(title: str, parent: Path, requirements: str) -> tuple[Path, dict[str, Any]]:
    """``coop challenge new``'s challenge whose ``challenge.yaml`` names ``requirements.txt``."""
    folder = scaffold(title, parent)
    spec = yaml.safe_load((folder / "challenge.yaml").read_text())
    spec["environment"] = {"requirements": "requirements.txt"}
    (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (folder / "requirements.txt").write_text(requirements)
    return folder, spec
