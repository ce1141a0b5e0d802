"""A built challenge environment as the rest of the platform sees it: an immutable virtual
environment in a folder named by the hash of its inputs, with a kernelspec inside it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The kernelspec every built environment carries in ``share/jupyter/kernels/``.
KERNEL_NAME = "coop-env"
#: Characters of the hash that name an environment's folder (the whole hash is in provenance).
FOLDER_CHARS = 16
#: Where ipykernel's launcher is in a virtual environment.
LAUNCHER = "lib/python3*/site-packages/ipykernel_launcher.py"


@dataclass(frozen=True)
class Environment:
    """A virtual environment under the environments root, never changed once built."""

    key: str  # SHA-256 (hex) of the inputs: requirements, Python version, platform pins
    path: Path

    @property
    def short(self) -> str:
        return self.key[:FOLDER_CHARS]

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def jupyter_path(self) -> Path:
        """A ``JUPYTER_PATH`` entry holding ``kernels/coop-env/kernel.json``."""
        return self.path / "share" / "jupyter"

    def kernel_argv(self, built_in: Path | None = None) -> list[str]:
        """How its kernel starts: the launcher as a file, not ``-m ipykernel_launcher``, which in
        the notebook's folder (where kernels start) would run a participant's own
        ``ipykernel_launcher.py``. ``built_in``: the folder it is still being built in."""
        where = built_in or self.path
        found = sorted(where.glob(LAUNCHER))
        if not found:
            raise ValueError(f"{where} has no {LAUNCHER} (ipykernel is part of every environment)")
        launcher = self.path / found[0].relative_to(where)
        return [str(self.python.absolute()), str(launcher.absolute()), "-f", "{connection_file}"]

    def base_prefix(self) -> Path:
        """The interpreter installation the environment was made from (``home`` in pyvenv.cfg)."""
        for line in (self.path / "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home":
                return Path(value.strip()).resolve().parent
        raise ValueError(f"{self.path / 'pyvenv.cfg'} names no interpreter home")


def folder_name(key: str) -> str:
    return key[:FOLDER_CHARS]
