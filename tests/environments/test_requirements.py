"""An organiser's requirements file checked line by line, and the key of an environment's inputs
(pure parts and file reading: no build)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import EnvironmentSpec
from scorer.cli import app
from scorer.environments.inputs import environment_inputs
from scorer.environments.platform import kernel_pins
from scorer.environments.requirements import MAX_LINES, check
from scorer.exceptions import EnvironmentBuildFailed, RequirementsInvalid

PLATFORM = {"tornado": "6.6.1", "ipykernel": "7.4.0"}


def messages(text: str, *, errors: bool = True) -> list[str]:
    found = check(text, PLATFORM)
    return [str(p) for p in (found.errors if errors else found.warnings)]


def test_pins_comments_blank_lines_and_continuations_are_fine():
    text = "# science\n\nnumpy==2.4.6  # arrays\npandas\\\n==3.1.1\nuncertainties===3.2.3\n"
    found = check(text, PLATFORM)
    assert found.problems == ()
    assert found.index_lines() == ["numpy==2.4.6", "pandas==3.1.1", "uncertainties===3.2.3"]


def test_unpinned_entries_are_warnings_with_their_line():
    assert messages("numpy\nscipy>=1.10\nawkward==2.*\n", errors=False) == [
        "line 1: numpy is not pinned: write numpy==<version> so every build installs the same",
        "line 2: scipy>=1.10 is not pinned: write scipy==<version> so every build installs the same",
        "line 3: awkward==2.* is not pinned: write awkward==<version> so every build installs the same",
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("numpy===", "is not a requirement"),
        ("-r other.txt", "-r is not allowed: list every package in this one file"),
        ("--index-url https://example.org/simple", "the platform's settings choose where packages come from"),
        ("-e ./pkg", "write the folder as ./folder"),
        ("numpy==2.4.6 --hash=sha256:00", "--hash options are not supported"),
        ("toy @ https://example.org/toy.whl", "direct URLs are not allowed"),
        ("../outside", "a local package must be a folder inside the repository"),
    ],
)
def test_malformed_or_unsupported_lines_are_errors(line: str, expected: str):
    (problem,) = messages(f"numpy==2.4.6\n{line}\n")
    assert problem.startswith("line 2: ") and expected in problem


def test_two_pins_of_one_package_conflict():
    (problem,) = messages("numpy==2.4.6\nscipy==1.16\nNumPy==1.26.4\n")
    assert problem == "line 3: NumPy==1.26.4 conflicts with numpy==2.4.6 (line 1)"


def test_a_pin_against_the_platforms_kernel_side_names_both():
    (problem,) = messages("tornado==6.0.4\n")
    assert "tornado==6.0.4 conflicts with the platform's tornado==6.6.1" in problem
    assert messages("tornado==6.6.1\nipykernel>=7\n") == []  # agreeing with the platform is fine


def test_ten_thousand_lines_are_refused_naming_the_limit():
    (problem,) = messages("".join(f"package-{n}==1.0\n" for n in range(10_000)))
    assert problem == f"the file has 10000 lines; the limit is {MAX_LINES} (list what notebooks import)"


def test_the_kernel_side_is_pinned_to_what_the_platform_runs():
    pins = kernel_pins()
    for name in ("ipykernel", "ipywidgets", "coop-client", "coop-widgets", "pyzmq", "tornado", "comm"):
        assert name in pins
    assert "fqdn" in pins  # reached through jsonschema[format-nongpl]: extras are followed


def write(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.txt").write_text(text)
    return folder


def test_the_key_follows_the_inputs_not_their_order_or_comments(tmp_path: Path):
    spec = EnvironmentSpec(requirements="requirements.txt")
    one = environment_inputs(spec, write(tmp_path / "a", "numpy==2.4.6\nuncertainties==3.2.3\n"))
    two = environment_inputs(spec, write(tmp_path / "b", "# same\nuncertainties==3.2.3\nNumPy==2.4.6\n"))
    other = environment_inputs(spec, write(tmp_path / "c", "numpy==2.4.6\nuncertainties==3.2.2\n"))
    assert one.key == two.key != other.key
    assert len(one.key) == 64 and one.manifest["platform_pins"] and one.manifest["builder"].startswith("uv ")


def test_a_local_package_is_keyed_by_its_source(tmp_path: Path):
    spec = EnvironmentSpec(requirements="env/requirements.txt")
    tree = write(tmp_path / "repo" / "env", "./helper\n").parent
    package = tree / "env" / "helper"
    package.mkdir()
    (package / "pyproject.toml").write_text('[project]\nname = "helper"\nversion = "1"\n')
    before = environment_inputs(spec, tree).key
    (package / "helper.py").write_text("X = 1\n")
    assert environment_inputs(spec, tree).key != before


def test_files_outside_the_tree_or_missing_are_refused(tmp_path: Path):
    tree = tmp_path / "repo"
    tree.mkdir()
    (tmp_path / "secret.txt").write_text("numpy==2.4.6\n")
    (tree / "requirements.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(RequirementsInvalid, match="file not found in the challenge repository"):
        environment_inputs(EnvironmentSpec(requirements="requirements.txt"), tree)
    write(tree / "sub", "./nothing\n")
    with pytest.raises(RequirementsInvalid, match=r"\./nothing: not a package folder"):
        environment_inputs(EnvironmentSpec(requirements="sub/requirements.txt"), tree)


def test_an_unknown_python_version_is_a_clear_error(tmp_path: Path):
    tree = write(tmp_path / "repo", "numpy==2.4.6\n")
    with pytest.raises(EnvironmentBuildFailed, match=r"Python 3\.2 is not installed here"):
        environment_inputs(EnvironmentSpec(requirements="requirements.txt", python="3.2"), tree)


def test_validate_names_requirement_errors_and_warnings(tmp_path: Path):
    folder = scaffold("Env check", tmp_path / "challenge")
    spec_file = folder / "challenge.yaml"
    spec_file.write_text(spec_file.read_text() + "environment:\n  requirements: requirements.txt\n")
    (folder / "requirements.txt").write_text("numpy\nuncertainties==3.2.3\n")
    checked = CliRunner().invoke(app, ["challenge", "validate", str(folder)])
    assert checked.exit_code == 0, checked.output
    [warning] = [line for line in checked.output.splitlines() if line.startswith("! ")]  # one line
    assert warning.endswith(
        "environment.requirements: requirements.txt: line 1: numpy is not pinned: "
        "write numpy==<version> so every build installs the same"
    ), warning
    (folder / "requirements.txt").write_text("numpy==2.4.6\n-r more.txt\ntornado==6.0.4\n")
    refused = CliRunner().invoke(app, ["challenge", "validate", str(folder)])
    assert refused.exit_code == 1
    output = " ".join(refused.output.split())
    assert "line 2: -r is not allowed" in output and "conflicts with the platform's tornado==" in output
