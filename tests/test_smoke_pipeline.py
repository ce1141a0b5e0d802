import pytest

from scorer.exceptions import SandboxUnavailable
from scorer.ledger.queries import executed_notebook

pytestmark = pytest.mark.needs("bwrap")


def test_baseline_scores(challenge):
    sha = challenge.commit("alice", {"solutions/alice/fit.ipynb": challenge.baseline})
    [result] = challenge.score(sha)
    assert result.outcome == "scored", result.reason
    assert 0 < result.scores.public["rmse"] < 0.3


def test_a_failure_keeps_the_executed_notebook_with_the_error(challenge):
    sha = challenge.solution("raise ValueError('bad degree')", user="bob")
    [result] = challenge.score(sha)
    assert result.view.failure_class == "exception"
    assert result.reason == "ValueError: bad degree (in cell 4: \"raise ValueError('bad degree')\")"
    api = challenge.api()
    try:
        with api.sessions() as session:
            notebook = executed_notebook(session, result.view.id, viewer="bob")
    finally:
        api.close()
    assert b"bad degree" in notebook and b"ValueError" in notebook


def test_unsandboxed_runs_only_when_allowed_and_say_so(challenge):
    challenge.settings.sandbox = "none"
    sha = challenge.commit("carol", {"solutions/carol/fit.ipynb": challenge.baseline})
    with pytest.raises(SandboxUnavailable, match=r"sandbox setting is `none`.*allow_unsandboxed: true"):
        challenge.score(sha)  # refused before anything is queued
    challenge.settings.allow_unsandboxed = True
    [allowed] = challenge.score(sha)
    assert allowed.outcome == "scored", allowed.reason
    assert allowed.view.provenance["sandboxed"] is False
