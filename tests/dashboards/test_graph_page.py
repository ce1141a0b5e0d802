"""The contribution graph page from the client's models: the level of detail (pure), the
figure's traces, a click as the browser reports it (plotly's points message) and a zoom as
the browser's relayout sets it, and the credit table."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest

from coop_client.models import (
    ChallengeOut,
    CreditRowOut,
    CreditTableOut,
    GraphEdgeOut,
    GraphNodeOut,
    LimitsOut,
    PhaseOut,
)
from coop_widgets.dashboards import graph, page, zoom

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def node(
    number: int,
    person: str,
    score: float | None,
    *,
    credit: float = 0.0,
    minutes: int | None = None,
    **more: Any,
) -> GraphNodeOut:
    values: dict[str, Any] = {
        "id": f"c{number:04d}:solutions/{person}/fit.ipynb",
        "commit": f"{number:040x}",
        "notebook": f"solutions/{person}/fit.ipynb",
        "submission": number,
        "people": [person],
        "time": T0 + timedelta(minutes=number if minutes is None else minutes),
        "values": {"rmse": score},
        "score": score,
        "best": score,
        "increment": credit,
        "credit": {person: credit} if credit else {},
        "likes": 0,
        "flags": [],
    }
    return GraphNodeOut.model_validate(values | more)


def credit_table(rows: Sequence[tuple[str, float, int]], direction: str = "minimize") -> CreditTableOut:
    return CreditTableOut(
        challenge="fit",
        phase="p1",
        leaderboard="main",
        measure="main.rmse",
        split="public",
        direction=direction,  # type: ignore[arg-type]
        noise_threshold=0.0,
        total=sum(credit for _, credit, _ in rows),
        rows=[CreditRowOut(person=p, credit=c, versions=v) for p, c, v in rows],
    )


def challenge() -> ChallengeOut:
    limits = LimitsOut(per_day=None, per_person=None, min_interval=None)
    phase = PhaseOut(
        id="p1",
        title="Toy",
        description="",
        start=T0,
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


def edge(source: GraphNodeOut, target: GraphNodeOut, kind: str) -> GraphEdgeOut:
    return GraphEdgeOut(source=source.id, target=target.id, kind=kind)  # type: ignore[arg-type]


@pytest.fixture
def small() -> tuple[list[GraphNodeOut], list[GraphEdgeOut], CreditTableOut]:
    """alice 1.0 → 0.5; bob builds on her second (copy) → 0.4; carol merges both → 0.35."""
    a1 = node(1, "alice", 1.0, flags=["start"])
    a2 = node(2, "alice", 0.5, credit=0.5, flags=["new-best"])
    b1 = node(3, "bob", 0.4, credit=0.1, flags=["copy", "new-best"])
    c1 = node(4, "carol", 0.35, credit=0.05, flags=["merge", "new-best"])
    edges = [edge(a1, a2, "parent"), edge(a2, b1, "copy"), edge(a2, c1, "merge"), edge(b1, c1, "merge")]
    return [a1, a2, b1, c1], edges, credit_table([("alice", 0.5, 1), ("bob", 0.1, 1), ("carol", 0.05, 1)])


def crowd(count: int, people: int) -> list[GraphNodeOut]:
    """``count`` versions a minute apart, by ``people`` people in turn, slowly improving."""
    return [
        node(i, f"p{i % people:02d}", 1.0 - i / (2 * count), credit=0.01 if i % 50 == 0 else 0.0)
        for i in range(count)
    ]


# --- the level of detail ------------------------------------------------------------------------


def test_few_versions_are_drawn_each_many_are_grouped_until_zoomed_in():
    nodes = crowd(3000, people=20)
    people = zoom.leading(nodes)
    whole = zoom.view(nodes, maximize=False, people=people, max_nodes=1000, buckets=10)
    assert whole.grouped and whole.total == 3000 and not whole.nodes
    assert sum(g.count for g in whole.groups) == 3000
    assert {g.person for g in whole.groups} == {*people, zoom.OTHERS} and len(people) == zoom.LEADING
    assert len(whole.groups) == 10 * (zoom.LEADING + 1)
    assert sum(g.credit for g in whole.groups) == pytest.approx(sum(zoom.credit_of(n) for n in nodes))
    first = whole.groups[0]  # the first bucket's groups come first, in people's order
    assert (first.person, first.start, first.end) == (people[0], T0, T0 + (whole.end - T0) / 10)
    mine = [n for n in nodes if n.time < first.end and zoom.person_of(n) == people[0]]
    assert first.best == min(n.score for n in mine) and first.best_node == mine[-1].id  # minimised
    zoomed = zoom.view(nodes, maximize=False, people=people, start=T0, end=T0 + timedelta(minutes=499))
    assert (
        not zoomed.grouped
        and zoomed.total == 500
        and [n.submission for n in zoomed.nodes] == list(range(500))
    )


def test_a_group_of_invalidated_versions_has_no_best_and_maximising_takes_the_largest():
    nodes = [
        node(1, "al", None),
        node(2, "al", None),
        node(3, "bo", 0.2),
        node(4, "bo", 0.7),
        node(5, "bo", 0.5),
    ]
    groups = zoom.group(nodes, T0, T0 + timedelta(minutes=5), ["al", "bo"], maximize=True, buckets=1)
    assert [(g.person, g.count, g.best, g.best_node) for g in groups] == [
        ("al", 2, None, None),
        ("bo", 3, 0.7, nodes[3].id),
    ]


def test_leading_people_are_the_credit_tables_first_then_the_busiest():
    nodes = [node(i, person, 1.0) for i, person in enumerate(["x", "y", "y", "z", "z", "z", "w"])]
    assert zoom.leading(nodes, ["w", "nobody"], k=3) == ["w", "z", "y"]


def test_the_best_so_far_steps_only_when_the_phase_improves():
    nodes = [node(1, "a", 0.9), node(2, "a", 0.95), node(3, "b", 0.5), node(4, "b", None), node(5, "c", 0.4)]
    assert zoom.best_so_far(nodes, maximize=False) == [
        (nodes[0].time, 0.9),
        (nodes[2].time, 0.5),
        (nodes[4].time, 0.4),
    ]
    assert zoom.best_so_far(nodes, maximize=True) == [(nodes[0].time, 0.9), (nodes[1].time, 0.95)]


# --- the figure --------------------------------------------------------------------------------


def test_the_figure_draws_edges_by_kind_the_best_so_far_and_a_trace_per_person(small):
    nodes, edges, table = small
    shown = graph.GraphPage(challenge(), challenge().phases[0], table, nodes, edges)
    data = {trace.name: trace for trace in shown.figure.data}
    assert list(data) == ["git parent", "merge parent", "copied from", "best so far", "alice", "bob", "carol"]
    assert len(data["merge parent"].x) == 6 and data["merge parent"].line.dash == "dash"  # 2 segments
    assert data["copied from"].line.dash == "dot" and data["git parent"].line.dash == "solid"
    assert list(data["best so far"].y) == [1.0, 0.5, 0.4, 0.35] and data["best so far"].line.shape == "hv"
    symbols = [data[who].marker.symbol for who in ("alice", "bob", "carol")]
    colours = [data[who].marker.color for who in ("alice", "bob", "carol")]
    assert len(set(symbols)) == 3 and len(set(colours)) == 3  # colour is never the only carrier
    alice_sizes = list(data["alice"].marker.size)
    assert alice_sizes == [graph.SIZES[0], graph.SIZES[1]]  # no credit; the largest credit
    assert graph.SIZES[0] < data["carol"].marker.size[0] < data["bob"].marker.size[0] < graph.SIZES[1]
    hover = unescape(data["bob"].hovertext[0])
    assert nodes[2].commit[:10] in hover and "by bob" in hover
    assert "main.rmse 0.4 (Δ +0.1)" in hover and "credit: bob +0.1" in hover and "copy, new-best" in hover
    assert "All 4 versions of the phase." in shown.detail.value


def clicked(shown: graph.GraphPage, trace_name: str, point: int) -> None:
    """A click as plotly's front end reports it to the kernel."""
    index = [trace.name for trace in shown.figure.data].index(trace_name)
    shown.figure._handler_js2py_pointsCallback(
        {
            "new": {
                "event_type": "plotly_click",
                "points": {"xs": [0], "ys": [0], "point_indexes": [point], "trace_indexes": [index]},
                "device_state": None,
                "selector": None,
            }
        }
    )


def test_a_click_on_a_version_shows_its_notebook_and_diff_links(small):
    nodes, edges, table = small
    shown = graph.GraphPage(challenge(), challenge().phases[0], table, nodes, edges)
    assert "Click a version" in shown.links.value
    clicked(shown, "bob", 0)
    assert page.notebook_link(3) in shown.links.value and page.diff_link(3) in shown.links.value
    assert "Open its executed notebook" in shown.links.value and nodes[2].commit[:10] in shown.links.value
    clicked(shown, "best so far", 0)  # a line: nothing changes
    assert page.notebook_link(3) in shown.links.value


def test_a_large_phase_starts_grouped_and_a_click_on_a_group_zooms_into_it():
    nodes = crowd(3000, people=20)
    table = credit_table([(f"p{i:02d}", 0.01, 3) for i in range(20)])
    shown = graph.GraphPage(challenge(), challenge().phases[0], table, nodes, [])
    assert shown.view is not None and shown.view.grouped
    assert "3,000 versions in this window are drawn as" in shown.detail.value
    names = [trace.name for trace in shown.figure.data]
    assert names[0] == "best so far" and "p00 (grouped)" in names and "others (grouped)" in names
    clicked(shown, "p00 (grouped)", 0)  # the first bucket: 75 minutes, 75 versions
    assert not shown.view.grouped and shown.view.total == 75
    assert [t.name for t in shown.figure.data][1:] == [f"p{i:02d}" for i in range(12)] + ["others"]
    assert "75 of 3,000 versions in this window" in shown.detail.value
    shown.figure.layout.xaxis.range = ["2026-03-01 00:00:00", "2026-03-03 05:00:00"]  # zoomed out
    assert shown.view.grouped and shown.view.total == 3000


def test_the_credit_table_gives_share_and_the_versions_that_earned_it(small):
    nodes, _, table = small
    more = [node(10 + i, "alice", 0.9, credit=0.001 * (i + 1)) for i in range(4)]
    table = credit_table([("alice", 0.504, 5), ("bob", 0.1, 1), ("carol", 0.05, 1)])
    html = graph.credit_table(table, nodes + more)
    rows = [
        [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", html)
    ]
    assert rows[0] == ["person", "credit", "share", "versions that earned it"]
    assert rows[1] == [
        "alice",
        "0.504",
        "77.1%",
        f"{nodes[1].commit[:7]}, {more[3].commit[:7]}, {more[2].commit[:7]} +2 more",
    ]
    assert rows[3][:3] == ["carol", "0.05", "7.6%"]
    assert page.notebook_link(nodes[1].submission) in html and page.profile_link("bob") in html
