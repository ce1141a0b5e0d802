"""Infrastructure failures are retried by Dask and never blamed on the participant.

The fixture swaps the sandbox binary for a script that fails before the notebook starts:
always (``broken``) or only on its first call (``flaky``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scorer.facade import CoopAPI

pytestmark = pytest.mark.needs("bwrap")


def _script(folder: Path, body: str) -> str:
    path = folder / "fake-bwrap"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


@pytest.mark.parametrize("kind", ["broken", "flaky"])
def test_sandbox_start_failures_are_retried(challenge, tmp_path, kind):
    real = shutil.which("bwrap")
    counter = tmp_path / "calls"
    if kind == "broken":
        body = 'echo "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n'
    else:
        first_call = f'if [ ! -e {counter} ]; then touch {counter}; echo "bwrap: flaky" >&2; exit 1; fi\n'
        body = first_call + f'exec {real} "$@"\n'
    challenge.settings.bwrap = _script(tmp_path, body)
    challenge.settings.retries = 2
    sha = challenge.commit("alice", {"solutions/alice/fit.ipynb": challenge.baseline})
    api = CoopAPI(challenge.settings)
    try:
        [queued] = api.enqueue_commit(str(challenge.bare), sha)
        [finished] = api.run([queued.submission_id])
        view, scores = api.submission(queued.submission_id)
    finally:
        api.close()
    if kind == "broken":
        assert finished.outcome == "infrastructure"
        assert view.status == "failed" and view.failure_class == "infrastructure"
        assert view.attempts == 3  # the first run and two retries
        assert "not your" in view.failure_reason or "platform" in view.failure_reason
    else:
        assert finished.outcome == "scored", view.failure_reason
        assert view.attempts == 2 and scores.public
