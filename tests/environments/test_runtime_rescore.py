"""Provenance of a challenge environment through the whole path: a submission scored in the
platform's Python, then the organiser declares an environment, prepares it and rescores: the
rescore ran in the environment, its provenance, column and executed notebook carry the
environment's key, and it says that the environment changed."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from coop_client.layout import kernel_name
from scorer.challenge.publish import publish
from scorer.cli.submissions import environment_line
from scorer.environments.kernelspecs import jupyter_path
from scorer.ledger.models import Submission
from scorer.scoring.worker import score_submission
from tests.conftest import make_challenge

REQUIREMENTS = f"numpy=={version('numpy')}\npandas=={version('pandas')}\nuncertainties==3.2.3\n"


@pytest.mark.needs("bwrap")
def test_a_rescore_in_a_new_environment_records_it_and_says_it_changed(tmp_path: Path):
    limits = {"wall_time": 120, "cell_time": 60, "memory": "1GiB", "disk": "200MB", "output": "1MB"}
    fixture = make_challenge(tmp_path, edit={"phases.0.limits": limits})
    [first] = fixture.score(fixture.commit("alice", {"solutions/alice/fit.ipynb": fixture.baseline}))
    assert first.outcome == "scored", first.reason
    assert first.view.challenge_environment is None
    assert first.view.provenance and first.view.provenance["challenge_environment"] is None

    (fixture.folder / "requirements.txt").write_text(REQUIREMENTS)
    spec = yaml.safe_load((fixture.folder / "challenge.yaml").read_text())
    spec["environment"] = {"requirements": "requirements.txt"}
    (fixture.folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    publish(fixture.folder, fixture.bare, message="an environment", author="Organiser", email="o@example.org")
    api = fixture.api()
    try:
        [prepared] = api.prepare(str(fixture.bare)).environments
        environment = prepared.environment
        assert environment is not None
        spec_file = (
            jupyter_path(fixture.settings) / "kernels" / kernel_name(fixture.challenge_id) / "kernel.json"
        )
        assert json.loads(spec_file.read_text())["argv"][0] == str(environment.python)
        [rescore] = api.rescore(fixture.challenge_id, prepared.phase)
        assert score_submission(rescore, fixture.settings.to_dict()) == "scored"
        view, _scores = api.submission(rescore, organiser=True)
        with api.sessions() as session:
            executed = json.loads(session.get_one(Submission, rescore).executed_notebook or b"{}")
    finally:
        api.close()
    short = environment.key[:16]
    assert view.rescore_of == first.view.id
    assert view.challenge_environment == view.provenance["challenge_environment"] == environment.key
    assert view.provenance["environment_changed"] == f"environment changed: the platform's → {short}"
    assert executed["metadata"]["coop"]["environment"] == environment.key
    assert environment_line(view.id, view.challenge_environment, view.provenance) == (
        f"submission {view.id}: ran in challenge environment {short}; "
        f"environment changed: the platform's → {short}"
    )
