"""Browser fixtures of the Voila dashboards: one real platform on the demo's data for them all.

- ``demo_platform`` (one for this folder's tests): ``coop --home <tmp> up --demo``, what
  ``make demo`` runs, on loopback ports held for it (:func:`tests.hub.conftest.hold_hub_ports`): the shipped
  challenges published, their baselines and examples scored, the toy phases settled; the hub
  with the scorer and the dashboards as its services. Teardown stops it (Ctrl-C) and every
  process it started.
- ``dashboards`` (one per module: Playwright's sync API runs an event loop until it closes, and
  no later test may find one running): :class:`Dashboards`, Debian's ``/usr/bin/chromium`` headless
  (never a downloaded browser). :meth:`Dashboards.open` opens a dashboard page anonymously, in a
  browser context of its own, and records every request it makes: a request to any host but
  the loopback one fails the test (and is never sent). :meth:`Viewer.check` asserts the page
  shows no Python traceback and no outside request was made, then saves a screenshot to
  ``test-artifacts/dashboards/<name>.png`` (git-ignored).

Waits use Playwright's auto-waiting locators with generous timeouts: they bound how long to
wait, they never judge speed.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.hub.conftest import (
    ROOT,
    coop_up,
    hold_hub_ports,
    hub_environment,
    leave_nothing_running,
    printed_lines,
    read_until,
)

ARTIFACTS = ROOT / "test-artifacts" / "dashboards"
COOP = str(Path(sys.executable).parent / "coop")
#: Seconds: the demo scores every shipped baseline and example before the hub starts.
UP_TIMEOUT = 1500.0
#: Milliseconds: Voila starts a kernel (or takes a preheated one) and renders the page.
PAGE_TIMEOUT = 120_000
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
#: What a page must never show: Python's traceback, or Voila's note that a cell raised.
TRACEBACKS = ("Traceback (most recent call last)", "There was an error when executing cell")


@dataclass
class DemoPlatform:
    """The running platform: the hub's URL and the scorer's home."""

    url: str
    home: Path
    printed: str

    @property
    def dashboards_url(self) -> str:
        return f"{self.url}/services/dashboards/"

    @property
    def service_url(self) -> str:
        return f"{self.url}/services/coop/"

    def page_url(self, name: str, **params: str) -> str:
        """A dashboard's address, as a viewer types it or a link reaches it."""
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.dashboards_url}voila/render/{name}.ipynb{query}"


@pytest.fixture(scope="package")  # stopped after the last dashboards test, not at the session's end
def demo_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoPlatform]:
    home = tmp_path_factory.mktemp("dashboards") / "home"
    with hold_hub_ports() as ports:
        env = hub_environment(home, secrets.token_urlsafe(12), ports)
        port = env.pop("COOP_HUB_PORT")
        api_url = f"http://127.0.0.1:{env['COOP_HUB_API_PORT']}/hub/api"
        up = coop_up(home, port, env, "--demo")
        try:
            printed = "".join(read_until(printed_lines(up), "Ctrl-C stops everything", UP_TIMEOUT))
            yield DemoPlatform(f"http://127.0.0.1:{port}", home, printed)
        finally:
            leave_nothing_running(up, api_url, home)


@dataclass
class Viewer:
    """One anonymous viewer's tab on a dashboard, and every request it made."""

    page: Page
    context: BrowserContext
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def check(self, name: str) -> None:
        """No traceback shown, nothing asked of another host; the screenshot ``<name>.png``."""
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        shown = self.page.locator("body").inner_text()
        for sign in TRACEBACKS:
            assert sign not in shown, f"{name} shows a traceback:\n{shown[:3000]}"
        assert not self.outside, f"{name} asked other hosts: {self.outside}"

    def close(self) -> None:
        self.context.close()


class Dashboards:
    """Chromium, and a new anonymous viewer for each page opened."""

    def __init__(self, platform: DemoPlatform, browser: Browser) -> None:
        self.platform = platform
        self.browser = browser
        self.viewers: list[Viewer] = []  # open ones: a failing test leaves their screenshots

    def open(self, name: str, **params: str) -> Viewer:
        """``name``'s page with ``params`` as its query, its header shown."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(PAGE_TIMEOUT)
        viewer = Viewer(context.new_page(), context)
        self.viewers.append(viewer)
        context.on("close", lambda _context: self.viewers.remove(viewer))

        def record(route: Route, request: Request) -> None:
            viewer.requests.append(request.url)
            host = urlsplit(request.url).hostname or ""
            if request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
                route.continue_()
            else:
                viewer.outside.append(request.url)
                route.abort()

        context.route("**/*", record)
        context.on("websocket", lambda ws: viewer.requests.append(ws.url))
        viewer.page.on(
            "websocket",
            lambda ws: None if urlsplit(ws.url).hostname in LOOPBACK else viewer.outside.append(ws.url),
        )
        viewer.page.goto(self.platform.page_url(name, **params))
        expect(viewer.page.locator(".coop-nav")).to_be_visible()
        return viewer


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, a screenshot and the text of every page the test left open."""
    report = yield
    dashboards = getattr(item, "funcargs", {}).get("dashboards")
    if report.when == "call" and report.failed and isinstance(dashboards, Dashboards):
        for n, viewer in enumerate(dashboards.viewers):
            with contextlib.suppress(Exception):  # the page may be gone: the report matters more
                failed = ARTIFACTS / f"failed-{item.name}-{n}"
                viewer.page.screenshot(path=failed.with_suffix(".png"), full_page=True)
                failed.with_suffix(".txt").write_text(viewer.page.locator("body").inner_text())
    return report


@pytest.fixture(autouse=True)
def close_viewers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test did, the viewers it opened are closed after it (after any failure's capture)."""
    yield
    if "dashboards" in request.fixturenames:
        for viewer in list(request.getfixturevalue("dashboards").viewers):
            viewer.close()


@pytest.fixture(scope="module")  # Playwright's sync API runs a loop: never past its module
def dashboards(demo_platform: DemoPlatform) -> Iterator[Dashboards]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=PAGE_TIMEOUT)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield Dashboards(demo_platform, chromium)
        finally:
            chromium.close()
