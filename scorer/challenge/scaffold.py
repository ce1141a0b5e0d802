"""``coop challenge new``: a small working challenge an organiser edits into theirs."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from string import Template

from scorer.challenge.spec import slugify
from scorer.exceptions import CoopError

TEMPLATE = Path(__file__).with_name("templates") / "challenge"
SUBSTITUTED = {"challenge.yaml", "README.md"}


def scaffold(name: str, directory: Path | None = None) -> Path:
    slug = slugify(name)
    folder = directory or Path(slug)
    if folder.exists() and any(folder.iterdir()):
        raise CoopError(f"{folder} exists and is not empty")
    shutil.copytree(TEMPLATE, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    values = {
        "id": slug,
        "title": name,
        "title_yaml": json.dumps(name),  # a JSON string is a YAML string, whatever it holds
        "start": datetime.now(UTC).strftime("%Y-%m-%dT00:00:00Z"),
    }
    for filename in SUBSTITUTED:
        path = folder / filename
        path.write_text(Template(path.read_text()).substitute(values))
    (folder / "solutions").mkdir(exist_ok=True)
    (folder / "solutions" / ".gitkeep").touch()
    return folder
