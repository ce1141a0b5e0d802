"""The embedded config on JupyterHub 5.5, what Zero to JupyterHub ships (the venv has 6.x).

``make`` installs JupyterHub 5.5 on its own into ``.venv/jupyterhub-5.5``; with it first on
``PYTHONPATH`` the hub process imports 5.5 and everything else from the venv. The hub must
start with our config (roles, custom scopes, services), log a participant in, and hand her
server a token that the scorer reads as submit-but-not-organise.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from scorer.service.auth import ORGANISE, SUBMIT
from tests.conftest import JUPYTERHUB_55
from tests.hub.conftest import RunningHub, publish_demo

pytestmark = pytest.mark.needs("jupyterhub-5.5")


@pytest.fixture(scope="module")
def hub55(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    home = tmp_path_factory.mktemp("hub55")
    running = RunningHub.on_held_ports(home, publish_demo(home))
    running.env["PYTHONPATH"] = str(JUPYTERHUB_55)
    try:
        running.start()
        yield running
    finally:
        running.close()


def test_the_config_runs_on_jupyterhub_5_5(hub55: RunningHub) -> None:
    assert httpx.get(f"{hub55.url}/hub/api/").json()["version"].startswith("5.5.")
    alice = hub55.login("alice")
    assert alice.logged_in
    server = alice.start_server()
    assert server["ready"]
    token = hub55.server_environment("alice")["JUPYTERHUB_API_TOKEN"]
    me = httpx.get(f"{hub55.service_url}api/me", headers={"Authorization": f"token {token}"}).json()
    assert me["name"] == "alice" and me["organiser"] is False, me
    assert f"{SUBMIT}!user=alice" in me["scopes"], me
    assert not any(scope.startswith(ORGANISE) for scope in me["scopes"]), me
