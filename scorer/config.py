"""The scorer's settings: documented traits, set in ``coop_config.py`` or by environment.

Precedence, as everywhere in Jupyter: command-line options > config file > environment
(``COOP_*``, the defaults of the traits in :data:`ENVIRONMENT`) > built-in defaults.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, Int, List, Unicode, default
from traitlets.config import Configurable, PyFileConfigLoader
from traitlets.config.loader import ConfigFileNotFound

from scorer.exceptions import CoopError
from scorer.registry import PluginType

#: Settings whose default is read from an environment variable (when set and not empty).
ENVIRONMENT = {
    "home": "COOP_HOME",
    "db_url": "COOP_DB_URL",
    "scheduler_address": "COOP_SCHEDULER",
    "gateway_address": "COOP_GATEWAY",
    "gateway_auth": "COOP_GATEWAY_AUTH",
    "sandbox": "COOP_SANDBOX",
    "webhook_secrets_file": "COOP_WEBHOOK_SECRETS_FILE",
    "public_url": "COOP_PUBLIC_URL",
}


#: The environment variable of ``trusted_instances`` (a list: not one of :data:`ENVIRONMENT`).
TRUSTED_INSTANCES = "COOP_TRUSTED_INSTANCES"

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

    executor = PluginType(
        kind="executor",
        entry_point_group="coop.executors",
        help="The executor class, its import string, or its name in the `coop.executors` entry "
        "points: `local` starts a Dask LocalCluster, `scheduler` connects to `scheduler_address`, "
        "`gateway` starts or reuses a cluster on the dask-gateway at `gateway_address`. Default: "
        "`scheduler` or `gateway` when that address is set, else `local`.",
    ).tag(config=True)

    scheduler_address = Unicode(
        help="Address of an existing Dask scheduler (tcp://host:8786); implies executor=scheduler."
    ).tag(config=True)

    gateway_address = Unicode(
        help="Address of a dask-gateway server (http://host:port, e.g. the chart's traefik service); "
        "implies executor=gateway.",
    ).tag(config=True)

    gateway_auth = Enum(
        ["jupyterhub", "basic"],
        help="How the scorer proves who it is to the dask-gateway: `jupyterhub` sends the service's "
        "JUPYTERHUB_API_TOKEN (gateway.auth.type jupyterhub); `basic` sends the login name and the "
        "password in COOP_GATEWAY_PASSWORD (the gateway's SimpleAuthenticator: tests, single hosts).",
    ).tag(config=True)

    n_workers = Int(
        0,
        help="Worker processes (one notebook each): of the LocalCluster (0 = CPUs), or of the "
        "dask-gateway cluster (0 = adaptive, up to the gateway's cluster_max_workers).",
    ).tag(config=True)

    sandbox = PluginType(
        klass="scorer.scoring.sandbox.runner.Runner",
        kind="sandbox",
        entry_point_group="coop.sandboxes",
        help="How untrusted notebooks are isolated: a Runner class, its import string, or its name "
        "in the `coop.sandboxes` entry points: `bwrap` (bubblewrap), `none`, or `auto` (bubblewrap "
        "when installed; otherwise refuse unless unsandboxed runs are allowed).",
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

    skill_table = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Modules → skills for people search, over the built-in table "
        "(scorer.profiles.skills.DEFAULT_SKILL_TABLE), {'hdbscan': 'clustering', 'numba': "
        "'performance-optimisation'}: a scored notebook that imports or calls a module (or one of "
        "its submodules) shows that skill, with the submission as evidence.",
    ).tag(config=True)

    public_url = Unicode(
        help="The service's address as other instances and browsers reach it (the hub's "
        "/services/coop, e.g. https://coop.example.org/services/coop): the issuer of this "
        "instance's credentials, their evidence links, and where its keys are published "
        "(<public_url>/.well-known/jwks.json). Default: the embedded hub's, "
        "http://127.0.0.1:<COOP_HUB_PORT, 8000>/services/coop."
    ).tag(config=True)

    trusted_instances = List(
        Unicode(),
        help="The other instances whose credentials people may import here: their `public_url`s. "
        "A credential from an issuer not listed is refused; each listed issuer's keys are fetched "
        "from <url>/.well-known/jwks.json when a credential of theirs is imported. Default: "
        f"${TRUSTED_INSTANCES}, addresses separated by spaces or commas.",
    ).tag(config=True)

    credential_days = Int(
        365, help="Days an exported credential stays valid (its `exp`), counted from its export."
    ).tag(config=True)

    link_codes_live = Int(
        10,
        min=1,
        help="Link codes (`POST /api/me/link-codes`) a person may hold at once: one more is refused "
        "(429 `too-many-link-codes`, with Retry-After) until one expires, a day after it was made.",
    ).tag(config=True)

    link_code_interval = Int(
        10,
        min=0,
        help="Seconds a person waits between two link codes: one sooner is refused "
        "(429 `link-code-too-soon`, with Retry-After).",
    ).tag(config=True)

    environment_index_url = Unicode(
        help="The package index challenge environments are built from (pip's --index-url), e.g. "
        "a mirror. Default: pip's own configuration (PyPI unless pip.conf says otherwise)."
    ).tag(config=True)

    environment_find_links = List(
        Unicode(),
        help="Folders (or pages) of wheels looked in before any index when a challenge environment "
        "is built. Default: <venv>/wheelhouse when present (`make` fills it with the kernel side "
        "and the demo's packages, so the demo builds without the internet).",
    ).tag(config=True)

    environment_offline = Bool(
        False,
        help="Build challenge environments from `environment_find_links` and the wheels fetched "
        "before only, never from an index.",
    ).tag(config=True)

    environment_build_timeout = Int(
        1800, min=1, help="Seconds a challenge environment's build may take before it is stopped."
    ).tag(config=True)

    @staticmethod
    def _environment(name: str, fallback: str = "") -> str:
        return os.environ.get(ENVIRONMENT[name]) or fallback

    @default("home")
    def _default_home(self) -> str:
        return self._environment("home") or str(Path(".coop").resolve())

    @default("db_url")
    def _default_db_url(self) -> str:
        return self._environment("db_url") or f"sqlite:///{Path(self.home) / 'coop.db'}"

    @default("scheduler_address")
    def _default_scheduler_address(self) -> str:
        return self._environment("scheduler_address")

    @default("gateway_address")
    def _default_gateway_address(self) -> str:
        return self._environment("gateway_address")

    @default("gateway_auth")
    def _default_gateway_auth(self) -> str:
        return self._environment("gateway_auth", "jupyterhub")

    @default("sandbox")
    def _default_sandbox(self) -> str:
        return self._environment("sandbox", "auto")

    @default("webhook_secrets_file")
    def _default_webhook_secrets_file(self) -> str:
        return self._environment("webhook_secrets_file")

    @default("public_url")
    def _default_public_url(self) -> str:
        port = os.environ.get("COOP_HUB_PORT") or "8000"
        return self._environment("public_url", f"http://127.0.0.1:{port}/services/coop").rstrip("/")

    @default("trusted_instances")
    def _default_trusted_instances(self) -> list[str]:
        return os.environ.get(TRUSTED_INSTANCES, "").replace(",", " ").split()

    @default("environment_find_links")
    def _default_environment_find_links(self) -> list[str]:
        wheelhouse = Path(sys.prefix) / "wheelhouse"
        return [str(wheelhouse)] if wheelhouse.is_dir() else []

    @default("executor")
    def _default_executor(self) -> str:
        if self.scheduler_address:
            return "scheduler"
        return "gateway" if self.gateway_address else "local"

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

    @property
    def environments(self) -> Path:
        """Challenge environments, one folder per hash of their inputs."""
        return self.home_path / "environments"

    def environment(self) -> dict[str, str]:
        """These settings as the ``COOP_*`` variables a child process (``coop serve``) reads."""
        variables = {variable: str(_plain(getattr(self, name))) for name, variable in ENVIRONMENT.items()}
        return {**variables, TRUSTED_INSTANCES: " ".join(self.trusted_instances)}

    def to_dict(self) -> dict[str, Any]:
        """Plain values, to ship to Dask workers (classes as import strings): never the service's
        secrets (workers score notebooks; they have no use for webhook secrets)."""
        values = {
            name: getattr(self, name) for name in self.trait_names(config=True) if name not in SERVICE_ONLY
        }
        return {name: _plain(value) for name, value in values.items()}


def _plain(value: Any) -> Any:
    """A setting's value as text and JSON carry it: a class as its import string."""
    return f"{value.__module__}.{value.__qualname__}" if isinstance(value, type) else value


def load_settings(config_file: Path | None = None, **overrides: Any) -> ScorerSettings:
    """Built-in defaults, then ``COOP_*`` variables (as defaults), then the config file
    (``coop_config.py`` in the working folder unless given), then ``overrides`` (the command
    line; ``None`` means not given)."""
    config = None
    path = config_file or Path("coop_config.py")
    try:
        config = PyFileConfigLoader(path.name, str(path.parent.resolve())).load_config()
    except ConfigFileNotFound:
        if config_file:
            raise
    settings = ScorerSettings(config=config)
    for name, value in overrides.items():
        if value is not None:
            setattr(settings, name, value)
    if settings.scheduler_address and settings.gateway_address:
        raise CoopError(
            "both a Dask scheduler (COOP_SCHEDULER) and a dask-gateway (COOP_GATEWAY) are set: choose one"
        )
    return settings
