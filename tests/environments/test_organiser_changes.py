"""An organiser's change to a served challenge builds its environment before it takes effect,
and the lines an organiser push gets when its environment cannot be built: the previous one
keeps serving (real git, uv and bubblewrap, offline from the wheelhouse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.config import ScorerSettings
from scorer.environments.store import is_built, used_by
from scorer.facade import CoopAPI
from scorer.ingest.push import environment_lines
from scorer.ingest.served import serve_repository
from scorer.organise.actions import edit_phase_limits
from tests.environments.wheelhouse import WHEELHOUSE, need_wheelhouse, scaffold_with_environment

pytestmark = pytest.mark.needs("bwrap")


def test_a_change_builds_first_and_a_broken_push_keeps_the_environment(tmp_path: Path):
    need_wheelhouse()
    folder, spec = scaffold_with_environment("Curve", tmp_path / "organiser", "uncertainties==3.2.3\n")
    bare = tmp_path / "curve.git"
    publish(folder, bare, message="publish", author="Organiser", email="organiser@example.org")
    settings = ScorerSettings(
        home=str(tmp_path / "home"), environment_find_links=[str(WHEELHOUSE)], environment_offline=True
    )
    served = serve_repository(settings.home_path, "curve", bare)
    api = CoopAPI(settings)
    try:
        api.register(str(served.resolve()))  # registered, its environment never built
        phase = spec["phases"][0]["id"]
        assert used_by(settings, "curve", phase) is None
        change = edit_phase_limits(api, served, "curve", "olga", phase_id=phase, submissions={"per_day": 3})
        assert change.applied
        environment = used_by(settings, "curve", phase)
        assert environment is not None and is_built(environment)

        # the organiser tree of a push that adds a package nowhere to be found
        (folder / "requirements.txt").write_text("uncertainties==3.2.3\ncoop-no-such-package==0.1\n")
        (line,) = environment_lines(api, load_spec(folder), folder)
        assert str(line).startswith("environment not built, the previous one keeps serving: ")
        assert "coop-no-such-package" in str(line)
        assert used_by(settings, "curve", phase) == environment and is_built(environment)
    finally:
        api.close()
