"""Bad challenge specifications and bad command lines: every error names the file and the field."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from scorer.challenge.load import SPEC_FILE, load_spec, parse_spec
from scorer.challenge.scaffold import scaffold
from scorer.cli import app
from scorer.exceptions import SpecError, SpecProblem

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The scaffolded challenge.yaml as data (a valid spec)."""
    folder = scaffold("Curve", tmp_path_factory.mktemp("template") / "curve")
    return yaml.safe_load((folder / SPEC_FILE).read_text())


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return scaffold("Curve", tmp_path / "curve")


def problems_of(text: str, filename: str = SPEC_FILE) -> list[SpecProblem]:
    with pytest.raises(SpecError) as caught:
        parse_spec(text, filename)
    assert caught.value.problems
    assert f"{len(caught.value.problems)} problem(s)" in caught.value.user_message
    return caught.value.problems


def edited(template: dict[str, Any], edit: Edit) -> str:
    spec = copy.deepcopy(template)
    edit(spec)
    return yaml.safe_dump(spec, sort_keys=False)


def test_the_template_is_valid(template):
    assert parse_spec(yaml.safe_dump(template)).id == "curve"


def _add_column(spec: dict[str, Any]) -> None:
    spec["leaderboards"][0]["columns"].append({"key": "combo", "computation": {"expression": "rmse + bogus"}})


def _duplicate_phase(spec: dict[str, Any]) -> None:
    spec["phases"].append(copy.deepcopy(spec["phases"][0]))


def _duplicate_metric(spec: dict[str, Any]) -> None:
    spec["metrics"].append(copy.deepcopy(spec["metrics"][0]))


CASES: dict[str, tuple[Edit, list[tuple[str, tuple[str, ...]]]]] = {
    # name: (edit, [(field, words of the message)] for every problem expected)
    "unknown-keys": (
        lambda s: s["phases"][0].update(limitz={"wall_time": 1}) or s.update(metricz=[]),
        [("phases[0].limitz", ("unknown key",)), ("metricz", ("unknown key",))],
    ),
    "wrong-type": (
        lambda s: s["phases"][0]["limits"].update(wall_time="soon"),
        [("phases[0].limits.wall_time", ("valid number", "got 'soon'"))],
    ),
    "wrong-type-nested": (
        lambda s: s["metrics"][1].update(precision="many"),
        [("metrics[1].precision", ("valid integer", "got 'many'"))],
    ),
    "missing-key": (
        lambda s: s["phases"][0].pop("predictions"),
        [("phases[0].predictions", ("required key is missing",))],
    ),
    "unknown-metric-in-expression": (
        _add_column,
        [("", ("leaderboard 'main' column 'combo'", "unknown metric(s) bogus", "known: mae"))],
    ),
    "end-before-start": (
        lambda s: s["phases"][0].update(end="2000-01-01T00:00:00Z"),
        [("phases[0]", ("end (2000-01-01T00:00:00+00:00) must be after start",))],
    ),
    "duplicate-phase-ids": (_duplicate_phase, [("", ("duplicate phase keys: phase-1",))]),
    "duplicate-metric-keys": (_duplicate_metric, [("", ("duplicate metric keys: rmse",))]),
    "bad-slug": (
        lambda s: s["phases"][0].update(id="Phase One"),
        [("phases[0].id", ("should match pattern", "got 'Phase One'"))],
    ),
    "bad-file-size-cap": (
        lambda s: s.update(solutions={"max_file_size": "lots"}),
        [("solutions.max_file_size", ("could not parse value and unit", "got 'lots'"))],
    ),
    "zero-file-size-cap": (
        lambda s: s.update(solutions={"max_file_size": "0MiB"}),
        [("solutions.max_file_size", ("must be more than 0 bytes",))],
    ),
    "rewarder-negative-amount": (
        lambda s: _rewarder(s, amount=-5),
        [("phases[0].rewarders[0].amount", ("greater than 0", "got -5"))],
    ),
    "rewarder-unknown-type": (
        lambda s: _rewarder(s, type="first-above"),
        [("phases[0].rewarders[0].type", ("unknown rewarder 'first-above'", "known: beat-baseline,"))],
    ),
    "rewarder-threshold-on-unknown-metric": (
        lambda s: _rewarder(s, params={"metric": "accuracy"}),
        [
            (
                "phases[0].rewarders[0].params.metric",
                ("unknown metric 'accuracy'", "known: mae, memory, rmse, time"),
            )
        ],
    ),
    "rewarder-unknown-column": (
        lambda s: _rewarder(s, params={"leaderboard": "main", "column": "r2"}),
        [
            (
                "phases[0].rewarders[0].params.column",
                ("leaderboard 'main' has no column 'r2'", "columns: rmse, mae"),
            )
        ],
    ),
    "rewarder-unknown-param": (
        lambda s: _rewarder(s, params={"metric": "rmse", "once_per_person": True}),
        [("phases[0].rewarders[0].params.once_per_person", ("unknown key",))],
    ),
    "rewarder-bad-moment": (
        lambda s: _rewarder(s, params={"metric": "rmse", "moment": "soon"}),
        [("phases[0].rewarders[0].params.moment", ("'live' or 'settlement'", "got 'soon'"))],
    ),
    "rewarder-without-its-threshold": (
        lambda s: _rewarder(s, threshold=None),
        [("phases[0].rewarders[0].threshold", ("ScoreThreshold needs a threshold",))],
    ),
    "rank-prize-with-too-many-amounts": (
        lambda s: _rewarder(s, type="rank-prize", amount=1000, threshold=None, params=_prizes(11)),
        [("phases[0].rewarders[0].params.amounts", ("at most 10 items",))],
    ),
    "rank-prize-over-its-amount": (
        lambda s: _rewarder(s, type="rank-prize", amount=10, threshold=None, params=_prizes(3)),
        [("phases[0].rewarders[0].params.amounts", ("add up to 30, more than amount (10)",))],
    ),
    "rank-prize-with-a-threshold": (
        lambda s: _rewarder(s, type="rank-prize", params=_prizes(1)),
        [("phases[0].rewarders[0].threshold", ("RankPrize uses no threshold",))],
    ),
    "rank-prize-on-an-unknown-board": (
        lambda s: _rewarder(
            s, type="rank-prize", threshold=None, params={"leaderboard": "speed", "amounts": [5]}
        ),
        [("phases[0].rewarders[0].params.leaderboard", ("phase 'phase-1' shows no leaderboard 'speed'",))],
    ),
}


def _rewarder(spec: dict[str, Any], **changes: Any) -> None:
    rewarder = spec["phases"][0]["rewarders"][0]
    rewarder.update(changes)
    if changes.get("threshold", 0) is None:
        del rewarder["threshold"]


def _prizes(count: int) -> dict[str, Any]:
    return {"leaderboard": "main", "amounts": [10] * count}


@pytest.mark.parametrize(
    ("written", "cap"), [(None, 10 * 1024**2), ("64KiB", 64 * 1024), ("1.5MB", 1_500_000), (2048, 2048)]
)
def test_the_file_size_cap_reads_like_the_run_limits(template, written, cap):
    spec = copy.deepcopy(template)
    if written is not None:
        spec["solutions"] = {"max_file_size": written}
    assert parse_spec(yaml.safe_dump(spec)).solutions.max_file_size == cap


@pytest.mark.parametrize("name", list(CASES))
def test_invalid_spec_names_file_and_field(template, name):
    edit, expected = CASES[name]
    problems = problems_of(edited(template, edit), "challenge.yaml")
    assert [p.field for p in problems] == [field for field, _words in expected]
    for problem, (field, words) in zip(problems, expected, strict=True):
        assert problem.file == "challenge.yaml"
        line = str(problem)
        assert line.startswith(f"challenge.yaml: {field}" if field else "challenge.yaml: ")
        for word in words:
            assert word in line, line


def test_invalid_yaml_names_line_and_column():
    [problem] = problems_of("id: curve\nphases: [\n  - a: b\n", "spec/challenge.yaml")
    assert problem.file == "spec/challenge.yaml"
    assert problem.field == "line 3, column 3"
    assert problem.message.startswith("not valid YAML: ")


@pytest.mark.parametrize("text", ["", "- a\n- list\n", "just a string\n"], ids=["empty", "list", "scalar"])
def test_spec_that_is_not_a_mapping(text):
    [problem] = problems_of(text)
    assert str(problem) == "challenge.yaml: must be a mapping of keys to values"


def test_duplicated_yaml_key_is_an_error(template):
    text = edited(template, lambda s: None).replace("phases:\n", "phases: []\nphases:\n", 1)
    assert yaml.safe_load(text)["phases"]  # PyYAML alone keeps the last `phases:` silently
    [problem] = problems_of(text)
    assert "duplicate key 'phases'" in problem.message and problem.field.startswith("line ")


def test_missing_files_are_named_with_their_field(folder):
    spec = yaml.safe_load((folder / SPEC_FILE).read_text())
    spec["phases"][0]["baseline"] = "baselines/nope.ipynb"
    (folder / SPEC_FILE).write_text(yaml.safe_dump(spec, sort_keys=False))
    (folder / "scoring.py").unlink()
    with pytest.raises(SpecError) as caught:
        load_spec(folder)
    found = {(p.file, p.field, p.message) for p in caught.value.problems}
    path = str(folder / SPEC_FILE)
    assert found == {
        (path, "phases[0].baseline", "baselines/nope.ipynb not found"),
        (path, "data.scoring_module", "scoring.py not found"),
    }


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError) as caught:
        load_spec(tmp_path)
    assert [str(p) for p in caught.value.problems] == [f"{tmp_path / SPEC_FILE}: file not found"]


def test_load_spec_names_the_full_path_in_field_errors(folder):
    text = (folder / SPEC_FILE).read_text().replace("precision: 4", "precision: 40", 1)
    (folder / SPEC_FILE).write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec(folder)
    [problem] = caught.value.problems
    assert (problem.file, problem.field) == (str(folder / SPEC_FILE), "metrics[0].precision")
    assert "less than or equal to 12" in problem.message


# --- the command line --------------------------------------------------------------------------


def cli(*args: str) -> Any:
    # Wide columns: rich would otherwise wrap long paths in the middle.
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "400", "NO_COLOR": "1"})


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_validate_lists_every_problem_and_fails(folder):
    spec = yaml.safe_load((folder / SPEC_FILE).read_text())
    spec["phases"][0]["limitz"] = {}
    spec["phases"][0]["limits"]["memory"] = "lots"
    spec["leaderboards"][0]["primary"] = 3
    (folder / SPEC_FILE).write_text(yaml.safe_dump(spec, sort_keys=False))
    result = cli("challenge", "validate", str(folder))
    assert result.exit_code == 1
    output = flat(result.output)
    path = str(folder / SPEC_FILE)
    assert f"{path}: phases[0].limitz: unknown key" in output
    assert f"{path}: phases[0].limits.memory:" in output and "'lots'" in output
    assert f"{path}: leaderboards[0].primary:" in output
    assert "3 problem(s)" in output


def test_validate_lists_every_missing_file(folder):
    (folder / "scoring.py").unlink()
    (folder / "simulator.py").unlink()
    (folder / "baselines" / "phase-1.ipynb").unlink()
    result = cli("challenge", "validate", str(folder))
    assert result.exit_code == 1
    output = flat(result.output)
    for field, name in [
        ("phases[0].baseline", "baselines/phase-1.ipynb"),
        ("data.scoring_module", "scoring.py"),
        ("data.generator", "simulator.py"),
    ]:
        assert f"{folder / SPEC_FILE}: {field}: {name} not found" in output
    assert "3 problem(s)" in output


def test_validate_accepts_the_scaffold(folder):
    result = cli("challenge", "validate", str(folder))
    assert result.exit_code == 0, result.output
    assert "curve: 1 phase(s)" in result.output


def test_validate_names_the_phase_the_rewarder_and_the_field(folder):
    spec = yaml.safe_load((folder / SPEC_FILE).read_text())
    second = {**spec["phases"][0], "id": "phase-2", "start": "2030-01-01T00:00:00Z"}
    second["rewarders"] = [
        {"type": "new-record", "amount": 5, "params": {"metric": "rmse"}},
        {"type": "rank-prize", "amount": 100, "params": {"leaderboard": "main", "amounts": [1] * 11}},
        {"type": "streak", "amount": 1},
    ]
    spec["phases"][0]["rewarders"][0]["amount"] = -5
    spec["phases"].append(second)
    (folder / SPEC_FILE).write_text(yaml.safe_dump(spec, sort_keys=False))
    result = cli("challenge", "validate", str(folder))
    assert result.exit_code == 1
    output = flat(result.output)
    path = str(folder / SPEC_FILE)
    assert f"{path}: phases[0].rewarders[0].amount: Input should be greater than 0 (got -5)" in output
    assert f"{path}: phases[1].rewarders[1].params.amounts: List should have at most 10 items" in output
    assert f"{path}: phases[1].rewarders[2].type: unknown rewarder 'streak' (known: beat-baseline," in output
    assert "3 problem(s)" in output
    second["rewarders"] = [
        {"type": "score-threshold", "amount": 5, "threshold": 0.1, "params": {"metric": "r2"}}
    ]
    spec["phases"][0]["rewarders"][0]["amount"] = 5
    (folder / SPEC_FILE).write_text(yaml.safe_dump(spec, sort_keys=False))
    output = flat(cli("challenge", "validate", str(folder)).output)
    assert f"{path}: phases[1].rewarders[0].params.metric: unknown metric 'r2' (known: mae," in output


@pytest.mark.parametrize("commit", ["0" * 40, "deadbeef", "no-such-branch"])
def test_scoring_a_commit_that_does_not_exist(challenge, commit):
    result = cli(
        "--home", challenge.settings.home, "score", "--repo", str(challenge.bare), "--commit", commit
    )
    assert result.exit_code != 0
    assert f"error: commit '{commit}' does not exist in the repository" in flat(result.output)
    assert "Traceback" not in result.output
