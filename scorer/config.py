"""The scorer's settings: documented traits, set in ``coop_config.py`` or by environment.

Precedence: command-line options > environment (``COOP_*``) > config file > defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, Int, List, Unicode, default
from traitlets.config import Configurable, PyFileConfigLoader
from traitlets.config.loader import ConfigFileNotFound

from scorer.exceptions import CoopError

ENVIRONMENT = {
    "home": "COOP_HOME",
    "db_url": "COOP_DB_URL",
    "scheduler_address": "COOP_SCHEDULER",
    "gateway_address": "COOP_GATEWAY",
    "gateway_auth": "COOP_GATEWAY_AUTH",
    "sandbox": "COOP_SANDBOX",
    "webhook_secrets_file": "COOP_WEBHOOK_SECRETS_FILE",
}


#: Settings only the service needs, kept off the wire to workers.
SERVICE_ONLY = frozenset({"webhook_secrets"})


class ScorerSettings(Configurable):
    """Where the scorer keeps its state, and how it runs notebooks."""

    home = Unicode(
        help="Folder for the scorer's private state: database, repository mirrors, phase data "
        "(answer keys), run folders. Default: ./.coop"
    ).tag(config=True)

    db_url = Unicode(
        help="SQLAlchemy URL of the ledger, e.g. postgresql+psycopg://user@host/db. "
        "Default: SQLite in <home>/coop.db (WAL mode)."
    ).tag(config=True)

    executor = Unicode(
        "local",
        help="Name of the executor in the `coop.executors` registry: `local` starts a Dask "
        "LocalCluster, `scheduler` connects to `scheduler_address`, `gateway` starts or reuses a "
        "cluster on the dask-gateway at `gateway_address`.",
    ).tag(config=True)

    scheduler_address = Unicode(
        "", help="Address of an existing Dask scheduler (tcp://host:8786); implies executor=scheduler."
    ).tag(config=True)

    gateway_address = Unicode(
        "",
        help="Address of a dask-gateway server (http://host:port, e.g. the chart's traefik service); "
        "implies executor=gateway.",
    ).tag(config=True)

    gateway_auth = Enum(
        ["jupyterhub", "basic"],
        "jupyterhub",
        help="How the scorer proves who it is to the dask-gateway: `jupyterhub` sends the service's "
        "JUPYTERHUB_API_TOKEN (gateway.auth.type jupyterhub); `basic` sends the login name and the "
        "password in COOP_GATEWAY_PASSWORD (the gateway's SimpleAuthenticator: tests, single hosts).",
    ).tag(config=True)

    n_workers = Int(
        0,
        help="Worker processes (one notebook each): of the LocalCluster (0 = CPUs), or of the "
        "dask-gateway cluster (0 = adaptive, up to the gateway's cluster_max_workers).",
    ).tag(config=True)

    sandbox = Enum(
        ["auto", "bwrap", "none"],
        "auto",
        help="How untrusted notebooks are isolated: `bwrap` (bubblewrap), `none`, or `auto` "
        "(bubblewrap when installed; otherwise refuse unless unsandboxed runs are allowed).",
    ).tag(config=True)

    bwrap = Unicode("bwrap", help="The bubblewrap executable: a name looked up on PATH, or a path.").tag(
        config=True
    )

    hidden_packages = List(
        Unicode(),
        ["rfc3987_syntax"],
        help="Installed packages hidden from notebooks in the sandbox and from scoring workers. "
        "rfc3987_syntax is jsonschema's optional IRI checker: importing it builds a grammar, "
        "1.6 s of every papermill or nbformat start, and neither notebooks nor nbformat need it.",
    ).tag(config=True)

    allow_unsandboxed = Bool(
        False, help="Run untrusted notebooks without a sandbox when none is available. Unsafe."
    ).tag(config=True)

    retries = Int(2, help="Times an infrastructure failure is retried before it is recorded.").tag(
        config=True
    )

    webhook_secrets = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Forge webhook secrets by challenge id, {'<challenge>': '<secret>'}: the secret set on "
        "the webhook of a challenge hosted on GitHub, GitLab or Gitea (its `forge:` section). Never "
        "in challenge.yaml, which is public; prefer `webhook_secrets_file`.",
    ).tag(config=True)

    webhook_secrets_file = Unicode(
        "",
        help="A YAML or JSON file mapping challenge id -> webhook secret, read on every delivery "
        "(a rotated secret needs no restart); its entries win over `webhook_secrets`.",
    ).tag(config=True)

    forge_logins = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Forge logins -> hub users, {'github:Octocat': 'alice'} (keys case-insensitive), for "
        "webhook pushes. A login not listed is the hub user of the same name in lower case, as "
        "when the hub logs people in with that forge's OAuth.",
    ).tag(config=True)

    @default("home")
    def _default_home(self) -> str:
        return str(Path(".coop").resolve())

    @default("db_url")
    def _default_db_url(self) -> str:
        return f"sqlite:///{Path(self.home) / 'coop.db'}"

    @property
    def home_path(self) -> Path:
        return Path(self.home)

    @property
    def data_root(self) -> Path:
        return self.home_path / "data"

    @property
    def mirrors(self) -> Path:
        return self.home_path / "repos"

    @property
    def runs(self) -> Path:
        return self.home_path / "runs"

    @property
    def trusted(self) -> Path:
        return self.home_path / "trusted"

    def to_dict(self) -> dict[str, Any]:
        """Plain values, to ship to Dask workers: never the service's secrets (workers score
        notebooks; they have no use for webhook secrets)."""
        return {
            name: getattr(self, name)
            for name in self.trait_names(config=True)
            if name not in SERVICE_ONLY
        }


def load_settings(config_file: Path | None = None, **overrides: Any) -> ScorerSettings:
    """Defaults, then the config file, then ``COOP_*`` variables, then ``overrides``."""
    config = None
    candidates = [config_file] if config_file else [Path("coop_config.py")]
    for path in candidates:
        try:
            config = PyFileConfigLoader(path.name, str(path.parent.resolve())).load_config()
        except ConfigFileNotFound:
            if config_file:
                raise
    settings = ScorerSettings(config=config)
    for name, variable in ENVIRONMENT.items():
        if os.environ.get(variable):
            setattr(settings, name, os.environ[variable])
    for name, value in overrides.items():
        if value is not None:
            setattr(settings, name, value)
    if settings.scheduler_address and settings.gateway_address:
        raise CoopError(
            "both a Dask scheduler (COOP_SCHEDULER) and a dask-gateway (COOP_GATEWAY) are set: choose one"
        )
    if settings.scheduler_address:
        settings.executor = "scheduler"
    elif settings.gateway_address:
        settings.executor = "gateway"
    return settings
