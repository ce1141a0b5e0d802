"""A viewer's kernel lives as long as their page: Voila as the hub runs it (its command read from
the hub config, the ``coop`` template), a scorer service on an empty ledger, Chromium.

Leaving a page sends Voila's shutdown (which needs the ``_xsrf`` cookie the template sets);
a page that vanishes without a word (a crashed tab, a lost network: Playwright closes a context
without ``beforeunload``) leaves its kernel to the culler, which spares the waiting pool. Either
way the kernels come back to the pool, each one waiting for its next viewer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from tests.e2e.conftest import PAGE_CONFIG
from tests.e2e.dashboards.served import READY_TIMEOUT_S, Voila, voila_in_chromium

#: Seconds an idle kernel without a page waits to be culled here (the hub's default is minutes).
CULL_S = "20"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Voila, Browser]]:
    home = tmp_path_factory.mktemp("kernels")
    api = CoopAPI(ScorerSettings(home=str(home / "coop")))
    try:
        with voila_in_chromium(api, home, {"COOP_DASHBOARDS_CULL": CULL_S}) as served:
            yield served
    finally:
        api.close()


def open_page(server: Voila, browser: Browser) -> tuple[BrowserContext, str]:
    """A viewer on the challenges page, its widgets drawn; the id of its kernel, which is running."""
    context = browser.new_context()
    context.set_default_timeout(READY_TIMEOUT_S * 1000)
    page = context.new_page()
    page.goto(server.url("index"))
    expect(page.locator(".coop-nav")).to_be_visible(timeout=READY_TIMEOUT_S * 1000)
    kernel = str(page.evaluate(PAGE_CONFIG)["kernelId"])
    assert kernel in running_kernels(server)
    return context, kernel


def running_kernels(server: Voila) -> str:
    """The command lines of Voila's kernels (each names its connection file, ``kernel-<id>.json``)."""
    return " ".join(" ".join(kernel.cmdline()) for kernel in server.kernels())


def wait_for_the_pool(server: Voila, gone: str) -> None:
    """Until the kernel ``gone`` has ended and every other kernel waits in the pool."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while gone in running_kernels(server) or not server.idle():
        assert time.monotonic() < deadline, f"kernels: {len(server.kernels())}, pool: {server.pooled}"
        time.sleep(0.5)


def culled(server: Voila, kernel: str) -> bool:
    """Whether Voila's log says the culler ended ``kernel``."""
    return any("Culling" in line and kernel in line for line in server.log.read_text().splitlines())


def refused(server: Voila) -> list[str]:
    """What Voila's log says it refused (a shutdown without the ``_xsrf`` cookie is a 403)."""
    return [line for line in server.log.read_text().splitlines() if " 403 " in line]


def test_leaving_a_page_shuts_its_kernel_down(served: tuple[Voila, Browser]):
    server, browser = served
    context, kernel = open_page(server, browser)
    context.pages[0].goto("about:blank")  # beforeunload: the page asks Voila to shut its kernel down
    wait_for_the_pool(server, kernel)
    context.close()
    assert not culled(server, kernel)
    assert not refused(server)


def test_a_page_that_vanished_has_its_kernel_culled_and_the_pool_stays(served: tuple[Voila, Browser]):
    server, browser = served
    context, kernel = open_page(server, browser)
    context.close()  # no beforeunload: nothing tells Voila
    wait_for_the_pool(server, kernel)
    assert culled(server, kernel)


def test_the_template_sets_an_xsrf_cookie_for_the_dashboards_only(served: tuple[Voila, Browser]):
    server, browser = served
    context, _kernel = open_page(server, browser)
    [cookie] = [c for c in context.cookies() if c["name"] == "_xsrf"]
    assert len(cookie["value"]) == 32 and cookie["path"] == "/services/dashboards/"
    assert cookie["sameSite"] == "Strict"
    context.close()
