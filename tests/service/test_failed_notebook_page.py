"""A failed run's notebook page, served: why it failed above the notebook, the failing cell
outlined (bob's ``raise ValueError('bad degree')`` in cell 4, from tests/service/conftest.py)."""

from __future__ import annotations

import httpx
from bs4 import BeautifulSoup

from scorer.render.html import FAILING_CLASS
from tests.service.conftest import Scored

BOB = {"Authorization": "token bob-token"}


def test_a_failed_runs_page_says_why_and_where(service: str, scored: Scored) -> None:
    answer = httpx.get(f"{service}/api/submissions/{scored.bob_id}/notebook.html", headers=BOB)
    assert answer.status_code == 200, answer.text
    soup = BeautifulSoup(answer.text, "html.parser")
    notice = soup.select_one(".coop-failure")
    assert notice is not None, answer.text[:500]
    assert "This run failed (exception)." in notice.text
    assert "ValueError: bad degree (in cell 4: \"raise ValueError('bad degree')\")" in notice.text
    [failing] = soup.select(f".{FAILING_CLASS}")
    assert "raise ValueError('bad degree')" in failing.text and "bad degree" in failing.text
    assert notice.select_one("a")["href"] == f"#{failing['id']}"


def test_a_scored_runs_page_has_no_failure_notice(service: str, scored: Scored) -> None:
    answer = httpx.get(
        f"{service}/api/submissions/{scored.alice_id}/notebook.html",
        headers={"Authorization": "token alice-token"},
    )
    assert answer.status_code == 200
    soup = BeautifulSoup(answer.text, "html.parser")
    assert soup.select(".coop-failure") == [] and soup.select(f".{FAILING_CLASS}") == []


def test_a_run_that_never_started_shows_why_over_the_committed_notebook(service: str, scored: Scored) -> None:
    """A notebook refused before it ran (here: no `parameters` cell) has no executed notebook;
    its page says why instead of "not run yet", over the notebook as committed."""
    notebook = scored.fixture.baseline
    notebook.cells[1].metadata["tags"] = []
    notebook.cells[3].source = "# carol's model"
    [carol] = scored.fixture.score(scored.fixture.commit("carol", {"solutions/carol/fit.ipynb": notebook}))
    assert carol.view.failure_class == "invalid_notebook"
    answer = httpx.get(
        f"{service}/api/submissions/{carol.view.id}/notebook.html",
        headers={"Authorization": "token org-token"},
    )
    assert answer.status_code == 200, answer.text
    soup = BeautifulSoup(answer.text, "html.parser")
    notice = soup.select_one(".coop-failure")
    assert (
        "This run failed (invalid_notebook)." in notice.text and "no cell tagged `parameters`" in notice.text
    )
    assert "The notebook did not run: it is shown as committed." in notice.text
    assert "# carol's model" in soup.text and soup.select(f".{FAILING_CLASS}") == []
