"""The service warms what the dashboards read first when it starts: each challenge's shown phase
(boards ranked, the first board's credit ladder computed) on a ledger scored by the real pipeline."""

from __future__ import annotations

import logging
import threading

import pytest

from scorer.cli.serve import start_preparing
from scorer.service.warm import warm
from tests.service.conftest import Scored, scored  # noqa: F401  (the fixture)


def test_each_challenges_shown_phase_is_warmed(scored: Scored):  # noqa: F811
    assert warm(scored.api) == ["curve/phase-1"]


def test_the_service_serves_git_then_warms_in_the_background(
    scored: Scored,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
):
    ready = threading.Event()
    with caplog.at_level(logging.INFO, logger="coop"):
        start_preparing(scored.api, ready, "http://127.0.0.1:1/git").join(timeout=300)
    assert ready.is_set()
    assert (scored.api.settings.home_path / "git" / "curve.git" / "hooks" / "post-receive").is_file()
    assert "warmed for the dashboards: curve/phase-1" in caplog.text
