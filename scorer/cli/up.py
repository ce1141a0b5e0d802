"""``coop up``: the whole platform on this machine, with JupyterHub in charge.

The hub (``hub_config/jupyterhub_config.py``) starts the proxy, the scorer (``coop serve``) and
the Voila dashboards as its services, and a JupyterLab server per participant who logs in.
``coop up`` waits until the hub and the scorer answer (over TLS when the production hub ends
it itself), prints where to go (the public address in production) and how to log in,
and on Ctrl-C (SIGINT) or SIGTERM stops the hub, which stops everything it started; any
process of the tree still alive after that is ended too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import psutil
import typer

from coop_client.client import CoopClient, CoopClientError
from scorer.cli import demo as demo_command
from scorer.cli.common import console, errors, state
from scorer.config import ScorerSettings
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI
from scorer.profiles import partner

CONFIG = Path(__file__).resolve().parents[2] / "hub_config" / "jupyterhub_config.py"
#: The hub, told to stop everyone's server when it stops (the config keeps them over a restart).
HUB = [
    str(Path(sys.executable).parent / "jupyterhub"),
    "-f",
    str(CONFIG),
    "--JupyterHub.cleanup_servers=True",
]
#: The hub config's ports (the public one is ``--port``). Each has a fixed default below the
#: kernel's ephemeral range (8000, 8081, 8001, 8765, 8766, 8767), so no program that binds port 0
#: is ever given one. Tests and benchmarks run several hubs: they set them all from scorer.ports.
PORT_VARIABLES = (
    "COOP_HUB_PORT",
    "COOP_HUB_API_PORT",
    "COOP_PROXY_API_PORT",
    "COOP_SERVICE_PORT",
    "COOP_DASHBOARDS_PORT",
    "COOP_PARTNER_PORT",
)
#: The line the hub config prints with the demo logins (read back from the hub's log).
LOGINS = "Coopetition demo logins:"
READY_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0


def up(
    ctx: typer.Context,
    demo: Annotated[
        bool, typer.Option(help="Publish and score the demo challenges first (once; see --fresh).")
    ] = False,
    fresh: Annotated[
        bool, typer.Option(help="With --demo: rebuild the demo from scratch (erases it).")
    ] = False,
    source: Annotated[
        Path, typer.Option(help="With --demo: folder of challenges.")
    ] = demo_command.CHALLENGES,
    ip: Annotated[
        str, typer.Option(envvar="COOP_HUB_IP", help="Interface the hub listens on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="COOP_HUB_PORT", help="Port the hub listens on.")] = 8000,
) -> None:
    """Start JupyterHub with the scorer and the dashboards as its services; print the URL and the
    logins; Ctrl-C stops everything. With --demo, the shipped challenges are published and scored
    first (kept between runs: --fresh rebuilds them)."""
    settings = state(ctx).settings
    if demo:
        _demo(ctx, fresh, source)
    home = Path(settings.home).resolve()
    environment = {**os.environ, "COOP_HOME": str(home), "COOP_HUB_IP": ip, "COOP_HUB_PORT": str(port)}
    address = hub_address(environment)
    if not (os.environ.get("COOP_PUBLIC_URL") or "public_url" in settings.config.get("ScorerSettings", {})):
        settings.public_url = f"{address.public}/services/coop"  # the issuer: this hub's scorer
    environment.update({**settings.environment(), "COOP_HOME": str(home)})
    hub_dir = home / "hub"
    hub_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    log_path = hub_dir / "jupyterhub.log"
    start = log_path.stat().st_size if log_path.exists() else 0
    code = _run_hub(environment, address, log_path, start, settings)
    if code is not None:
        errors.print(f"[bold red]error:[/] JupyterHub stopped (exit code {code}); its log: {log_path}")
        errors.print(_tail(log_path, start), highlight=False, markup=False)
        raise typer.Exit(1)
    console.print("stopped: the hub, its proxy, services and every server are gone")


def _demo(ctx: typer.Context, fresh: bool, source: Path) -> None:
    """Build the demo once (as ``coop demo`` does, in the same place) unless asked afresh."""
    current = state(ctx)
    settings = current.settings
    if not ctx.parent or ctx.parent.params.get("home") is None:
        settings.home = str(Path(".coop/demo").resolve())
        settings.db_url = f"sqlite:///{Path(settings.home) / 'coop.db'}"
    if builds_demo(Path(settings.home), fresh=fresh):
        demo_command.demo(ctx, source)
    else:
        console.print(f"reusing the demo in {settings.home} (--fresh rebuilds it)", highlight=False)
    current.close()  # its Dask cluster: the scorer service starts its own


def builds_demo(home: Path, *, fresh: bool) -> bool:
    """Whether ``coop up --demo`` builds the demo in ``home`` (erasing whatever is there): when
    asked afresh (``--fresh``) or when no demo ledger is there yet; else the demo is reused."""
    return fresh or not (home / "coop.db").exists()


@dataclass(frozen=True)
class HubAddress:
    """Where the hub's proxy answers on this machine, and the address people open."""

    local: str  # e.g. https://127.0.0.1:8443: health checks and the challenge list
    public: str  # COOP_PUBLIC_URL in production, else ``local``
    certificate: Path | None = None  # the proxy's, when the hub ends TLS itself

    def verify(self) -> ssl.SSLContext | bool:
        """How to check the hub's certificate at ``local``: its chain must lead to a trusted CA
        or to the configured certificate itself (self-signed); the name is not checked, since
        ``local`` is the loopback address of the hub this command started, which a certificate
        for the public name does not hold."""
        if self.certificate is None:
            return True
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=self.certificate)
        context.check_hostname = False
        return context

    def client(self, timeout: float = 5.0) -> httpx.Client:
        return httpx.Client(timeout=timeout, verify=self.verify())


def hub_address(environment: Mapping[str, str]) -> HubAddress:
    """The hub's address as its config (``hub_config/``) reads the same variables: plain HTTP on
    ``COOP_HUB_IP:COOP_HUB_PORT``, except in production with ``COOP_HUB_TLS=certificate`` (the
    default), where the proxy ends TLS with ``COOP_HUB_SSL_CERT``; in production people open
    ``COOP_PUBLIC_URL``."""
    ip = environment.get("COOP_HUB_IP", "127.0.0.1")
    host = "127.0.0.1" if ip in {"", "0.0.0.0"} else ip
    port = environment.get("COOP_HUB_PORT", "8000")
    if environment.get("COOP_HUB_MODE", "embedded") != "production":
        local = f"http://{host}:{port}"
        return HubAddress(local, local)
    tls = environment.get("COOP_HUB_TLS", "certificate").strip() == "certificate"
    local = f"{'https' if tls else 'http'}://{host}:{port}"
    public = environment.get("COOP_PUBLIC_URL", "").strip().rstrip("/") or local
    certificate = Path(environment.get("COOP_HUB_SSL_CERT", "").strip())
    # Without one the hub stops at once, with a message naming the variable: coop up reports it.
    return HubAddress(local, public, certificate if tls and certificate.is_file() else None)


def _run_hub(
    environment: dict[str, str], address: HubAddress, log_path: Path, start: int, settings: ScorerSettings
) -> int | None:
    """Run the hub until SIGINT or SIGTERM (``None``) or until it exits by itself (its code);
    its log goes to ``log_path`` (this run's part from offset ``start``)."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with open(log_path, "ab") as log:
            hub = subprocess.Popen(
                HUB,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the terminal's Ctrl-C reaches us only: we stop the hub in order
            )
        tree = ProcessTree(hub.pid)
        try:
            if _wait_ready(hub, address, stop, tree):
                _announce(address, log_path, start)
                _carry_to_partner(settings, address, stop)
                console.print(f"logs: {log_path}\nCtrl-C stops everything.", highlight=False)
            while not stop.is_set() and hub.poll() is None:
                tree.refresh()
                stop.wait(1.0)
        finally:
            code = tree.stop(hub)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return None if stop.is_set() else code


class ProcessTree:
    """The hub and every process it started (servers start in sessions of their own, so the
    tree is remembered while it grows, not found at the end)."""

    def __init__(self, root: int) -> None:
        self.root = psutil.Process(root)
        self.seen: dict[int, psutil.Process] = {}

    def refresh(self) -> None:
        try:
            for child in self.root.children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass

    def stop(self, hub: subprocess.Popen[bytes]) -> int:
        """SIGTERM to the hub (it stops its services, servers and proxy), then end stragglers."""
        self.refresh()
        if hub.poll() is None:
            hub.send_signal(signal.SIGTERM)
            try:
                hub.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                hub.kill()
                hub.wait()
        end_processes([p for p in self.seen.values() if p.is_running()])
        return hub.returncode


def end_processes(processes: list[psutil.Process], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL for whatever still runs after ``grace`` seconds."""
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()
    _gone, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


def hub_answers(client: httpx.Client, url: str) -> bool:
    """Whether the hub at ``url`` and the scorer service behind it both pass their health checks."""
    return _answers(client, f"{url}/hub/health") and _answers(client, f"{url}/services/coop/api/health")


def _wait_ready(
    hub: subprocess.Popen[bytes], address: HubAddress, stop: threading.Event, tree: ProcessTree
) -> bool:
    """Until the hub and the scorer service answer; ``False`` when stopped or the hub exited."""
    console.print(f"starting JupyterHub at {address.local}/ …", highlight=False)
    deadline = time.monotonic() + READY_TIMEOUT
    with address.client() as client:
        while not stop.is_set() and hub.poll() is None and time.monotonic() < deadline:
            tree.refresh()
            if hub_answers(client, address.local):
                return True
            stop.wait(0.5)
    if not stop.is_set() and hub.poll() is None:
        errors.print(f"[yellow]warning:[/] the hub did not answer within {READY_TIMEOUT:.0f} s")
    return False


def _announce(address: HubAddress, log_path: Path, start: int) -> None:
    url = address.public
    logins = next((line for line in _lines(log_path, start) if line.startswith(LOGINS)), "")
    try:
        transport = httpx.HTTPTransport(verify=address.verify())
        with CoopClient(f"{address.local}/services/coop/", transport=transport) as client:
            challenges = [client.challenge(c.id) for c in client.challenges()]
    except CoopClientError:
        challenges = []
    console.rule("[bold]Coopetition is up")
    console.print(f"open {url}/", highlight=False)
    if logins:
        console.print("log in as " + logins.removeprefix(LOGINS).strip(), highlight=False)
    for challenge in challenges:
        console.print(
            f"Easy start {challenge.id}: {url}/hub/user-redirect/coop/start/{challenge.id}", highlight=False
        )
    console.print(f"dashboards (no login): {url}/services/dashboards/", highlight=False)
    pages = f"{url}/services/dashboards/voila/render"
    for challenge in challenges:
        console.print(
            f"  {challenge.id}: {pages}/challenge.ipynb?id={challenge.id} · rewards, graph: "
            f"{pages}/rewards.ipynb?id={challenge.id}, {pages}/graph.ipynb?id={challenge.id}",
            highlight=False,
            soft_wrap=True,
        )
    people_pages = f"{pages}/people.ipynb · a profile: {pages}/profile.ipynb?id=<name>"
    console.print(f"  people: {people_pages}", highlight=False, soft_wrap=True)
    console.print(f"scorer API: {url}/services/coop/docs", highlight=False)
    for challenge in challenges:
        api = f"{url}/services/coop/api/challenges/{challenge.id}"
        console.print(f"rewards of {challenge.id}: {api}/rewards", highlight=False)
        for phase in challenge.phases:
            where = f"{api}/phases/{phase.id}"
            console.print(f"  {phase.id}: credit {where}/credit · graph {where}/graph", highlight=False)
    people = f"{url}/services/coop/api/people"
    console.print(
        f"people search: {people}?skill=clustering=2&skill=numpy · a profile: {people}/<name>",
        highlight=False,
    )


def _carry_to_partner(settings: ScorerSettings, address: HubAddress, stop: threading.Event) -> None:
    """With the demo's partner instance: a demo person's credentials carried there (once), and
    where to see them."""
    home = Path(settings.home).resolve()
    if not partner.folder(home).is_dir():
        return
    there = partner.settings(home, address.local, settings.public_url)
    deadline = time.monotonic() + READY_TIMEOUT
    with address.client() as client:
        while not _answers(client, f"{there.public_url}/api/health"):
            if stop.is_set() or time.monotonic() > deadline:
                errors.print(f"[yellow]warning:[/] the partner did not answer at {there.public_url}/")
                return
            stop.wait(0.5)
    issuer, receiver = CoopAPI(settings, migrate=False), CoopAPI(there, migrate=False)
    try:
        imported = partner.carry_credentials(issuer, receiver)
    except CoopError as exc:
        errors.print(f"[yellow]warning:[/] credentials not carried to the partner: {exc.user_message}")
        return
    finally:
        issuer.close()
        receiver.close()
    lines = [
        f"partner instance (its own ledger and key): {there.public_url}/api/",
        f"  trusts credentials issued by {settings.public_url}",
        f"  {partner.PERSON}'s profile there, {len(imported)} credential(s) imported: "
        f"{there.public_url}/api/people/{partner.PERSON}",
    ]
    console.print("\n".join(lines), highlight=False, soft_wrap=True)


def _answers(client: httpx.Client, url: str) -> bool:
    try:
        return client.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _lines(path: Path, start: int) -> list[str]:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read().decode("utf-8", "replace").splitlines()


def _tail(path: Path, start: int, count: int = 30) -> str:
    return "\n".join(_lines(path, start)[-count:])
