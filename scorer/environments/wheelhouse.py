"""``python -m scorer.environments.wheelhouse <folder> [requirements.txt ...]``: fetch, at
install time, the wheels environments need (the kernel side, the build backends of the
platform's packages, the given requirements files), so that tests and the demo build challenge
environments without the internet (``environment_find_links`` defaults to ``<venv>/wheelhouse``)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from scorer.environments import platform as coop_platform
from scorer.environments.build import LEGACY_BUILD, build_requires
from scorer.environments.requirements import check


def wanted(requirement_files: list[Path]) -> list[str]:
    lines = [*coop_platform.index_pins(), *LEGACY_BUILD]
    for name in coop_platform.LOCAL_PACKAGES:
        lines += build_requires(coop_platform.local_source(name))
    for path in requirement_files:
        lines += check(path.read_text(encoding="utf-8"), coop_platform.kernel_pins()).index_lines()
    return sorted(set(lines))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    dest, files = Path(argv[0]), [Path(a) for a in argv[1:]]
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:
        listed.write("\n".join(wanted(files)) + "\n")
        listed.flush()
        pip = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--quiet"]
        return subprocess.call([*pip, "--dest", str(dest), "-r", listed.name])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
