"""A real JupyterHub for tests: ``hub_config/jupyterhub_config.py`` as shipped, on loopback
ports held for it (``scorer.ports``), with the real configurable-http-proxy, the scorer and
the dashboards as its services, and real JupyterLab servers.

``hub`` (one per module: a hub takes ~15 s to start) serves the shipped demo challenges
(``challenge_notebooks/``, published and prepared, nothing scored) from a temporary
``COOP_HOME``. It gives the URL, the demo password, :meth:`RunningHub.login` (a
:class:`HubSession`: the login form with its XSRF cookie, then the hub's API as that user),
the environment of a user's server as the hub made it (:meth:`RunningHub.server_environment`)
and :meth:`RunningHub.restart` (servers keep running, as the config says). Teardown stops the
hub and every process that belongs to it (servers, kernels, services, proxy).
"""

from __future__ import annotations

import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from scorer.challenge import demo
from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.cli.up import PORT_VARIABLES, end_processes, hub_answers
from scorer.config import load_settings
from scorer.facade import CoopAPI
from scorer.ports import Ports, hold

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "hub_config" / "jupyterhub_config.py"
JUPYTERHUB = str(Path(sys.executable).parent / "jupyterhub")
COOP = str(Path(sys.executable).parent / "coop")
PARTICIPANTS = ("alice", "bob", "carol")
ORGANISER = "olga"
START_TIMEOUT = 180.0
REDIRECTS = (301, 302, 303, 307, 308)


def hold_hub_ports() -> Ports:
    """Ports for one hub (see :data:`scorer.cli.up.PORT_VARIABLES`), held until released."""
    return hold(len(PORT_VARIABLES))


def hub_environment(home: Path, password: str, ports: Ports) -> dict[str, str]:
    """What the hub config reads: the scorer's home, the held ``ports``, the demo password."""
    numbers = {name: str(port) for name, port in zip(PORT_VARIABLES, ports.numbers, strict=True)}
    scrubbed = {k: v for k, v in os.environ.items() if not k.startswith(("COOP_", "JUPYTERHUB_"))}
    return {**scrubbed, **numbers, "COOP_HOME": str(home), "COOP_DEMO_PASSWORD": password}


def publish_demo(home: Path) -> list[str]:
    """Publish and prepare the shipped challenges into ``home`` as ``coop demo`` does, without
    scoring anything (the scorer service would otherwise spend the tests' CPU on it)."""
    api = CoopAPI(load_settings(home=str(home)))
    ids = []
    try:
        for folder in demo.challenge_folders(ROOT / "challenge_notebooks"):
            challenge = load_spec(folder)
            repository = home / "git" / f"{challenge.id}.git"
            publish(folder, repository, message="Publish", author="Organiser", email="organiser@example.org")
            api.prepare(str(repository), seed=demo.DEMO_SEED)
            ids.append(challenge.id)
    finally:
        api.close()
    return ids


def processes_of(api_url: str, home: Path) -> list[psutil.Process]:
    """Every process of the hub at ``api_url`` with state in ``home``: the hub itself, its proxy
    and services (which inherit ``COOP_HOME``), servers and kernels (given ``JUPYTERHUB_API_URL``)."""
    found = []
    for process in psutil.process_iter(["environ"]):
        environ = process.info["environ"] or {}
        if environ.get("COOP_HOME") == str(home) or environ.get("JUPYTERHUB_API_URL", "").startswith(api_url):
            found.append(process)
    return found


class HubSession:
    """One user logged in through the hub's login form; ``api`` calls carry the XSRF token."""

    def __init__(self, url: str, user: str, password: str) -> None:
        self.user = user
        self.http = httpx.Client(base_url=url, follow_redirects=False, timeout=60.0)
        self.http.get("/hub/login")
        self.login_response = self.http.post(
            "/hub/login", data={"username": user, "password": password, "_xsrf": self.xsrf}
        )

    @property
    def logged_in(self) -> bool:
        return self.login_response.status_code == 302

    @property
    def xsrf(self) -> str:
        return self.http.cookies.get("_xsrf", path="/hub/") or ""

    def api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return self.http.request(method, f"/hub/api/{path}", headers={"X-XSRFToken": self.xsrf}, **kwargs)

    def follow(self, url: str, limit: int = 15) -> tuple[httpx.Response, list[str]]:
        """GET ``url`` and its redirects (spawn, OAuth with the user's server) up to the first
        JupyterLab page, which is not loaded; the last response and every location seen."""
        seen = []
        response = self.http.get(url)
        while response.status_code in REDIRECTS and len(seen) < limit:
            url = response.headers["location"]
            seen.append(url)
            if "/lab/tree/" in url:
                break
            response = self.http.get(url)
        return response, seen

    def start_server(self, timeout: float = START_TIMEOUT) -> dict:
        """Start this user's server (or find it running) and wait until the hub says it is ready."""
        started = self.api("POST", f"users/{self.user}/server")
        assert started.status_code in {201, 202, 400}, started.text  # 400: already running
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.api("GET", f"users/{self.user}").json()["servers"].get("", {})
            if server.get("ready"):
                return server
            time.sleep(0.5)
        raise AssertionError(f"{self.user}'s server did not become ready in {timeout:.0f} s")

    def stop_server(self, timeout: float = 60.0) -> None:
        stopped = self.api("DELETE", f"users/{self.user}/server")
        assert stopped.status_code in {202, 204}, stopped.text
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.api("GET", f"users/{self.user}").json()["servers"]:
                return
            time.sleep(0.5)
        raise AssertionError(f"{self.user}'s server did not stop in {timeout:.0f} s")

    def close(self) -> None:
        self.http.close()


@dataclass
class RunningHub:
    home: Path  # COOP_HOME: the ledger, served repositories, and hub/ (database, users' homes)
    ports: Ports  # held until close()
    env: dict[str, str]
    challenges: list[str]
    process: subprocess.Popen | None = None
    sessions: list[HubSession] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['COOP_HUB_PORT']}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['COOP_HUB_API_PORT']}/hub/api"

    @property
    def service_url(self) -> str:
        """``$COOP_SERVICE_URL`` as servers get it: the scorer through the proxy."""
        return f"{self.url}/services/coop/"

    @property
    def password(self) -> str:
        return self.env["COOP_DEMO_PASSWORD"]

    @property
    def log(self) -> Path:
        return self.home / "hub-test.log"

    def user_home(self, user: str) -> Path:
        return self.home / "hub" / "users" / user

    def served(self, challenge_id: str) -> Path:
        return self.home / "git" / f"{challenge_id}.git"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [JUPYTERHUB, "-f", str(CONFIG)],
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"the hub exited:\n{self.log_tail()}"
                if hub_answers(client, self.url):
                    return
                time.sleep(0.3)
        raise AssertionError(f"the hub did not start in {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def stop_hub(self) -> None:
        """Stop the hub process as an operator would (SIGTERM); servers keep running."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop_hub()
        self.start()

    def login(self, user: str) -> HubSession:
        session = HubSession(self.url, user, self.password)
        self.sessions.append(session)
        return session

    def server_process(self, user: str) -> psutil.Process:
        for process in processes_of(self.api_url, self.home):
            try:
                if "jupyterhub-singleuser" in " ".join(process.cmdline()) and (
                    process.environ().get("JUPYTERHUB_USER") == user
                ):
                    return process
            except psutil.NoSuchProcess:
                continue
        raise AssertionError(f"no server process for {user}")

    def server_environment(self, user: str) -> dict[str, str]:
        """The environment the hub gave ``user``'s server (and so its kernels and terminals)."""
        return self.server_process(user).environ()

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        for session in self.sessions:
            session.close()
        if self.process is not None and self.process.poll() is None:
            self.stop_hub()
        end_processes([p for p in processes_of(self.api_url, self.home) if p.pid != os.getpid()])
        self.ports.release()

    @classmethod
    def on_held_ports(cls, home: Path, challenges: list[str]) -> RunningHub:
        """A hub (not started) on ports held for it, with a fresh demo password."""
        ports = hold_hub_ports()
        return cls(home, ports, hub_environment(home, secrets.token_urlsafe(12), ports), challenges)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """The embedded hub with the demo challenges, for this module's tests."""
    home = tmp_path_factory.mktemp("hub")
    running = RunningHub.on_held_ports(home, publish_demo(home))
    try:
        running.start()
        yield running
    finally:
        running.close()


def coop_up(home: Path, port: str, env: dict[str, str], *options: str) -> subprocess.Popen[str]:
    """``coop up`` in a session of its own (Ctrl-C goes to its group), its output piped."""
    return subprocess.Popen(
        [COOP, "--home", str(home), "up", "--port", port, *options],
        env={**env, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def printed_lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The lines ``process`` prints, as they come (read in a thread of their own)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put("")  # the end: every line read holds at least its newline

    threading.Thread(target=pump, daemon=True).start()
    return lines


def leave_nothing_running(up: subprocess.Popen[str], api_url: str, home: Path) -> None:
    """Whatever a test saw, ``coop up`` and every process its hub started are gone after it."""
    if up.poll() is None:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(120)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
    end_processes(processes_of(api_url, home))


def read_until(lines: queue.Queue[str], marker: str, timeout: float) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            continue
        if not line:
            raise AssertionError(f"the process ended before printing {marker!r}; got:\n{''.join(seen)}")
        seen.append(line)
        if marker in line:
            return seen
    raise AssertionError(f"{marker!r} never printed; got:\n{''.join(seen)}")
