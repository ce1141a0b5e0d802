"""The service warms what the dashboards read first when it starts: each challenge's shown phase
(boards ranked, the first board's credit ladder computed) on a ledger scored by the real pipeline."""

from __future__ import annotations

import logging

import pytest

from scorer.service.warm import start_warming, warm
from tests.service.conftest import Scored, scored  # noqa: F401  (the fixture)


def test_each_challenges_shown_phase_is_warmed(scored: Scored):  # noqa: F811
    assert warm(scored.api) == ["curve/phase-1"]


def test_the_service_warms_in_the_background_and_says_what(scored: Scored, caplog: pytest.LogCaptureFixture):  # noqa: F811
    with caplog.at_level(logging.INFO, logger="coop"):
        start_warming(scored.api).join(timeout=300)
    assert "warmed for the dashboards: curve/phase-1" in caplog.text
