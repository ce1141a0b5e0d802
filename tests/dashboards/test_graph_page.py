"""The contribution graph page from the service's overview of a real ladder (the service's own
functions in this process; the browser test reads it over HTTP): the figure's traces, a click
as the page's plotly.js reports it, a zoom as its relayout reports it, the credit table."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape

import pytest

from coop_client.models import (
    ChallengeOut,
    CreditRowOut,
    CreditTableOut,
    GraphOverviewOut,
    LimitsOut,
    PhaseOut,
)
from coop_widgets.dashboards import graph, page, plot
from scorer.credit.graph import Commit, CommitGraph
from scorer.credit.ladder import Ladder, Metric, compute
from scorer.credit.overview import overview
from scorer.ledger.credit_views import ScoredVersion
from scorer.service.convert.credit import of_overview

T0 = 1_780_000_000
START = datetime.fromtimestamp(T0, UTC)


class Phase:
    """A phase's ladder and the page's view of it, as the service gives it."""

    def __init__(self, commits: list[Commit], max_nodes: int = 1500) -> None:
        self.commits = commits
        self.ladder: Ladder = compute(CommitGraph.build(commits), Metric("minimize", 0.0))
        self.versions = {
            c.sha: ScoredVersion(at + 1, c.people[0], c.sha, f"solutions/{c.people[0]}/fit.ipynb", START)
            for at, c in enumerate(commits)
        }
        self.max_nodes = max_nodes
        self.asked: list[tuple[datetime, datetime]] = []

    def window(self, start: datetime | None = None, end: datetime | None = None) -> GraphOverviewOut:
        if start is not None and end is not None:
            self.asked.append((start, end))
        found = overview(
            self.ladder, self.versions, start=start, end=end, max_nodes=self.max_nodes, buckets=40
        )
        return of_overview("fit", "p1", "main", "public", "main.rmse", found)

    def table(self) -> CreditTableOut:
        rows = sorted(self.ladder.totals.items(), key=lambda item: -item[1])
        versions = {p: sum(1 for n in self.ladder.nodes.values() if n.credit.get(p, 0) > 0) for p, _ in rows}
        return CreditTableOut(
            challenge="fit",
            phase="p1",
            leaderboard="main",
            measure="main.rmse",
            split="public",
            direction="minimize",
            noise_threshold=0.0,
            total=float(sum(self.ladder.totals.values())),
            rows=[CreditRowOut(person=p, credit=float(c), versions=versions[p]) for p, c in rows if c > 0],
        )

    def page(self) -> graph.GraphPage:
        return graph.GraphPage(challenge(), challenge().phases[0], self.table(), self.window(), self.window)


def challenge() -> ChallengeOut:
    limits = LimitsOut(per_day=None, per_person=None, min_interval=None)
    phase = PhaseOut(
        id="p1",
        title="Toy",
        description="",
        start=START,
        end=None,
        open=True,
        leaderboards=["main", "speed"],
        private_visible_at=None,
        submissions=limits,
    )
    return ChallengeOut(
        id="fit",
        title="Curve fit",
        current_phase="p1",
        description="",
        domain=[],
        skills=[],
        metrics=[],
        leaderboards=[],
        phases=[phase],
    )


@pytest.fixture
def small() -> Phase:
    """alice 1.0 → 0.5; bob copies her second and gets 0.4; carol merges both: 0.35."""
    return Phase(
        [
            Commit("a1", (), ("alice",), T0, 1.0),
            Commit("a2", ("a1",), ("alice",), T0 + 60, 0.5),
            Commit("b1", (), ("bob",), T0 + 120, 0.4, copied_from=("a2",)),
            Commit("c1", ("a2", "b1"), ("carol",), T0 + 180, 0.35),
        ]
    )


def test_the_figure_draws_edges_by_kind_the_best_so_far_and_a_trace_per_person(small: Phase):
    shown = small.page()
    state = shown.figure.get_state()  # what a browser's first view reads
    data = {trace["name"]: trace for trace in state["data"]}
    assert list(data) == ["git parent", "merge parent", "copied from", "best so far", "alice", "bob", "carol"]
    assert json.loads(json.dumps(state["data"])) == state["data"]  # plain JSON, as sent
    assert (
        len(data["merge parent"]["x"]) == 6 and data["merge parent"]["line"]["dash"] == "dash"
    )  # 2 segments
    assert data["copied from"]["line"]["dash"] == "dot" and data["git parent"]["line"]["dash"] == "solid"
    assert data["best so far"]["y"] == [1.0, 0.5, 0.4, 0.35] and data["best so far"]["line"]["shape"] == "hv"
    assert data["best so far"]["x"][0] == "2026-05-28 20:26:40"  # naive UTC, as plotly.js writes it
    symbols = [data[who]["marker"]["symbol"] for who in ("alice", "bob", "carol")]
    colours = [data[who]["marker"]["color"] for who in ("alice", "bob", "carol")]
    assert len(set(symbols)) == 3 and len(set(colours)) == 3  # colour is never the only carrier
    assert data["alice"]["marker"]["size"] == [graph.SIZES[0], graph.SIZES[1]]  # none; the largest
    sizes = data["carol"]["marker"]["size"][0], data["bob"]["marker"]["size"][0]
    assert graph.SIZES[0] < sizes[0] < sizes[1] < graph.SIZES[1]
    hover = unescape(data["bob"]["hovertext"][0])
    assert "commit b1 · solutions/bob/fit.ipynb" in hover and "by bob" in hover
    assert "main.rmse 0.4 (Δ +0.1)" in hover and "credit: bob +0.1" in hover and "copy" in hover
    assert "All 4 versions of the phase." in shown.detail.value


def names(shown: graph.GraphPage) -> list[str]:
    return [trace["name"] for trace in shown.figure.data]


def clicked(shown: graph.GraphPage, trace_name: str, point: int) -> None:
    """A click as the page's plotly.js reports it to the kernel (a message on the widget's comm)."""
    shown.figure._handle_custom_msg(
        {"event": "click", "trace": names(shown).index(trace_name), "point": point}, []
    )


def zoomed(shown: graph.GraphPage, window: list[str] | None) -> None:
    """A zoom (a drag across the time axis; ``None``: a double-click) as the page reports it."""
    shown.figure._handle_custom_msg({"event": "zoom", "range": window}, [])


def test_a_click_on_a_version_shows_its_notebook_and_diff_links(small: Phase):
    shown = small.page()
    assert "Click a version" in shown.links.value
    clicked(shown, "bob", 0)
    assert page.notebook_link(3) in shown.links.value and page.diff_link(3) in shown.links.value
    assert "Open its executed notebook" in shown.links.value and "<code>b1</code>" in shown.links.value
    clicked(shown, "best so far", 0)  # a line: nothing changes
    assert page.notebook_link(3) in shown.links.value


def test_a_large_phase_starts_grouped_and_a_click_on_a_group_zooms_into_it():
    crowd = Phase(
        [
            Commit(
                f"c{at}", (f"c{at - 1}",) if at else (), (f"p{at % 20:02d}",), T0 + 60 * at, 1.0 - at / 6000
            )
            for at in range(3000)
        ],
        max_nodes=500,
    )
    shown = crowd.page()
    assert (
        shown.shown.groups and "3,000 versions in this window are drawn as 520 groups" in shown.detail.value
    )
    leader = shown.shown.people[0]  # the largest credit
    assert (
        names(shown)[:2] == ["best so far", f"{leader} (grouped)"] and names(shown)[-1] == "others (grouped)"
    )
    assert len(names(shown)) == 2 + 12 and "range" not in shown.figure.layout["xaxis"]
    clicked(shown, f"{leader} (grouped)", 0)  # the first bucket: 75 minutes, 75 versions
    assert crowd.asked[-1][0] == START and not shown.shown.groups and shown.shown.total == 75
    assert shown.figure.layout["xaxis"]["range"][0] == "2026-05-28 20:26:40"  # the view moves there
    assert names(shown)[:3] == ["git parent", "best so far", leader] and names(shown)[-1] == "others"
    assert "75 of 3,000 versions in this window" in shown.detail.value
    window = ["2026-05-28 20:00:00", "2026-06-01 00:00:00.5"]
    zoomed(shown, window)  # zoomed out
    assert crowd.asked[-1] == (
        datetime(2026, 5, 28, 20, tzinfo=UTC),
        datetime(2026, 6, 1, 0, 0, 0, 500000, tzinfo=UTC),
    )
    assert (
        shown.shown.groups and shown.shown.total == 3000 and shown.figure.layout["xaxis"]["range"] == window
    )
    asked = len(crowd.asked)
    zoomed(shown, window)  # the same: no request
    assert len(crowd.asked) == asked
    clicked(shown, f"{leader} (grouped)", 0)
    assert not shown.shown.groups
    zoomed(shown, None)  # a double-click
    assert shown.shown is shown.whole and len(crowd.asked) == asked + 1
    assert "range" not in shown.figure.layout["xaxis"]


def test_the_credit_table_gives_share_and_the_versions_that_earned_it(small: Phase):
    html = graph.credit_table(small.table(), small.window().earned)
    rows = [
        [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", html)
    ]
    assert rows[0] == ["person", "credit", "share", "versions that earned it"]
    assert rows[1:] == [
        ["alice", "0.5", "76.9%", "a2"],
        ["bob", "0.1", "15.4%", "b1"],
        ["carol", "0.05", "7.7%", "c1"],
    ]
    assert page.notebook_link(2) in html and page.profile_link("bob") in html


def marks_of(html: str) -> list[str]:
    """The static drawing's marks (each a circle or polygon), in drawing order."""
    inside = html.split('<g class="coop-first-marks">')[1].split("</g>")[0]
    return re.findall(r"<(?:circle|polygon) [^>]*/>", inside)


def test_the_first_render_draws_the_figures_traces_as_a_static_svg_under_the_heading(small: Phase):
    shown = small.page()
    html = graph.first_html(challenge(), challenge().phases[0], small.table(), small.window())
    assert f'data-coop-live="{plot.DRAWN}"' in html  # replaced once plotly.js has drawn the live figure
    assert (
        "Contribution graph · Curve fit" in html
        and "coop-first-nav" in html
        and 'class="coop-nav' not in html
    )
    assert "4 versions; 4 marks drawn" in html and "interactive graph is loading" in html
    marks = marks_of(html)
    data = {trace["name"]: trace for trace in shown.figure.data}
    colours = [data[who]["marker"]["color"] for who in ("alice", "alice", "bob", "carol")]
    assert [re.search(r'fill="([^"]+)"', mark)[1] for mark in marks] == colours  # type: ignore[index]
    # the same places: later versions to the right, lower rmse lower on screen (larger y)
    centres = [
        tuple(float(v) for v in re.findall(r'c[xy]="([\d.]+)"', mark)) or centre(mark) for mark in marks
    ]
    assert [c[0] for c in centres] == sorted(c[0] for c in centres)
    assert [c[1] for c in centres] == sorted(c[1] for c in centres)
    legend = re.findall(r'fill="#444">([^<]+)</text>', html.split("commit time (UTC)")[1])
    assert legend[1:] == ["git parent", "merge parent", "copied from", "best so far", "alice", "bob", "carol"]
    assert html.count("stroke-dasharray") == 4  # merge and copy lines, and their legend swatches
    # none of the live page's markup: tests and scripts looking for the live figure find it only
    drawing = html.replace(f'data-coop-live="{plot.DRAWN}"', "")
    assert "js-plotly-plot" not in drawing and "<table" not in drawing and "coop-plot" not in drawing


def centre(mark: str) -> tuple[float, float]:
    corners = [tuple(map(float, p.split(","))) for p in re.search(r'points="([^"]+)"', mark)[1].split()]  # type: ignore[index]
    return sum(c[0] for c in corners) / len(corners), sum(c[1] for c in corners) / len(corners)


def test_the_first_render_draws_the_largest_marks_only_and_says_so():
    crowd = Phase(
        [Commit(f"c{at}", (), (f"p{at % 20:02d}",), T0 + 60 * at, 1.0 - at / 6000) for at in range(3000)],
        max_nodes=500,
    )
    first = crowd.window()
    traces, _ = graph.traces_of(first, crowd.table())
    svg, drawn, total = plot.snapshot(traces, graph.layout(crowd.table()), marks=100)
    assert (drawn, total) == (100, 520) and len(marks_of(svg)) == 100
    radii = sorted(float(r) for r in re.findall(r'<circle [^>]*r="([\d.]+)"', svg))
    everyone = sorted((s / 2 for t in traces if "marker" in t for s in t["marker"]["size"]), reverse=True)
    assert radii[0] >= round(everyone[99], 1) - 0.05  # the largest kept
    html = graph.first_html(challenge(), challenge().phases[0], crowd.table(), first)
    assert "520 groups of versions; 520 marks drawn" in html
    assert html.count("<path") < 10 and len(html) < 80_000  # the best so far thinned to the pixels


def test_the_first_render_escapes_names():
    phase = Phase([Commit("e1", (), ("<b>eve</b>",), T0, 1.0)])
    html = graph.first_html(challenge(), challenge().phases[0], phase.table(), phase.window())
    assert "&lt;b&gt;eve&lt;/b&gt;" in html and "<b>eve" not in html
