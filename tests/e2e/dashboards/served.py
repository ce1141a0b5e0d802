"""Voila started as the hub starts the dashboards service, for the browser tests and the render
benchmark: :func:`dashboards_service` reads the service from ``hub_config/jupyterhub_config.py``
(its command and environment, the config loaded under the given environment as the hub would),
:class:`Voila` runs that command against any scorer service and counts its kernels.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright
from traitlets.config import PyFileConfigLoader

from scorer.cli.up import end_processes
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.hub.conftest import CONFIG, ROOT, hold_hub_ports, hub_environment
from tests.service.conftest import PREFIX, running

#: Options that only preheated kernels use: the cold Voila goes without them.
PREHEAT_OPTIONS = ("--preheat_kernel=", "--pool_size=", "--VoilaKernelManager.")
#: Seconds: Voila's start and the refill of its pools on a busy machine (a bound, not a judgement).
READY_TIMEOUT_S = 300.0
MIB = 1024 * 1024


def option(command: list[str], name: str) -> str:
    """The value of ``--name=value`` in ``command``."""
    return next(arg.split("=", 1)[1] for arg in command if arg.startswith(f"--{name}="))


def dashboards_service(environ: dict[str, str]) -> dict[str, Any]:
    """The hub config's ``dashboards`` service, the config loaded under ``environ`` as the hub would."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # the demo logins it prints
            config = PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return next(s for s in config.JupyterHub.services if s["name"] == "dashboards")


class Voila:
    """Voila started as the hub starts it, serving the dashboards from ``service_url``'s ledger;
    ``preheated=False`` drops the preheating options (a kernel starts at each request)."""

    def __init__(
        self,
        service: dict[str, Any],
        environ: dict[str, str],
        service_url: str,
        *,
        preheated: bool,
        log: Path,
    ) -> None:
        command = list(service["command"])
        self.port = int(option(command, "port"))
        self.base = f"http://127.0.0.1:{self.port}{option(command, 'Voila.base_url')}"
        self.pooled = 0
        if preheated:
            pools = json.loads(option(command, "VoilaKernelManager.kernel_pools_config"))
            default = pools["default"]["pool_size"]
            notebooks = (ROOT / "voila_dashboards").glob("*.ipynb")
            self.pooled = sum(
                pools.get(notebook.name, {}).get("pool_size", default) for notebook in notebooks
            )
        else:
            command = [arg for arg in command if not arg.startswith(PREHEAT_OPTIONS)]
        env = {**environ, **service["environment"], "COOP_SERVICE_URL": service_url}
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        self.server = psutil.Process(self.process.pid)
        self.log = log

    def url(self, page: str, **params: str) -> str:
        return f"{self.base}voila/render/{page}.ipynb?" + "&".join(f"{k}={v}" for k, v in params.items())

    def kernels(self) -> list[psutil.Process]:
        found = []
        for child in self.server.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                if any("ipykernel" in part for part in child.cmdline()):
                    found.append(child)
        return found

    def waiting(self) -> int:
        """Kernels that ran their notebook ahead and wait for a request (connected to ``voila/query``)."""
        count = 0
        for kernel in self.kernels():
            with contextlib.suppress(psutil.NoSuchProcess):
                count += any(
                    c.raddr and c.raddr.port == self.port and c.status == psutil.CONN_ESTABLISHED
                    for c in kernel.net_connections(kind="tcp")
                )
        return count

    def idle(self) -> bool:
        """Answering, no viewer's kernel left, and (preheated) every page's kernel waiting."""
        try:
            answered = httpx.get(self.base, timeout=5, follow_redirects=True).status_code == 200
        except httpx.HTTPError:
            answered = False
        return answered and len(self.kernels()) == self.pooled == self.waiting()

    def wait_idle(self) -> float:
        """Seconds until :meth:`idle` (polled)."""
        begin = time.monotonic()
        while not self.idle():
            if self.process.poll() is not None:
                raise RuntimeError(f"Voila exited ({self.process.returncode}); see {self.log}")
            if time.monotonic() - begin > READY_TIMEOUT_S:
                raise RuntimeError(f"Voila not idle after {READY_TIMEOUT_S:.0f} s; see {self.log}")
            time.sleep(0.2)
        return time.monotonic() - begin

    def memory(self) -> tuple[float, float]:
        """RSS in MiB: Voila's kernel processes together, Voila's server process."""
        kernels = 0
        for kernel in self.kernels():
            with contextlib.suppress(psutil.NoSuchProcess):
                kernels += kernel.memory_info().rss
        return kernels / MIB, self.server.memory_info().rss / MIB

    def stop(self) -> None:
        kernels = self.kernels()
        end_processes([self.server], grace=30)
        end_processes([k for k in kernels if k.is_running()])


@contextlib.contextmanager
def voila(*args: Any, **kwargs: Any) -> Iterator[Voila]:
    """A :class:`Voila`, idle (its pool full), stopped with its kernels at the end."""
    started = Voila(*args, **kwargs)
    try:
        started.wait_idle()
        yield started
    finally:
        started.stop()


@contextlib.contextmanager
def voila_in_chromium(
    api: CoopAPI, home: Path, environ: Mapping[str, str] | None = None
) -> Iterator[tuple[Voila, Browser]]:
    """Voila as the hub runs it (preheated) over a service on ``api`` (anonymous), with
    ``environ`` over the hub's environment, and Debian's Chromium."""
    with hold_hub_ports() as ports, running(create_app(api, StaticTokens({}), prefix=PREFIX)) as base:
        env = {**hub_environment(home / "hub", "not-used", ports), **(environ or {})}
        service = dashboards_service(env)
        with (
            voila(service, env, base + PREFIX, preheated=True, log=home / "voila.log") as server,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield server, browser
            finally:
                browser.close()


#: Voila's front end: held back to see what a page shows from its HTML alone.
FRONT_END = "**/voila/static/voila.js*"


@dataclass
class HeldFrontEnd:
    """A page whose request for Voila's front end waits until :meth:`release`."""

    context: BrowserContext
    page: Page
    held: list[Route]

    def goto(self, url: str) -> None:
        """Open ``url`` and return once the page asked for the front end (its cells are in)."""
        with self.page.expect_request(FRONT_END):
            self.page.goto(url, wait_until="commit")

    def release(self) -> None:
        for route in self.held:
            route.continue_()
        self.context.unroute(FRONT_END)


@contextlib.contextmanager
def held_front_end(browser: Browser, init_script: str) -> Iterator[HeldFrontEnd]:
    """A new page (``init_script`` run before the page's own) with Voila's front end held."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(READY_TIMEOUT_S * 1000)
    context.add_init_script(init_script)
    held: list[Route] = []
    context.route(FRONT_END, lambda route: held.append(route))
    try:
        yield HeldFrontEnd(context, context.new_page(), held)
    finally:
        context.close()
