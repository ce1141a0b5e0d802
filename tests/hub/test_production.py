"""The production settings (``hub_config/production.py``): a real JupyterHub initialises with
them on the machine's PostgreSQL (tables made, roles loaded, authenticator and spawner chosen),
with NativeAuthenticator and TLS or with GitHub's OAuthenticator behind a TLS proxy; a missing
or unsafe setting stops the hub with a message naming it."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from traitlets.config import Config, PyFileConfigLoader

from scorer.service.auth import ORGANISE, SUBMIT
from tests.conftest import require
from tests.hub.conftest import CONFIG
from tests.pg import schema_url

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

#: Initialise (never start) a hub with the config, then report what it made of it.
INITIALISE = """
import asyncio, json, sys
from jupyterhub import orm
from jupyterhub.app import JupyterHub

app = JupyterHub()
asyncio.run(app.initialize(["-f", sys.argv[1]]))
print(json.dumps({
    "authenticator": type(app.authenticator).__name__,
    "spawner": app.spawner_class.__name__,
    "bind_url": app.bind_url,
    "ssl_cert": app.ssl_cert,
    "admins": sorted(app.authenticator.admin_users),
    "user_role": sorted(orm.Role.find(app.db, "user").scopes),
    "organisers": sorted(u.name for u in orm.Group.find(app.db, "organisers").users),
    "users": sorted(u.name for u in app.db.query(orm.User)),
    "tables": sorted(app.db.get_bind().dialect.get_table_names(app.db.connection())),
    "coop_service_url": app.config.Spawner.environment["COOP_SERVICE_URL"],
}))
"""


def initialise(tmp_path: Path, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", INITIALISE, str(CONFIG)],
        env={"PATH": "/usr/bin:/bin", "COOP_HOME": str(tmp_path), "COOP_HUB_MODE": "production", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    require("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    self_signed = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=x"]
    subprocess.run([*self_signed, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def test_native_accounts_on_postgresql_with_tls(tmp_path: Path, certificate: tuple[Path, Path]):
    cert, key = certificate
    with schema_url("hubprod") as db_url:
        found = initialise(
            tmp_path,
            {
                "COOP_HUB_DB_URL": db_url,
                "COOP_PUBLIC_URL": "https://coop.example.org",
                "COOP_HUB_SSL_CERT": str(cert),
                "COOP_HUB_SSL_KEY": str(key),
                "COOP_HUB_ADMINS": "ops",
                "COOP_HUB_ORGANISERS": "olga",
                "COOP_HUB_SPAWNER": "localprocess",
            },
        )
    assert found["authenticator"] == "NativeAuthenticator"
    assert found["spawner"] == "LocalProcessSpawner"
    assert found["bind_url"].startswith("https://") and found["ssl_cert"] == str(cert)
    assert {"users", "api_tokens", "users_info"} <= set(found["tables"])  # hub's and native's, in PostgreSQL
    assert found["admins"] == ["ops"]
    assert found["organisers"] == ["olga"]
    assert {"alice", "bob", "carol"}.isdisjoint(found["users"])  # no demo accounts
    assert {f"{SUBMIT}!user", "access:services!service=coop"} <= set(found["user_role"])
    assert ORGANISE not in found["user_role"]
    assert found["coop_service_url"] == "https://coop.example.org/services/coop/"


def test_github_accounts_behind_a_tls_proxy(tmp_path: Path):
    with schema_url("hubprod") as db_url:
        found = initialise(
            tmp_path,
            {
                "COOP_HUB_DB_URL": db_url,
                "COOP_PUBLIC_URL": "https://coop.example.org",
                "COOP_HUB_TLS": "proxy",
                "COOP_HUB_AUTH": "github",
                "GITHUB_CLIENT_ID": "client-id",
                "GITHUB_CLIENT_SECRET": "client-secret",
                "COOP_GITHUB_ORGS": "physics-lab",
                "COOP_HUB_SPAWNER": "localprocess",
            },
        )
    assert found["authenticator"] == "GitHubOAuthenticator"
    assert found["bind_url"].startswith("http://127.0.0.1:") and not found["ssl_cert"]


def embedded_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.setenv("COOP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COOP_HUB_MODE", raising=False)
    return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()


def production_module():
    spec = importlib.util.spec_from_file_location("coop_hub_production", CONFIG.with_name("production.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALID = {
    "COOP_HUB_DB_URL": "postgresql+psycopg://hub@db/hub",
    "COOP_PUBLIC_URL": "https://coop.example.org",
    "COOP_HUB_TLS": "proxy",
    "COOP_HUB_ADMINS": "ops",
    "COOP_HUB_SPAWNER": "localprocess",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"COOP_HUB_DB_URL": ""}, "needs COOP_HUB_DB_URL"),
        ({"COOP_HUB_DB_URL": "sqlite:///hub.sqlite"}, "must be a PostgreSQL URL"),
        ({"COOP_PUBLIC_URL": "http://coop.example.org"}, "must be an https:// URL"),
        ({"COOP_HUB_TLS": "certificate"}, "needs COOP_HUB_SSL_CERT"),
        ({"COOP_HUB_TLS": "certificate", "COOP_HUB_SSL_CERT": "/no/cert.pem"}, "/no/cert.pem: no such file"),
        ({"COOP_HUB_TLS": "none"}, "COOP_HUB_TLS='none'"),
        ({"COOP_HUB_ADMINS": ""}, "needs COOP_HUB_ADMINS"),
        ({"COOP_HUB_AUTH": "github"}, "needs GITHUB_CLIENT_ID"),
        ({"COOP_HUB_AUTH": "dummy"}, "COOP_HUB_AUTH='dummy'"),
        ({"COOP_HUB_SPAWNER": ""}, "needs COOP_HUB_SPAWNER"),
        ({"COOP_HUB_SPAWNER": "simple"}, "does not isolate users"),
    ],
)
def test_a_missing_or_unsafe_setting_stops_the_hub(tmp_path, monkeypatch, change, message):
    config = embedded_config(tmp_path, monkeypatch)
    with pytest.raises(SystemExit, match=message):
        production_module().apply(config, {**VALID, **change})


def test_the_embedded_config_keeps_servers_over_a_restart_and_scopes_kernel_tokens(tmp_path, monkeypatch):
    config = embedded_config(tmp_path, monkeypatch)
    assert config.JupyterHub.cleanup_servers is False
    assert config.JupyterHub.authenticator_class == "shared-password"
    assert set(config.JupyterHub.custom_scopes) == {SUBMIT, ORGANISE}
    assert config.Spawner.server_token_scopes == [
        "access:servers!server",
        "users:activity!user",
        f"{SUBMIT}!user",
        ORGANISE,
    ]
    coop = next(s for s in config.JupyterHub.services if s["name"] == "coop")
    assert set(coop["oauth_client_allowed_scopes"]) == {SUBMIT, ORGANISE}
    assert (tmp_path / "home" / "hub" / "demo-password").stat().st_mode & 0o077 == 0
