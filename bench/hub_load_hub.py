"""The hub ``bench.hub_load`` loads: ``coop up``'s JupyterHub on loopback ports held for it
(``scorer.ports``), in a fresh ``COOP_HOME``, with one small challenge published (``coop
challenge new``'s template) and extra participant accounts (``COOP_DEMO_USERS``, see
``hub_config/jupyterhub_config.py``).
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.cli.up import HUB, PORT_VARIABLES, ProcessTree, hub_answers
from scorer.config import load_settings
from scorer.facade import CoopAPI
from scorer.ports import Ports, hold

START_TIMEOUT = 300.0
SEED = 2026


class HubError(RuntimeError):
    """The hub did not start; the message ends with the tail of its log."""


def publish_challenge(home: Path) -> str:
    """Scaffold the template challenge, publish it where the scorer serves it
    (``<home>/git/<id>.git``) and prepare its data; its id."""
    folder = scaffold("Load curve", home / "organiser")
    challenge_id = load_spec(folder).id
    repository = home / "git" / f"{challenge_id}.git"
    publish(folder, repository, message="Publish", author="Organiser", email="organiser@example.org")
    api = CoopAPI(load_settings(home=str(home)))
    try:
        api.prepare(str(repository), seed=SEED)
    finally:
        api.close()
    return challenge_id


@dataclass
class EmbeddedHub:
    """``hub_config/jupyterhub_config.py`` run as ``coop up`` runs it (servers stop with the hub)."""

    home: Path
    users: list[str]
    password: str
    env: dict[str, str] = field(init=False)
    ports: Ports = field(init=False)  # held until stop()
    process: subprocess.Popen[bytes] | None = None
    tree: ProcessTree | None = None

    def __post_init__(self) -> None:
        scrubbed = {k: v for k, v in os.environ.items() if not k.startswith(("COOP_", "JUPYTERHUB_"))}
        self.ports = hold(len(PORT_VARIABLES))
        self.env = {
            **scrubbed,
            **{name: str(port) for name, port in zip(PORT_VARIABLES, self.ports.numbers, strict=True)},
            "COOP_HOME": str(self.home),
            "COOP_DEMO_PASSWORD": self.password,
            "COOP_DEMO_USERS": ",".join(self.users),
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['COOP_HUB_PORT']}"

    @property
    def service_url(self) -> str:
        """The scorer through the hub's proxy, as servers reach it."""
        return f"{self.url}/services/coop/"

    @property
    def log(self) -> Path:
        return self.home / "hub" / "jupyterhub.log"

    def start(self) -> None:
        """Start the hub and wait until it and the scorer service answer."""
        self.log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                HUB, env=self.env, cwd=self.home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.tree = ProcessTree(self.process.pid)
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise HubError(f"the hub exited with {self.process.returncode}:\n{self.tail()}")
                if hub_answers(client, self.url):
                    return
                time.sleep(0.5)
        raise HubError(f"the hub did not answer within {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def remember_processes(self) -> None:
        """Note the processes the hub started so far (servers, kernels, terminals, workers), so
        that :meth:`stop` ends them even if the hub no longer knows them."""
        if self.tree is not None:
            self.tree.refresh()

    def memory(self) -> int:
        """Bytes resident in the hub and every process of its tree now (RSS summed: shared pages
        count once per process, so this is an upper bound)."""
        if self.tree is None:
            return 0
        total = 0
        for process in [self.tree.root, *self.tree.seen.values()]:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                continue  # ended meanwhile
        return total

    def stop(self) -> None:
        """SIGTERM to the hub (it stops every server, its services and the proxy), then end
        whatever of its tree still runs."""
        if self.process is not None and self.tree is not None:
            self.tree.stop(self.process)
        self.ports.release()

    def tail(self, count: int = 30) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-count:])
