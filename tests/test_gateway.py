"""The ``gateway`` executor against a real dask-gateway server on loopback.

The server runs its clusters as local processes (``UnsafeLocalBackend``) and checks either a
shared password (``SimpleAuthenticator``) or JupyterHub tokens: for the latter a real JupyterHub
holds the roles of ``hub_config/z2jh/values.yaml`` and the gateway runs the ``extraConfig`` of
``hub_config/z2jh/dask-gateway-values.yaml``, so the scoring cluster is reachable by the ``coop``
service's token and refused to a participant's.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from dask_gateway import Gateway
from dask_gateway.auth import BasicAuth, JupyterHubAuth

from scorer.config import ScorerSettings, load_settings
from scorer.dispatch.gateway import PASSWORD_VARIABLE, TOKEN_VARIABLE, GatewayExecutor, gateway_auth
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI
from scorer.ports import hold
from tests.test_dispatch import _queue

pytestmark = pytest.mark.needs("dask-gateway-server")

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DASK = BIN / "dask"
GATEWAY_SERVER = BIN / "dask-gateway-server"
CHP = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
Z2JH = ROOT / "hub_config" / "z2jh"
PASSWORD = "gateway-test-password"

LOCAL_BACKEND = """
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.Proxy.address = "127.0.0.1:{port}"
c.ClusterConfig.scheduler_cmd = [{dask!r}, "scheduler"]
c.ClusterConfig.worker_cmd = [{dask!r}, "worker"]
c.ClusterConfig.worker_threads = 1
c.LocalBackend.clusters_directory = {clusters!r}
"""


def wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    """Until ``url`` answers 200 (the gateway's proxy says 404 until it has its routes); fail with
    the log if the process dies."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args[0]} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def run_gateway(folder: Path, auth_config: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """A real dask-gateway-server with local-process clusters; yields its address."""
    held = hold()
    [port] = held.numbers
    config = folder / "dask_gateway_config.py"
    backend = LOCAL_BACKEND.format(port=port, dask=str(DASK), clusters=str(folder / "clusters"))
    config.write_text(backend + auth_config)
    log = folder / "gateway.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [str(GATEWAY_SERVER), "-f", str(config)],
            cwd=folder,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    address = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{address}/api/health", process, log)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=60)
        held.release()


@pytest.fixture(scope="module")
def password_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    auth = (
        'c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"\n'
        f"c.SimpleAuthenticator.password = {PASSWORD!r}\n"
    )
    yield from run_gateway(tmp_path_factory.mktemp("gateway"), auth)


def basic_settings(address: str, **traits: object) -> ScorerSettings:
    return ScorerSettings(gateway_address=address, gateway_auth="basic", executor="gateway", **traits)


def active_clusters(address: str) -> list[str]:
    """The names of the test user's pending or running clusters (the client closes itself when it
    goes: dask-gateway's Gateway.close() must not run twice)."""
    return [
        report.name
        for report in Gateway(address, auth=BasicAuth(getpass.getuser(), PASSWORD)).list_clusters()
    ]


@pytest.mark.needs("bwrap")
def test_submissions_are_scored_on_gateway_workers(challenge, password_gateway, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    ids = _queue(challenge, ["alice"])
    challenge.settings.gateway_address = password_gateway
    challenge.settings.gateway_auth = "basic"
    challenge.settings.executor = "gateway"
    api = CoopAPI(challenge.settings)
    try:
        assert [f.outcome for f in api.run(ids)] == ["scored"]
        executor = api.executor()
        assert isinstance(executor, GatewayExecutor) and executor.started
        client = executor.client()
        host = password_gateway.removeprefix("http://")
        assert client.scheduler.address == f"gateway://{host}/{executor.cluster_name}"  # via the gateway
        gateway_workers = {w["name"] for w in client.scheduler_info()["workers"].values()}
        view, _ = api.submission(ids[0])
        assert view.status == "scored"
        assert view.worker.split(":", 1)[1] in gateway_workers, (view.worker, gateway_workers)
        assert active_clusters(password_gateway) == [executor.cluster_name]
    finally:
        api.close()
    assert active_clusters(password_gateway) == []  # the executor started it, so it stopped it


def test_a_running_cluster_is_reused_and_left_running(password_gateway, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    first = GatewayExecutor(basic_settings(password_gateway, n_workers=1))
    try:
        second = GatewayExecutor(basic_settings(password_gateway, n_workers=1))
        try:
            assert (first.started, second.started) == (True, False)
            assert second.cluster_name == first.cluster_name
            client = second.client()
            client.wait_for_workers(1, timeout=120)
            worker_pids = set(client.run(os.getpid).values())
            pid = client.submit(os.getpid, pure=False).result(timeout=120)
            assert pid in worker_pids and pid != os.getpid()  # ran in a gateway worker process
        finally:
            second.close()
        assert active_clusters(password_gateway) == [first.cluster_name]  # not second's to stop
    finally:
        first.close()
    assert active_clusters(password_gateway) == []


def test_a_wrong_password_is_a_clear_error(password_gateway, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, "not-the-password")
    with pytest.raises(CoopError, match=r"refused the scorer's credentials \(HTTP 401\)"):
        GatewayExecutor(basic_settings(password_gateway))
    assert active_clusters(password_gateway) == []


def test_an_unreachable_gateway_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    with hold() as held:  # nothing listens there while it is held
        address = f"http://127.0.0.1:{held.numbers[0]}"
        with pytest.raises(
            CoopError, match=f"cannot use the dask-gateway at {address}: the gateway cannot be reached"
        ):
            GatewayExecutor(basic_settings(address))


def test_jupyterhub_auth_uses_the_service_token_and_needs_it():
    settings = ScorerSettings(gateway_address="http://gateway.invalid")
    assert settings.gateway_auth == "jupyterhub"
    auth = gateway_auth(settings, {TOKEN_VARIABLE: "the-service-token"})
    assert isinstance(auth, JupyterHubAuth) and auth.api_token == "the-service-token"
    with pytest.raises(CoopError, match="JUPYTERHUB_API_TOKEN is not set"):
        gateway_auth(settings, {})
    basic = gateway_auth(ScorerSettings(gateway_auth="basic"), {PASSWORD_VARIABLE: "pw"})
    assert isinstance(basic, BasicAuth) and basic.password == "pw"


def test_coop_gateway_chooses_the_gateway_executor(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no coop_config.py here
    monkeypatch.delenv("COOP_SCHEDULER", raising=False)
    monkeypatch.setenv("COOP_GATEWAY", "http://gateway.example:8000")
    monkeypatch.setenv("COOP_GATEWAY_AUTH", "basic")
    settings = load_settings()
    assert (settings.executor, settings.gateway_address, settings.gateway_auth) == (
        GatewayExecutor,
        "http://gateway.example:8000",
        "basic",
    )
    assert PASSWORD_VARIABLE not in json.dumps(settings.to_dict())  # no secret travels with tasks
    monkeypatch.setenv("COOP_SCHEDULER", "tcp://127.0.0.1:8786")
    with pytest.raises(CoopError, match="choose one"):
        load_settings()


# --- JupyterHub authentication, with the roles of values.yaml ----------------------------------


def _values(name: str) -> dict:
    return yaml.safe_load((Z2JH / name).read_text())


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real JupyterHub with the z2jh roles and custom scopes; tokens for coop, the gateway, alice."""
    folder = tmp_path_factory.mktemp("hub")
    values = _values("values.yaml")["hub"]
    tokens = {name: secrets.token_hex(16) for name in ("coop", "dask-gateway", "alice")}
    roles = [{"name": name, **role} for name, role in values["loadRoles"].items()]
    held = hold(3)
    hub_port, proxy_port, api_port = held.numbers
    config = {
        "JupyterHub": {
            "authenticator_class": "null",  # tokens only: nobody logs in
            "ip": "127.0.0.1",
            "port": proxy_port,
            "hub_ip": "127.0.0.1",
            "hub_port": hub_port,
            "db_url": f"sqlite:///{folder / 'hub.sqlite'}",
            "cookie_secret_file": str(folder / "cookie_secret"),
            "custom_scopes": values["config"]["JupyterHub"]["custom_scopes"],
            "load_groups": {"participants": {"users": ["alice"]}, "organisers": {"users": []}},
            "load_roles": roles,
            "services": [
                {"name": "coop", "api_token": tokens["coop"]},
                {"name": "dask-gateway", "api_token": tokens["dask-gateway"]},
            ],
            "api_tokens": {tokens["alice"]: "alice"},
        },
        "ConfigurableHTTPProxy": {"command": [str(CHP)], "api_url": f"http://127.0.0.1:{api_port}"},
    }
    config_file = folder / "jupyterhub_config.py"
    config_file.write_text(
        "import json\n"
        f"for section, traits in json.loads({json.dumps(config)!r}).items():\n"
        "    for name, value in traits.items():\n"
        "        setattr(getattr(c, section), name, value)\n"
    )
    log = folder / "hub.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(config_file)],
            cwd=folder,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{hub_port}/hub/api/", process, log)
        yield {"api_url": f"http://127.0.0.1:{hub_port}/hub/api", **tokens}
    finally:
        process.terminate()
        process.wait(timeout=60)
        held.release()


@pytest.fixture(scope="module")
def hub_gateway(hub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The gateway as the dask-gateway chart configures it: JupyterHub auth plus our extraConfig."""
    gateway = _values("dask-gateway-values.yaml")["gateway"]
    auth = (
        'c.DaskGateway.authenticator_class = "dask_gateway_server.auth.JupyterHubAuthenticator"\n'
        f"c.JupyterHubAuthenticator.jupyterhub_api_url = {hub['api_url']!r}\n"
    )
    snippets = "\n".join(gateway["extraConfig"][key] for key in sorted(gateway["extraConfig"]))
    env = {TOKEN_VARIABLE: hub["dask-gateway"], "JUPYTERHUB_API_URL": hub["api_url"]}
    yield from run_gateway(tmp_path_factory.mktemp("hub-gateway"), auth + snippets, env)


def test_the_coop_service_token_may_use_the_gateway_and_a_participant_may_not(hub, hub_gateway, monkeypatch):
    settings = ScorerSettings(gateway_address=hub_gateway, executor="gateway", n_workers=1)
    monkeypatch.setenv(TOKEN_VARIABLE, hub["alice"])
    with pytest.raises(CoopError, match=r"refused the scorer's credentials \(HTTP 401\)"):
        GatewayExecutor(settings)
    monkeypatch.setenv(TOKEN_VARIABLE, hub["coop"])
    executor = GatewayExecutor(settings)
    try:
        client = executor.client()
        client.wait_for_workers(1, timeout=120)
        assert client.submit(sum, [1, 2, 3]).result(timeout=120) == 6
    finally:
        executor.close()
