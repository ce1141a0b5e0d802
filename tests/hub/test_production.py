"""The production settings (``hub_config/production.py``): a real JupyterHub initialises with
them on the machine's PostgreSQL (tables made, roles loaded, authenticator and spawner chosen),
with NativeAuthenticator and TLS or with GitHub's OAuthenticator behind a TLS proxy; a missing
or unsafe setting stops the hub with a message naming it.

And a production hub running (:mod:`tests.hub.production_hub`), walked in Chromium as people
do: an admin and a participant sign up, the admin approves her, she logs in through the login
form, her server starts and her pushed notebook is scored; a wrong password is refused, and
repeated ones lock the account out."""

from __future__ import annotations

import base64
import importlib.util
import json
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import nbformat
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from traitlets.config import Config, PyFileConfigLoader

from scorer.service.auth import ORGANISE, SUBMIT
from tests.conftest import CHROMIUM, ChallengeFixture, make_challenge, require
from tests.e2e.conftest import CHROMIUM_ARGS, PHASE, RUN_LIMITS, SCORE_TIMEOUT, SPAWN_TIMEOUT, UI_TIMEOUT
from tests.hub.conftest import CONFIG
from tests.hub.production_hub import ADMIN, ProductionHub, production_environment, self_signed
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
    return self_signed(tmp_path)


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
    assert found["authenticator"] == "CoopNativeAuthenticator"  # hub_config/native_auth.py
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


# --- a production hub, walked in Chromium -----------------------------------------------------


@dataclass
class Running:
    hub: ProductionHub
    challenge: ChallengeFixture
    browser: Browser
    admin: Page  # the admin, logged in, on the page where sign-ups are approved

    def person(self) -> BrowserContext:
        """A browser of someone's own (cookies); the hub's certificate is self-signed."""
        return self.browser.new_context(ignore_https_errors=True)

    def approve(self, name: str) -> None:
        self.admin.goto(f"{self.hub.url}/hub/authorize")
        row = self.admin.locator(f"tr[id='{name}']")
        row.get_by_role("button", name="Authorize", exact=True).click()
        expect(row.get_by_role("button", name="Unauthorize")).to_be_visible()  # on the page reloaded

    def https(self) -> httpx.Client:
        trusted = ssl.create_default_context(cafile=self.hub.certificate)
        return httpx.Client(base_url=self.hub.url, verify=trusted)


@dataclass
class Git:
    """git as a participant runs it against the hub: her hub token over HTTPS (HTTP Basic)."""

    certificate: Path
    user: str
    token: str

    def __call__(self, cwd: Path, *args: str) -> None:
        basic = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        options = {
            "http.sslCAInfo": str(self.certificate),
            "http.extraHeader": f"Authorization: Basic {basic}",
            "user.name": self.user,
            "user.email": f"{self.user}@example.org",
        }
        settings = [part for name, value in options.items() for part in ("-c", f"{name}={value}")]
        env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_TERMINAL_PROMPT": "0"}
        done = subprocess.run(["git", *settings, *args], cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"


def password() -> str:
    return f"coop-{secrets.token_urlsafe(12)}"


def sign_up(page: Page, url: str, name: str, secret: str) -> str:
    """Through the hub's sign-up form; what it answers."""
    page.goto(f"{url}/hub/signup")
    page.fill("#username_input", name)
    page.fill("#password_input", secret)
    page.fill("#password_confirmation_input", secret)
    page.click("#signup_submit")
    return page.locator(".alert").inner_text()


def log_in(page: Page, url: str, name: str, secret: str, next_url: str = "") -> None:
    """Through the hub's login form (the page it leads to is the caller's to wait for)."""
    page.goto(f"{url}/hub/login" + (f"?next={next_url}" if next_url else ""))
    page.fill("#username_input", name)
    page.fill("#password_input", secret)
    page.click("#login_submit")


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    require("chromium")
    expect.set_options(timeout=UI_TIMEOUT)  # assertions wait like locators do (default: 5 s)
    root = tmp_path_factory.mktemp("production")
    challenge = make_challenge(root, edit={"phases.0.limits": RUN_LIMITS})
    cert, key = self_signed(root)
    hub = ProductionHub.on_held_ports(Path(challenge.settings.home), [challenge.challenge_id])
    assert isinstance(hub, ProductionHub)
    public = f"https://127.0.0.1:{hub.env['COOP_HUB_PORT']}"
    with schema_url("hubnative") as db_url, sync_playwright() as playwright:
        hub.env = production_environment(hub.env, db_url, cert, key, public)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            hub.start()
            admin = browser.new_context(ignore_https_errors=True).new_page()
            admin.set_default_timeout(UI_TIMEOUT)
            secret = password()
            assert "signup was successful" in sign_up(admin, hub.url, ADMIN, secret)  # no approval needed
            log_in(admin, hub.url, ADMIN, secret, next_url="/hub/authorize")
            expect(admin.get_by_role("heading", name="Authorization Area")).to_be_visible()
            yield Running(hub, challenge, browser, admin)
        finally:
            browser.close()
            hub.close()


def test_sign_up_approval_login_spawn_and_a_scored_submission(production: Running, tmp_path: Path):
    url = production.hub.url
    ada = production.person().new_page()
    ada.set_default_timeout(UI_TIMEOUT)
    secret = password()
    assert "sent to the admin" in sign_up(ada, url, "ada", secret)
    log_in(ada, url, "ada", secret)
    expect(ada.get_by_text("User ada has not been authorized by an administrator yet.")).to_be_visible()

    production.approve("ada")
    log_in(ada, url, "ada", "not-" + secret)
    expect(ada.get_by_text("Invalid username or password.")).to_be_visible()
    log_in(ada, url, "ada", secret)
    ada.wait_for_url(f"{url}/user/ada/**", timeout=SPAWN_TIMEOUT)  # spawned: her server's page
    expect(ada.locator("body")).not_to_be_empty()

    # Submit as a participant's git push does, with her server's token
    token = production.hub.server_environment("ada")["JUPYTERHUB_API_TOKEN"]
    clone = tmp_path / "clone"
    repository = f"{url}/services/coop/git/{production.challenge.challenge_id}.git"
    as_ada = Git(production.hub.certificate, "ada", token)
    as_ada(tmp_path, "clone", "-q", repository, str(clone))
    notebook = clone / "solutions" / "ada" / f"{PHASE}.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(production.challenge.baseline, notebook)
    as_ada(clone, "add", "solutions")
    as_ada(clone, "commit", "-q", "-m", "baseline")
    as_ada(clone, "push", "origin", "HEAD:refs/heads/ada/work")
    with production.https() as client:
        deadline = time.monotonic() + SCORE_TIMEOUT / 1000
        while time.monotonic() < deadline:
            [submission] = client.get("/services/coop/api/submissions", params={"person": "ada"}).json()
            if submission["status"] in {"scored", "failed"}:
                break
            time.sleep(1.0)
    assert submission["status"] == "scored", submission


def test_a_wrong_password_is_refused_and_repeated_ones_lock_the_account(production: Running):
    url = production.hub.url
    bo = production.person().new_page()
    bo.set_default_timeout(UI_TIMEOUT)
    secret = password()
    assert "sent to the admin" in sign_up(bo, url, "bo", secret)
    production.approve("bo")
    for _ in range(4):  # allowed_failed_logins = 5
        log_in(bo, url, "bo", "not-" + secret)
        expect(bo.get_by_text("Invalid username or password.")).to_be_visible()
    log_in(bo, url, "bo", "not-" + secret)
    locked = "Too many failed attempts for bo: try again in 10 minutes."
    expect(bo.get_by_text(locked)).to_be_visible()
    log_in(bo, url, "bo", secret)  # the right password, too late
    expect(bo.get_by_text(locked)).to_be_visible()
    assert urlsplit(bo.url).path == "/hub/login"
    assert "jupyterhub-hub-login" not in {cookie["name"] for cookie in bo.context.cookies()}
