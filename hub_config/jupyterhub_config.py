"""The embedded Coopetition hub: what ``coop up`` (and so ``make demo``) starts.

JupyterHub on 127.0.0.1:8000 behind configurable-http-proxy (from the project's
``node_modules``), its SQLite database and cookie secret in ``<COOP_HOME>/hub/``, one local
JupyterLab server per participant (home ``<COOP_HOME>/hub/users/<name>``), a shared demo
password for the accounts alice, bob, carol (participants) and olga (organiser), and three
hub-managed services: ``coop`` (the scorer, ``coop serve``) at ``/services/coop/``,
``dashboards`` (Voila, public) at ``/services/dashboards/`` and the idle culler; after
``coop demo``, also the demo's second instance ``partner`` at ``/services/partner/``.

Every setting below can be changed by environment, so that tests run it on ports of their own
(``scorer.ports``):
``COOP_HOME`` / ``COOP_DB_URL`` (the scorer's state, as for every ``coop`` command),
``COOP_HUB_IP`` (127.0.0.1), ``COOP_HUB_PORT`` (8000), ``COOP_HUB_API_PORT`` (8081),
``COOP_PROXY_API_PORT`` (8001), ``COOP_SERVICE_PORT`` (8765), ``COOP_DASHBOARDS_PORT`` (8766),
``COOP_PARTNER_PORT`` (8767),
``COOP_IDLE_TIMEOUT`` (seconds, 3600), ``COOP_DEMO_PASSWORD`` (default: generated once into
``<COOP_HOME>/hub/demo-password``), ``COOP_DEMO_USERS`` (more participant accounts, comma-separated,
with the demo password: the load benchmark's). ``COOP_HUB_MODE=production`` applies ``production.py``
on top (real authentication, PostgreSQL, TLS; see README.md).

Run directly with ``jupyterhub -f hub_config/jupyterhub_config.py``.
"""

import importlib.util
import json
import os
import re
import secrets
import sys
from pathlib import Path

from jupyterhub.services.service import Service
from jupyterhub.spawner import LocalProcessSpawner, Spawner

from scorer.challenge.spec import SLUG
from scorer.config import load_settings
from scorer.environments.kernelspecs import jupyter_path
from scorer.ports import Ports, hold
from scorer.profiles import partner
from scorer.service.auth import ORGANISE, SCOPES, SUBMIT

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
BIN = Path(sys.executable).parent  # the environment JupyterHub runs in: coop, voila, singleuser

PARTICIPANTS = ["alice", "bob", "carol"]
ORGANISERS = ["olga"]

#: What a kernel's $JUPYTERHUB_API_TOKEN may do: what the server itself needs (its own OAuth,
#: activity), submit as its user, and organise only when its user is an organiser (the hub
#: grants a server token the subset of these scopes its owner holds).
SERVER_TOKEN_SCOPES = [
    "access:servers!server",
    "users:activity!user",
    f"{SUBMIT}!user",
    ORGANISE,
]
PARTICIPANT_SCOPES = ["access:services!service=coop", f"{SUBMIT}!user"]
ORGANISER_SCOPES = [*PARTICIPANT_SCOPES, ORGANISE]
#: jupyterhub-idle-culler's documented needs (it never deletes users here).
CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]


def number(variable: str, default: int) -> int:
    """A positive whole number from the environment (a port, seconds)."""
    value = os.environ.get(variable, str(default))
    if not value.isdigit() or int(value) == 0:
        raise SystemExit(f"{variable}={value!r}: expected a positive whole number")
    return int(value)


def demo_password(hub_dir: Path) -> str:
    """``$COOP_DEMO_PASSWORD``, else the one kept in ``<hub_dir>/demo-password`` (made once, 0600)."""
    if os.environ.get("COOP_DEMO_PASSWORD"):
        return os.environ["COOP_DEMO_PASSWORD"]
    path = hub_dir / "demo-password"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(9) + "\n")
    return path.read_text().strip()


def extra_participants() -> list[str]:
    """``$COOP_DEMO_USERS``: more participant accounts (comma-separated names) that log in with the
    demo password, e.g. the simulated people of ``bench/hub_load.py``."""
    names = [name.strip() for name in os.environ.get("COOP_DEMO_USERS", "").split(",") if name.strip()]
    if bad := [name for name in names if not re.fullmatch(SLUG, name)]:
        raise SystemExit(f"COOP_DEMO_USERS: {', '.join(map(repr, bad))}: not a user name (a-z, 0-9, -, _)")
    return names


MODE = os.environ.get("COOP_HUB_MODE", "embedded")
if MODE not in {"embedded", "production"}:
    raise SystemExit(f"COOP_HUB_MODE={MODE!r}: use 'embedded' or 'production'")

settings = load_settings()
EXTRA_PARTICIPANTS = extra_participants()
HOME = Path(settings.home).resolve()
HUB_DIR = HOME / "hub"
HUB_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

IP = os.environ.get("COOP_HUB_IP", "127.0.0.1")
LOCAL = "127.0.0.1" if IP in {"", "0.0.0.0"} else IP  # how processes on this machine reach the hub
HUB_PORT = number("COOP_HUB_PORT", 8000)
SERVICE_PORT = number("COOP_SERVICE_PORT", 8765)
DASHBOARDS_PORT = number("COOP_DASHBOARDS_PORT", 8766)
PARTNER_PORT = number("COOP_PARTNER_PORT", 8767)
#: The dashboards: kernels kept waiting for the leaderboards page (about 100 MiB each; every other
#: page keeps one), and seconds before an idle kernel whose page left without a word is culled.
BOARD_POOL = number("COOP_DASHBOARDS_BOARD_POOL", 3)
DASHBOARDS_CULL = number("COOP_DASHBOARDS_CULL", 300)
#: The lab extensions the dashboards' pages load (Voila's widgets manager needs its own).
DASHBOARD_EXTENSIONS = (
    "@jupyter-widgets/jupyterlab-manager",
    "@voila-dashboards/widgets-manager8",
    "anywidget",
)
#: The scorer as single-user servers, kernels and dashboards reach it: through the proxy.
SERVICE_URL = f"http://{LOCAL}:{HUB_PORT}/services/coop/"

# --- the hub and its proxy -------------------------------------------------------------------
c.JupyterHub.bind_url = f"http://{IP}:{HUB_PORT}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = number("COOP_HUB_API_PORT", 8081)
c.JupyterHub.db_url = f"sqlite:///{HUB_DIR / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(HUB_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = False  # a hub restart keeps everyone's server (coop up overrides)

PROXY = PROJECT / "node_modules" / ".bin" / "configurable-http-proxy"
if not PROXY.exists():
    raise SystemExit(f"configurable-http-proxy is not installed at {PROXY}: run `npm install` in {PROJECT}")
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{number('COOP_PROXY_API_PORT', 8001)}"
c.ConfigurableHTTPProxy.pid_file = str(HUB_DIR / "proxy.pid")
# The instance's public keys at the host's root, where verifiers of its credentials look: the
# proxy sends /.well-known/ to the scorer, which serves /.well-known/jwks.json outside its prefix.
c.ConfigurableHTTPProxy.extra_routes = {"/.well-known/": f"http://127.0.0.1:{SERVICE_PORT}"}

# --- who logs in (production.py replaces this) -----------------------------------------------
if MODE == "embedded":
    PASSWORD = demo_password(HUB_DIR)
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = PASSWORD
    c.Authenticator.allowed_users = set(PARTICIPANTS + ORGANISERS + EXTRA_PARTICIPANTS)
    print(
        f"Coopetition demo logins: {', '.join(PARTICIPANTS)} (participants), {', '.join(ORGANISERS)} "
        f"(organiser); password: {PASSWORD}",
        file=sys.stderr,
    )

# --- roles and scopes (the hub declares the custom scopes; the scorer enforces them) ---------
c.JupyterHub.custom_scopes = {scope: {"description": text} for scope, text in SCOPES.items()}
c.JupyterHub.load_groups = {
    "participants": {"users": PARTICIPANTS + EXTRA_PARTICIPANTS},
    "organisers": {"users": ORGANISERS},
}
c.JupyterHub.load_roles = [
    {
        "name": "coop-participant",
        "description": "Reach the scorer and submit as yourself.",
        "scopes": PARTICIPANT_SCOPES,
        "groups": ["participants"],
    },
    {
        "name": "coop-organiser",
        "description": "Reach the scorer, submit, and administer challenges.",
        "scopes": ORGANISER_SCOPES,
        "groups": ["organisers"],
    },
    {"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]},
]

# --- single-user servers ---------------------------------------------------------------------
c.JupyterHub.spawner_class = "simple"  # no isolation between users: the embedded demo only
c.SimpleLocalProcessSpawner.home_dir_template = str(HUB_DIR / "users" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/coop/"  # the start page (coop_widgets.start_page); JupyterLab is a click away
# No news: the servers fetch no feed (they may have no internet), and JupyterLab's
# announcements plugin, which asks every new user "get notified about official Jupyter news?"
# over their first page, is disabled in the page config of hub_config/jupyter/labconfig/ (read
# from $JUPYTER_CONFIG_PATH, so it needs no install step; the z2jh values mount the same file).
c.Spawner.args = ["--ServerApp.jpserver_extensions=coop_widgets.server=True", "--LabApp.news_url=None"]
if os.geteuid() == 0:  # e.g. a container: the servers run as the hub's user, and Jupyter asks first
    c.Spawner.args.append("--allow-root")
c.Spawner.environment = {
    "COOP_SERVICE_URL": SERVICE_URL,
    "JUPYTER_CONFIG_PATH": str(HERE / "jupyter"),
    # A kernel per challenge environment ("Python (higgs)"), written when it is prepared.
    "JUPYTER_PATH": str(jupyter_path(settings)),
    "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "/usr/bin:/bin")]),
}
#: Ports held for local servers, from their spawn until they stop.
SERVER_PORTS: dict[Spawner, Ports] = {}


def hold_server_port(spawner: Spawner) -> None:
    """A local server's port from scorer.ports, not JupyterHub's own choice (a port 0 bound and
    released, which a Dask worker or a kernel may take before the server binds it)."""
    release_server_port(spawner)
    if isinstance(spawner, LocalProcessSpawner):
        SERVER_PORTS[spawner] = held = hold()
        spawner.port = held.numbers[0]


def release_server_port(spawner: Spawner) -> None:
    if held := SERVER_PORTS.pop(spawner, None):
        held.release()


c.Spawner.pre_spawn_hook = hold_server_port
c.Spawner.post_stop_hook = release_server_port
c.Spawner.server_token_scopes = SERVER_TOKEN_SCOPES
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90

# --- services --------------------------------------------------------------------------------
#: Seconds the hub waits for a service to answer when it starts: JupyterHub 6 stops if one does
#: not within its default 30 s, too short on a loaded machine (Voila starts a kernel manager).
#: JupyterHub 5.5 has no such field and stops after about 10 s, hence `coop serve` answers first
#: and prepares its git repositories in the background.
SERVICE_WAIT = {"timeout": 180} if "timeout" in Service.class_traits(input=True) else {}
settings.public_url = os.environ.get("COOP_PUBLIC_URL") or SERVICE_URL.rstrip("/")  # its issuer
SCORER_ENV = {**settings.environment(), "COOP_HOME": str(HOME)}
c.JupyterHub.services = [
    {
        "name": "coop",
        "url": f"http://127.0.0.1:{SERVICE_PORT}",
        "command": [
            str(BIN / "coop"),
            "serve",
            "--host=127.0.0.1",
            f"--port={SERVICE_PORT}",
            "--prefix=/services/coop/",
        ],
        "environment": {**SCORER_ENV, "HOME": os.environ.get("HOME", str(HOME))},
        "oauth_client_allowed_scopes": [SUBMIT, ORGANISE],
        "display": False,
        **SERVICE_WAIT,
    },
    {
        "name": "dashboards",
        "url": f"http://127.0.0.1:{DASHBOARDS_PORT}",
        "command": [
            str(BIN / "voila"),
            str(PROJECT / "voila_dashboards"),
            "--no-browser",
            "--Voila.ip=127.0.0.1",
            f"--port={DASHBOARDS_PORT}",
            "--Voila.base_url=/services/dashboards/",
            # Viewers wait for no kernel start: kernels run each page's notebook ahead and wait
            # for the request (the pages read their query string as Voila documents for this),
            # one per page and more for the leaderboards, the page most viewed. Voila's safe
            # defaults stay: no execute requests from the browser, sources stripped, no
            # tracebacks shown.
            "--preheat_kernel=True",
            "--pool_size=1",
            "--VoilaKernelManager.kernel_pools_config="
            + json.dumps({"default": {"pool_size": 1}, "challenge.ipynb": {"pool_size": BOARD_POOL}}),
            # A page shuts its kernel down when its viewer leaves (the coop template sets the
            # _xsrf cookie that shutdown needs); a kernel whose page vanished without a word
            # (a closed laptop, a crash) is culled once idle and disconnected. The waiting
            # kernels are never culled (Voila spares its pools).
            f"--MappingKernelManager.cull_idle_timeout={DASHBOARDS_CULL}",
            f"--MappingKernelManager.cull_interval={max(1, DASHBOARDS_CULL // 4)}",
            # A busy machine (twenty viewers' kernels starting at once) delays a kernel's output
            # past the cell's end by more than nbclient's 4 s, and Voila then drops it: the page
            # showed its header and nothing else. Wait for it; a dead kernel is noticed anyway.
            "--VoilaExecutor.iopub_timeout=120",
            # Only the lab extensions the pages use (widgets; the graph's figure is an anywidget
            # loading plotly.js's basic bundle from the coop template's static files): no page
            # loads plotly's 4.8 MB renderer extension, git or nbdime.
            *(f"--VoilaConfiguration.extension_allowlist={name}" for name in DASHBOARD_EXTENSIONS),
            # Voila's lab template with Font Awesome from the hub instead of a CDN (found through
            # JUPYTER_PATH in hub_config/voila/templates/coop/): viewers ask no other host.
            "--template=coop",
        ],
        "environment": {
            "COOP_SERVICE_URL": SERVICE_URL,
            "HOME": os.environ.get("HOME", str(HOME)),
            "JUPYTER_PATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("JUPYTER_PATH")])),
        },
        **SERVICE_WAIT,
    },
    {
        "name": "idle-culler",
        "command": [
            sys.executable,
            "-m",
            "jupyterhub_idle_culler",
            f"--timeout={number('COOP_IDLE_TIMEOUT', 3600)}",
        ],
    },
]

# The demo's second instance (`coop demo` makes its folder): profiles carried between two
# Coopetitions, each with its own ledger and key (scorer/profiles/partner.py).
if MODE == "embedded" and partner.folder(HOME).is_dir():
    PARTNER = partner.settings(HOME, f"http://{LOCAL}:{HUB_PORT}", settings.public_url)
    c.JupyterHub.services.append(
        {
            "name": partner.NAME,
            "url": f"http://127.0.0.1:{PARTNER_PORT}",
            "command": [
                str(BIN / "coop"),
                "serve",
                "--host=127.0.0.1",
                f"--port={PARTNER_PORT}",
                f"--prefix=/services/{partner.NAME}/",
            ],
            "environment": {**PARTNER.environment(), "HOME": os.environ.get("HOME", str(HOME))},
            "oauth_client_allowed_scopes": [SUBMIT],
            "display": False,
            **SERVICE_WAIT,
        }
    )
    for role in c.JupyterHub.load_roles:
        if role["name"] in {"coop-participant", "coop-organiser"}:
            role["scopes"].append(f"access:services!service={partner.NAME}")

if MODE == "production":
    spec = importlib.util.spec_from_file_location("coop_hub_production", HERE / "production.py")
    production = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(production)
    production.apply(c)
