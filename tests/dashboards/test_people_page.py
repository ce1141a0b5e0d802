"""The people search page rendered in this process from the real service (uvicorn over a SQLite
ledger with scored notebooks and rewards): the address as the search's state and back again,
ranked rows with their explanations linked to profiles, filters, pages, what the service
refuses shown above the form, everything from the address escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from coop_widgets.dashboards import page, people
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.ledger.ledger_helpers import Ledger
from tests.service.conftest import PREFIX, running
from tests.service.rewards_ledger import reward
from tests.service.test_people import scored


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path_factory.mktemp("people") / "home")))
    with pytest.MonkeyPatch.context() as patch:
        try:
            ledger = Ledger(api.sessions, reward(api.sessions).spec)
            scored(ledger, "carol", "from sklearn.cluster import DBSCAN", "DBSCAN().fit(x)")
            scored(ledger, "dan", "import numba", "import numpy as np", "np.zeros(1)")
            with running(create_app(api, StaticTokens({}), prefix=PREFIX)) as url:
                patch.setenv("COOP_SERVICE_URL", url + PREFIX)
                yield url
        finally:
            api.close()


def query(href: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(unescape(href)).query, keep_blank_values=True)


def rows(html: str) -> list[list[str]]:
    """The results table's rows, cells as text."""
    body = re.search(r"<tbody>(.*?)</tbody>", html)
    assert body, "no results table"
    return [
        [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r)
        ]
        for r in re.findall(r"<tr>(.*?)</tr>", body.group(1))
    ]


def test_a_weighted_search_ranks_and_explains_each_row(served):
    html = people.render({"skill": ["clustering", "performance-optimisation"], "weight": ["2", "1"]})
    found = rows(html)
    assert [row[:3] for row in found] == [["1", "carol", "66.7"], ["2", "dan", "33.3"]]
    assert "clustering ×2: percentile 100, adds 66.667" in found[0][4]
    assert "code: higgs/p1 submission" in found[0][4] and "sklearn.cluster" in found[0][4]
    assert "performance-optimisation ×1: percentile 100, adds 33.333" in found[1][4]
    assert f'href="{page.profile_link("carol")}"' in html
    assert "Ranked by clustering ×2, performance-optimisation ×1 · 1–2 of 2" in unescape(html)
    assert '<th scope="col">why this score</th>' in html


def test_the_form_holds_the_search_the_address_holds(served):
    html = people.render(
        {
            "skill": ["clustering", "", "numpy"],
            "weight": ["2", "5", "1.5"],
            "challenge": ["higgs"],
            "min_percentile": ["10"],
            "since": ["2020-01-01"],
        }
    )
    form = re.search(r"<form.*?</form>", html, re.S)
    assert form and 'method="get"' in form.group(0)
    fields = re.findall(r'<input name="(\w+)"[^>]*?value="([^"]*)"', form.group(0))
    assert fields[:6] == [
        ("skill", "clustering"),
        ("weight", "2"),
        ("skill", "numpy"),  # the blank row, and its weight, left out
        ("weight", "1.5"),
        ("skill", ""),
        ("weight", "1"),
    ]
    assert ("min_percentile", "10") in fields and ("since", "2020-01-01") in fields
    assert 'name="challenge" value="higgs" checked' in form.group(0)
    assert '<option value="clustering">clustering (1)</option>' in form.group(0)
    assert html.count("<label>") >= 8  # every control named for readers and keyboards


def test_the_address_round_trips_and_pages_on(served):
    search, notes = people.parse({"skill": ["rank:higgs"], "weight": ["1"], "domain": ["physics, biology"]})
    assert notes == [] and search.domains == ("physics", "biology")
    again, _ = people.parse(query(search.href(offset=20)))
    assert again == people.Search(weights=(("rank:higgs", 1.0),), domains=("physics", "biology"), offset=20)
    first = people.render({"skill": ["rank:higgs"], "weight": ["1"]})
    assert [row[1] for row in rows(first)][:2] == ["alice", "bob"]  # the ranked in higgs first
    everyone = people.render({})
    assert "No skill chosen: everyone, by name · 1–4 of 4" in unescape(everyone)
    assert "Next" not in everyone and "Previous" not in everyone
    assert everyone.count('<input name="skill"') == people.FEWEST_ROWS  # room for a few skills at once


def test_more_people_than_a_page_link_to_the_next(served, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(people, "PER_PAGE", 3)
    first = people.render({})
    assert [row[1] for row in rows(first)] == ["alice", "bob", "carol"]
    following = re.search(r'<a href="([^"]+)">Next ▶</a>', first)
    assert following and query(following.group(1)) == {"offset": ["3"]}
    second = people.render(query(following.group(1)))
    assert [row[:2] for row in rows(second)] == [["4", "dan"]]
    back = re.search(r'<a href="([^"]+)">◀ Previous</a>', second)
    assert back and query(back.group(1)) == {}


def test_what_the_address_holds_is_checked_and_escaped(served):
    hostile = "<img src=x onerror=alert(1)>"
    html = people.render({"skill": [hostile, "numpy"], "weight": ["1", "x"], "since": ["soon"]})
    assert "<img" not in html and "&lt;img src=x" in html
    assert "The weight of numpy is not a number (x): it counts 1." in unescape(html)
    assert "Active since: soon is not a date (YYYY-MM-DD); left out." in unescape(html)
    assert "unknown skill" in html  # the service's note, for the hostile name
    refused = people.render({"skill": ["numpy"], "weight": ["50"]})
    assert "The search was refused:" in refused and "at most 10" in refused
    assert "<form" in refused and "<tbody>" not in refused  # the form stays, to fix it
