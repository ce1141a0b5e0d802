"""Skills from the demo's real executed notebooks: `coop demo` scores the TrackML examples in the
sandbox, then the people search reads what the executed code imports and calls."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scorer.cli.demo import CHALLENGES
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import queries
from scorer.profiles.search import Query


@pytest.mark.needs("bwrap")
def test_the_demo_people_have_skills_their_executed_notebooks_prove(tmp_path):
    source = tmp_path / "challenges"
    shutil.copytree(CHALLENGES / "trackml", source / "trackml")
    for example in (source / "trackml" / "examples").glob("*.ipynb"):
        if not example.name.startswith(("alice-", "bob-")):
            example.unlink()
    home = tmp_path / "home"
    coop = str(Path(sys.executable).with_name("coop"))
    done = subprocess.run(
        [coop, "--home", str(home), "--workers", "1", "demo", "--source", str(source)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    api = CoopAPI(ScorerSettings(home=str(home)))
    try:
        index = api.skill_index()
        assert {"alice", "bob"} <= set(index.people)
        assert "baseline" not in index.people  # the baseline's runner is no one to find
        for person in ("alice", "bob"):
            numpy = index.people[person].skills["numpy"]
            code = [e for e in numpy.evidence if e.kind == "code"]
            assert code and code[0].challenge_id == "trackml" and code[0].detail == "numpy"
            with api.sessions() as session:
                executed = json.loads(queries.executed_notebook(session, code[0].submission_id, viewer=None))
            # the evidence is the run's own notebook: executed, with papermill's parameters cell
            assert any(c.get("outputs") for c in executed["cells"] if c["cell_type"] == "code")
            assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
            assert {"pandas", "clustering", "rank:trackml"} <= set(index.people[person].skills)
        page = api.search_people(Query({"numpy": 1, "rank:trackml": 2}))
        assert {"alice", "bob"} <= {row.person for row in page.rows}
        assert all(row.terms[0].evidence for row in page.rows if row.person in ("alice", "bob"))
    finally:
        api.close()
