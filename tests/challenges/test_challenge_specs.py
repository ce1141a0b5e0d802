"""The demo challenges are well formed: spec, notebooks, generator and answer key."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from challenge_support import CHALLENGES, challenge_dir, generate, load_module, spec_data

from coop_client.layout import kernel_name
from scorer.challenge.load import load_spec
from scorer.challenge.spec import Challenge
from scorer.rewards.registry import build, rewarders

NOW = datetime(2026, 11, 28, tzinfo=UTC)
#: Columns the test inputs must never contain (they are the answer key).
TRUTH_COLUMNS = {"higgs": {"Label", "Weight"}, "trackml": {"particle_id", "weight"}}


def notebooks(challenge: str) -> list[Path]:
    folder = challenge_dir(challenge)
    return sorted([*folder.glob("baselines/*.ipynb"), *folder.glob("examples/*.ipynb")])


def parameter_names(notebook: nbformat.NotebookNode) -> set[str]:
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    tree = ast.parse(cell.source)
    return {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_spec_validates(challenge):
    text = (challenge_dir(challenge) / "challenge.yaml").read_text()
    spec = Challenge.model_validate(yaml.safe_load(text))
    assert spec.id == challenge
    assert load_spec(challenge_dir(challenge)).id == challenge  # the files it names exist
    assert spec.description.strip() and spec.tags.domain and spec.tags.skills
    assert len(spec.leaderboards) >= 2


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_phases_go_from_toy_to_realistic(challenge):
    spec = Challenge.model_validate(spec_data(challenge))
    toy, realistic = spec.phases[0], spec.phases[-1]
    assert len(spec.phases) >= 2
    assert toy.end is not None and toy.end < NOW, "the toy phase has ended"
    assert toy.private_visible_at() is not None and toy.private_visible_at() < NOW
    assert realistic.end is None and realistic.start < NOW
    assert spec.current_phase(NOW) == realistic
    for phase in spec.phases:
        assert phase.limits.wall_time <= 300
        assert phase.limits.memory == 2 * 1024**3
        assert phase.rewarders
        assert phase.predictions.columns


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_rewarders_cover_live_and_settlement_moments(challenge):
    spec = Challenge.model_validate(spec_data(challenge))
    built = [build(i, **r.model_dump()) for phase in spec.phases for i, r in enumerate(phase.rewarders)]
    assert {r.moment for r in built} == {"live", "settlement"}
    assert len({r.type for r in built}) >= 7


def test_the_demos_together_use_all_but_the_organiser_check():
    used = {r["type"] for c in CHALLENGES for p in spec_data(c)["phases"] for r in p["rewarders"]}
    assert used == set(rewarders.names()) - {"organiser-check"}


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_metric_functions_exist(challenge):
    spec = Challenge.model_validate(spec_data(challenge))
    scoring = load_module(challenge, "scoring")
    for metric in spec.metrics:
        assert callable(getattr(scoring, metric.function)), metric.function


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_data_args_fit_the_generator(challenge):
    generate_fn = load_module(challenge, "simulator").generate
    signature = inspect.signature(generate_fn)
    for phase in spec_data(challenge)["phases"]:
        signature.bind("phase", Path("in"), Path("out"), seed=1, public_fraction=0.5, **phase["data_args"])


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_notebooks_are_clean_nbformat4_with_parameters(challenge):
    paths = notebooks(challenge)
    assert any(p.parent.name == "examples" for p in paths)
    spec = spec_data(challenge)  # the kernel of the challenge's environment, when it declares one
    kernel = kernel_name(spec["id"]) if spec.get("environment") else "python3"
    for path in paths:
        notebook = nbformat.read(str(path), as_version=4)
        nbformat.validate(notebook)
        assert notebook.nbformat == 4
        assert notebook.metadata["kernelspec"]["name"] == kernel, path.name
        assert all(c.get("outputs", []) == [] for c in notebook.cells), f"{path.name} has outputs"
        names = parameter_names(notebook)
        assert {"inputs_dir", "predictions_path"} <= names, path.name
        assert any(c.cell_type == "markdown" for c in notebook.cells)


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_each_phase_has_its_baseline_with_its_parameters(challenge):
    for phase in spec_data(challenge)["phases"]:
        baseline = challenge_dir(challenge) / phase["baseline"]
        assert baseline.name == f"{phase['id']}.ipynb"
        names = parameter_names(nbformat.read(str(baseline), as_version=4))
        assert set(phase["parameters"]) <= names, f"{baseline.name} lacks some phase parameters"


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_generator_is_deterministic(challenge, tmp_path):
    phase = spec_data(challenge)["phases"][0]["id"]

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    first = files(generate(challenge, phase, tmp_path / "a", seed=7).inputs_dir.parent)
    again = files(generate(challenge, phase, tmp_path / "b", seed=7).inputs_dir.parent)
    other = files(generate(challenge, phase, tmp_path / "c", seed=8).inputs_dir.parent)
    assert first == again
    assert first.keys() == other.keys()
    for name in first:
        if name.endswith(".csv"):
            assert first[name] != other[name], f"{name} does not depend on the seed"


@pytest.mark.parametrize("challenge", CHALLENGES)
def test_answer_key_is_hidden_and_split(challenge, phase_data):
    for phase in spec_data(challenge)["phases"]:
        data = phase_data(challenge, phase["id"])
        id_column = phase["predictions"]["id_column"]
        inputs = {p.name for p in data.inputs_dir.iterdir()}
        assert "answers.csv" not in inputs
        assert not data.answers_dir.is_relative_to(data.inputs_dir)
        test_file = "test.csv" if challenge == "higgs" else "test_hits.csv"
        test = pd.read_csv(data.inputs_dir / test_file)
        assert not TRUTH_COLUMNS[challenge] & set(test.columns), "labels leak into the test set"
        answers = data.answers
        assert answers[id_column].tolist() == test[id_column].tolist()
        assert set(answers["usage"]) == {"public", "private"}
        units = answers if challenge == "higgs" else answers.drop_duplicates("event_id")
        public = (units["usage"] == "public").mean()
        assert public == pytest.approx(phase["test_split"]["public_fraction"], abs=0.05)
        if challenge == "trackml":  # whole events are public or private
            assert answers.groupby("event_id")["usage"].nunique().max() == 1
