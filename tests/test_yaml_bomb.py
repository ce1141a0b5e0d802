"""A YAML bomb (billion laughs) in an organiser's challenge.yaml is refused at once, by the real
command line, in a process whose address space is capped far below what expanding it takes."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from scorer.challenge.load import parse_spec
from scorer.challenge.scaffold import scaffold
from scorer.exceptions import SpecError
from tests.conftest import git

COOP = str(Path(sys.executable).with_name("coop"))
#: Enough for the interpreter and its imports; expanding the bomb takes gigabytes.
ADDRESS_SPACE = 1536 * 1024**2
#: Nine levels of nine: 9**9 (387 million) strings from ten short lines.
LAUGHS = "\n".join(
    ['lol: &l0 "lol"'] + [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
)


def bombed(folder: Path, field: str) -> Path:
    """The scaffolded challenge with the bomb's anchors at the top and ``field`` set to it."""
    spec = folder / "challenge.yaml"
    text = spec.read_text()
    if field == "title":
        text = "\n".join("title: *l9" if line.startswith("title:") else line for line in text.splitlines())
    else:
        text = text.replace("parameters: {degree: 3}", "parameters: {degree: 3, bomb: *l9}")
    assert "*l9" in text
    spec.write_text(LAUGHS + "\n" + text)
    return spec


def bomb_line(spec: Path) -> int:
    """The line where the bomb is set off (its last alias)."""
    return next(i for i, line in enumerate(spec.read_text().splitlines(), 1) if "*l9" in line)


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@pytest.mark.parametrize("field", ["title", "parameters"])
def test_coop_challenge_validate_refuses_a_yaml_bomb_clearly(tmp_path: Path, field: str) -> None:
    folder = scaffold("Curve", tmp_path / "curve")
    spec = bombed(folder, field)
    done = subprocess.run(
        [COOP, "challenge", "validate", str(folder)],
        capture_output=True,
        text=True,
        preexec_fn=capped,
        env={**os.environ, "COLUMNS": "500"},  # rich would wrap the path
        timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-2000:]
    said = done.stderr
    assert f"{spec}: line {bomb_line(spec)}, column" in said, said
    assert "alias *l9 expands" in said, said


def test_coop_challenge_prepare_refuses_a_bomb_in_a_phases_parameters(tmp_path: Path) -> None:
    """Committed straight to the organiser branch, past `coop challenge validate`."""
    folder = scaffold("Curve", tmp_path / "curve")
    spec = bombed(folder, "parameters")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "--all")
    git(folder, "commit", "-q", "-m", "a bomb")
    done = subprocess.run(
        [COOP, "--home", str(tmp_path / "home"), "challenge", "prepare", str(folder)],
        capture_output=True,
        text=True,
        preexec_fn=capped,
        env={**os.environ, "COLUMNS": "500"},
        timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert f"challenge.yaml: line {bomb_line(spec)}, column" in done.stderr, done.stderr
    assert "alias *l9 expands" in done.stderr


def test_an_alias_used_within_reason_is_still_accepted(tmp_path: Path) -> None:
    text = (scaffold("Curve", tmp_path / "curve") / "challenge.yaml").read_text()
    text = text.replace("limits: {", "limits: &limits {")
    second = text[text.index("  - id: phase-1") :].replace("phase-1", "phase-2")
    second = second.replace(
        second[second.index("limits: &") : second.index("}", second.index("limits: &")) + 1],
        "limits: *limits",
    )
    challenge = parse_spec(text + second)
    assert challenge.phases[1].limits == challenge.phases[0].limits


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(SpecError) as refused:
        parse_spec("id: &a [*a]\n", "challenge.yaml")
    assert "refers to itself" in refused.value.user_message
