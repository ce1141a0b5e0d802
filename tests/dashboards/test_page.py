"""What every dashboard page shares: addresses, links behind the hub's prefix, and the friendly
pages that stand in for a traceback."""

from __future__ import annotations

import pytest

from coop_client.client import CoopClientError
from coop_widgets.dashboards import page


def test_a_link_is_relative_and_leaves_out_what_is_none():
    link = page.link("challenge", id="trackml", phase="realistic", board="throughput")
    assert link == "challenge.ipynb?id=trackml&phase=realistic&board=throughput"
    assert page.link("index") == "index.ipynb"
    assert page.link("profile", id="a b&c", offset=None) == "profile.ipynb?id=a+b%26c"
    with pytest.raises(ValueError, match="no dashboard page 'nope'"):
        page.link("nope")


def test_the_service_and_the_hub_are_reached_relatively_from_a_rendered_page():
    # a page is <hub>/services/dashboards/voila/render/<name>.ipynb: four levels below the hub
    assert page.notebook_link(7) == "../../../../services/coop/api/submissions/7/notebook.html"
    assert page.diff_link(7) == "../../../../services/coop/api/submissions/7/diff.html"
    assert (
        page.easy_start_link("track ml", "toy")
        == "../../../../hub/user-redirect/coop/start/track%20ml?phase=toy"
    )


def test_the_query_keeps_the_first_value_and_drops_blanks():
    assert page.query({"QUERY_STRING": "id=a&id=b&phase=&board=x%20y"}) == {"id": "a", "board": "x y"}
    assert page.query({}) == {}


def test_the_page_reads_the_query_voila_gives_its_kernel(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUERY_STRING", "id=trackml")
    assert page.query() == {"id": "trackml"}


@pytest.mark.parametrize(
    ("error", "title", "detail"),
    [
        (page.NotFound("challenge", "x<y"), "No such challenge: x&lt;y", None),
        (page.NotFound("person"), "No person was named in the address", None),
        (
            CoopClientError(404, "unknown challenge 'x'"),
            "No such challenge",
            "unknown challenge &#x27;x&#x27;",
        ),
        (CoopClientError(0, "connection refused"), "The scorer service is not answering", "Try again"),
        (CoopClientError(403, "private scores are hidden"), "The scorer service refused", "private scores"),
        (KeyError("secret internals"), "This page cannot be shown", "Something went wrong on our side."),
    ],
)
def test_an_error_becomes_a_short_friendly_page(error: Exception, title: str, detail: str | None):
    shown = page.problem_page(error, "challenge")
    assert title in shown and 'role="alert"' in shown and 'href="index.ipynb"' in shown
    assert detail is None or detail in shown
    assert "secret internals" not in shown and "Traceback" not in shown


def test_show_never_raises_what_a_page_raised(capsys: pytest.CaptureFixture[str]):
    def broken() -> str:
        raise RuntimeError("boom")

    page.show(broken, current="index")  # displayed, not raised
    assert "Traceback" not in capsys.readouterr().out


def test_the_header_marks_the_current_page_and_links_the_others():
    header = page.header("index")
    assert '<span aria-current="page">Challenges</span>' in header
    assert '<a href="people.ipynb">People</a>' in header and "<style>" in header


def test_a_table_has_column_headers_and_a_caption():
    html = page.table(["a", "b<"], [["1", "2"]], numeric=[0], caption="Best & worst")
    assert "<caption>Best &amp; worst</caption>" in html
    assert '<th scope="col">b&lt;</th>' in html and '<td class="num">1</td>' in html
