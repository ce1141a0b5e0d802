import pytest

from tests.conftest import HAS_BWRAP

pytestmark = pytest.mark.skipif(not HAS_BWRAP, reason="bubblewrap is not installed")


def test_baseline_scores(challenge):
    sha = challenge.commit("alice", {"solutions/alice/fit.ipynb": challenge.baseline})
    [result] = challenge.score(sha)
    assert result.outcome == "scored", result.reason
    assert 0 < result.scores.public["rmse"] < 0.3
