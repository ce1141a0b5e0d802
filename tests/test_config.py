"""Settings: what travels to the Dask workers with every task."""

from __future__ import annotations

import json

from scorer.config import ScorerSettings


def test_webhook_secrets_never_travel_to_workers():
    settings = ScorerSettings(home="/tmp/x", webhook_secrets={"curve": "s3cret"})
    shipped = settings.to_dict()
    assert "s3cret" not in json.dumps(shipped)
    assert shipped["home"] == "/tmp/x"
    assert ScorerSettings(**shipped).webhook_secrets == {}
