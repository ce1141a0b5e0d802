"""The executed notebook's page links to "Build on this" in the viewer's own server, through the
hub the service runs behind; the link is plain navigation, nothing on the page runs."""

from __future__ import annotations

from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_notebook

from scorer.render.html import render_notebook
from scorer.service.routes.notebooks import hub_base
from tests.test_notebook_html import executable_parts


def test_the_page_carries_its_links_escaped_and_inert() -> None:
    notebook = new_notebook(cells=[new_code_cell("x = 1")])
    page = render_notebook(notebook, title="t", links=[("/hub/x?a=1&b=<2>", "Build on this")])
    [link] = BeautifulSoup(page, "html.parser").select("nav.coop-links a")
    assert (link["href"], link.get_text()) == ("/hub/x?a=1&b=<2>", "Build on this")
    assert "&amp;b=&lt;2&gt;" in page
    assert executable_parts(page) == []
    assert BeautifulSoup(render_notebook(notebook, title="t"), "html.parser").select("nav") == []


def test_the_hub_is_found_from_the_services_prefix() -> None:
    assert hub_base({"JUPYTERHUB_SERVICE_PREFIX": "/services/coop/"}) == "/"
    assert hub_base({"JUPYTERHUB_SERVICE_PREFIX": "/jhub/services/coop/"}) == "/jhub/"
    assert hub_base({}) is None  # not behind a hub: no server to build in
