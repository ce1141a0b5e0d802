"""The scorer's API documentation (``/services/coop/docs``, which ``coop up`` prints): Chromium on a
closed network renders every operation from the service's own assets and asks no other host."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from tests.conftest import CHROMIUM
from tests.e2e.conftest import CHROMIUM_ARGS, UI_TIMEOUT
from tests.service.conftest import PREFIX, TOKENS, running

pytestmark = pytest.mark.needs("chromium")


@pytest.fixture
def docs_service(tmp_path) -> Iterator[str]:
    """The service (no challenge needed) at its prefix; the base URL without a trailing slash."""
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    try:
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            yield url + PREFIX.rstrip("/")
    finally:
        api.close()


def test_the_docs_page_renders_every_operation_without_leaving_loopback(docs_service: str):
    document = httpx.get(f"{docs_service}/openapi.json").json()
    operations = [(method.upper(), path) for path, item in document["paths"].items() for method in item]
    page_html = httpx.get(f"{docs_service}/docs").text
    assert '"validatorUrl": null' in page_html  # no badge fetched from the online validator
    requested: list[str] = []
    failed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(f"{docs_service}/docs")
            summaries = page.locator(".opblock-summary")
            expect(summaries).to_have_count(len(operations), timeout=UI_TIMEOUT)
            expect(page.locator(".info .title")).to_contain_text("Coopetition scorer")
            shown = {
                (
                    summary.locator(".opblock-summary-method").inner_text().strip(),
                    summary.locator(".opblock-summary-path").get_attribute("data-path"),
                )
                for summary in summaries.all()
            }
        finally:
            browser.close()
    assert shown == set(operations)
    assert failed == []
    served = urlsplit(docs_service).netloc
    assert {urlsplit(url).netloc for url in requested if not url.startswith("data:")} == {served}
