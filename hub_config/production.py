"""Production settings, applied on top of ``jupyterhub_config.py`` when ``COOP_HUB_MODE=production``.

Real accounts (NativeAuthenticator, through ``native_auth.py`` so that its login works on
JupyterHub 6, or GitHub through OAuthenticator), PostgreSQL for the
hub's database, TLS, and a spawner chosen by the operator (never the demo's
SimpleLocalProcessSpawner, which does not isolate users). Every participant who can log in may
submit (the default ``user`` role carries the participant scopes); organisers are the
``organisers`` group. Each setting comes from the environment; a missing one stops the hub
with a message that names it (README.md lists them all).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

from traitlets.config import Config


def apply(c: Config, environ: Mapping[str, str] = os.environ) -> None:
    """Turn the embedded configuration ``c`` into the production one."""
    settings = Settings(environ)
    database(c, settings)
    public_address(c, settings)
    authenticator(c, settings)
    roles(c, settings)
    spawner(c, settings)


class Settings:
    """The environment, read with messages that name what is missing."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def get(self, variable: str, default: str = "") -> str:
        return self.environ.get(variable, default).strip()

    def required(self, variable: str, example: str) -> str:
        value = self.get(variable)
        if not value:
            raise SystemExit(f"COOP_HUB_MODE=production needs {variable} (e.g. {example})")
        return value

    def names(self, variable: str, example: str | None = None) -> set[str]:
        """A comma-separated list; required when an ``example`` is given."""
        text = self.required(variable, example) if example else self.get(variable)
        return {name.strip() for name in text.split(",") if name.strip()}


def database(c: Config, settings: Settings) -> None:
    url = settings.required(
        "COOP_HUB_DB_URL", "postgresql+psycopg://jupyterhub:secret@db.example.org/jupyterhub"
    )
    if not url.startswith("postgresql"):
        raise SystemExit(f"COOP_HUB_DB_URL must be a PostgreSQL URL (postgresql+psycopg://…), not {url!r}")
    c.JupyterHub.db_url = url


def public_address(c: Config, settings: Settings) -> None:
    """TLS at the hub's proxy (a certificate) or at a proxy in front of it, and the public name
    that servers, kernels and dashboards use to reach the scorer (the name the certificate holds)."""
    public = settings.required("COOP_PUBLIC_URL", "https://coop.example.org").rstrip("/")
    if not public.startswith("https://"):
        raise SystemExit(f"COOP_PUBLIC_URL must be an https:// URL, not {public!r}")
    c.JupyterHub.public_url = public
    tls = settings.get("COOP_HUB_TLS", "certificate")
    if tls == "certificate":
        for trait, variable in (("ssl_cert", "COOP_HUB_SSL_CERT"), ("ssl_key", "COOP_HUB_SSL_KEY")):
            path = Path(
                settings.required(variable, f"/etc/letsencrypt/live/coop.example.org/{trait[4:]}.pem")
            )
            if not path.is_file():
                raise SystemExit(f"{variable}={path}: no such file")
            setattr(c.JupyterHub, trait, str(path))
        c.JupyterHub.bind_url = c.JupyterHub.bind_url.replace("http://", "https://", 1)
    elif tls != "proxy":  # "proxy": a proxy in front ends TLS and forwards to bind_url (loopback)
        raise SystemExit(f"COOP_HUB_TLS={tls!r}: use 'certificate' (with COOP_HUB_SSL_CERT/KEY) or 'proxy'")
    service_url = f"{public}/services/coop/"
    c.Spawner.environment = {**c.Spawner.environment, "COOP_SERVICE_URL": service_url}
    for service in c.JupyterHub.services:
        if "COOP_SERVICE_URL" in service.get("environment", {}):
            service["environment"]["COOP_SERVICE_URL"] = service_url


def authenticator(c: Config, settings: Settings) -> None:
    kind = settings.get("COOP_HUB_AUTH", "native")
    if kind == "native":  # accounts with passwords kept by the hub; admins approve each sign-up
        import nativeauthenticator

        c.JupyterHub.authenticator_class = native_authenticator()
        c.JupyterHub.template_paths = [str(Path(nativeauthenticator.__file__).parent / "templates")]
        c.NativeAuthenticator.open_signup = False
        c.NativeAuthenticator.minimum_password_length = 12
        c.NativeAuthenticator.check_common_password = True
        c.NativeAuthenticator.allowed_failed_logins = 5
        c.NativeAuthenticator.seconds_before_next_try = 600
        c.Authenticator.allow_all = True  # NativeAuthenticator admits only the sign-ups admins approved
        c.Authenticator.admin_users = settings.names("COOP_HUB_ADMINS", "olga,ops")  # they approve
    elif kind == "github":  # GitHub accounts (OAuthenticator), limited to organisations or teams
        public = c.JupyterHub.public_url
        c.JupyterHub.authenticator_class = "oauthenticator.github.GitHubOAuthenticator"
        c.GitHubOAuthenticator.client_id = settings.required("GITHUB_CLIENT_ID", "the OAuth app's client id")
        c.GitHubOAuthenticator.client_secret = settings.required("GITHUB_CLIENT_SECRET", "the app's secret")
        c.GitHubOAuthenticator.oauth_callback_url = f"{public}/hub/oauth_callback"
        c.GitHubOAuthenticator.allowed_organizations = settings.names(
            "COOP_GITHUB_ORGS", "my-lab,my-lab:team"
        )
        c.GitHubOAuthenticator.scope = ["read:org"]
        c.Authenticator.admin_users = settings.names("COOP_HUB_ADMINS")
    else:
        raise SystemExit(f"COOP_HUB_AUTH={kind!r}: use 'native' or 'github'")
    c.Authenticator.allowed_users = set()  # no demo accounts


def native_authenticator() -> type:
    """NativeAuthenticator with a login page that works on JupyterHub 6 (``native_auth.py``,
    beside this file: the hub loads its config files by path, not as a package)."""
    spec = importlib.util.spec_from_file_location(
        "coop_hub_native_auth", Path(__file__).with_name("native_auth.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CoopNativeAuthenticator


def roles(c: Config, settings: Settings) -> None:
    """Everyone who logs in participates; the organisers are named."""
    by_name = {role["name"]: role for role in c.JupyterHub.load_roles}
    c.JupyterHub.load_roles = [
        *by_name.values(),
        {"name": "user", "scopes": ["self", *by_name["coop-participant"]["scopes"]]},
    ]
    c.JupyterHub.load_groups = {"organisers": {"users": sorted(settings.names("COOP_HUB_ORGANISERS"))}}


def spawner(c: Config, settings: Settings) -> None:
    chosen = settings.required(
        "COOP_HUB_SPAWNER", "localprocess (system accounts) or dockerspawner.DockerSpawner; Kubernetes: z2jh/"
    )
    if chosen in {"simple", "jupyterhub.spawner.SimpleLocalProcessSpawner"}:
        raise SystemExit(
            "COOP_HUB_SPAWNER: SimpleLocalProcessSpawner does not isolate users, not in production"
        )
    c.JupyterHub.spawner_class = chosen
