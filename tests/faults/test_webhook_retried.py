"""A forge delivery while ``coop serve`` is down, retried by the forge: the first attempt finds
no service (refused), the retries (the same delivery id, as forges redeliver) reach a real
``coop serve``: the first is processed, the next answered "already processed", and the pushed
notebook is queued once and followed through to its score on real Dask workers."""

from __future__ import annotations

from pathlib import Path

import httpx
import nbformat
import pytest
import yaml

from scorer.facade import CoopAPI
from scorer.ports import hold
from tests.conftest import make_challenge
from tests.faults.conftest import assert_finished_once, dask
from tests.faults.test_service_killed import LIMITS
from tests.service.test_push_spool import TOKENS, coop_serve, submissions, wait_for
from tests.service.test_webhooks import Forge, signed

pytestmark = pytest.mark.needs("bwrap")


def test_a_delivery_retried_after_the_service_was_down_is_processed_once(tmp_path: Path) -> None:
    section = {
        "kind": "github",
        "repository": str(tmp_path / "challenge" / "challenge.git"),
        "full_name": "coop-lab/curve-github",
    }
    fixture = make_challenge(
        tmp_path / "challenge",
        name="Curve github",
        edit={"forge": section, "phases.0.submissions": {}, "phases.0.limits": LIMITS},
    )
    forge = Forge("github", fixture)
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(yaml.safe_dump({forge.challenge_id: "github-webhook-secret"}))
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(TOKENS)
    pushed = forge.push("alice", {"solutions/alice/hooked.ipynb": nbformat.writes(fixture.baseline)})
    body = forge.payload(pushed, "alice")
    headers = signed("github", body, secret="github-webhook-secret")
    api = CoopAPI(fixture.settings)
    try:
        api.prepare(str(fixture.bare), seed=7)
        with hold(2) as ports, dask(ports.numbers[1], tmp_path) as cluster:
            env = {"COOP_SCHEDULER": cluster.address, "COOP_WEBHOOK_SECRETS_FILE": str(secrets)}
            url = f"http://127.0.0.1:{ports.numbers[0]}/webhooks/github"
            try:
                httpx.post(url, content=body, headers=headers, timeout=10)
                raise AssertionError("the service is down")
            except httpx.ConnectError:
                pass  # the forge records a failed delivery and retries it later
            with coop_serve(
                Path(fixture.settings.home), ports.numbers[0], tokens, tmp_path / "serve.log", env
            ):
                first = httpx.post(url, content=body, headers=headers, timeout=60)
                assert first.status_code in (200, 202), first.text
                again = httpx.post(url, content=body, headers=headers, timeout=60)
                assert again.status_code == 200 and again.json()["status"] == "already processed", again.text
                [queued] = submissions(api, forge.challenge_id, pushed.after)
                assert queued.username == "alice"
                wait_for(
                    "the score", lambda: api.submission(queued.id)[0].status.value == "scored", timeout=300
                )
        assert_finished_once(api, [queued.id])
    finally:
        api.close()
