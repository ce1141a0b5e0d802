"""The contribution graph page (``graph.ipynb?id=<challenge>&phase=<phase>&board=<board>``): the
phase's scored notebook versions over time (y: the board's primary column), the best so far,
edges to git parents, merge parents and copied originals; a mark's size is its credit, its
colour and its symbol the person (named in the legend and on hover). A click on a version
shows the links to its notebook and its diff; a click on a group zooms into it. Large phases
start grouped (:mod:`.zoom`). Beside the graph, the credit table.

The figure is plotly's ``FigureWidget`` (an anywidget: its JavaScript comes with the widget's
state from the kernel, never from a CDN).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from coop_client.client import CoopClient
from coop_client.models import ChallengeOut, CreditTableOut, GraphEdgeOut, GraphNodeOut, PhaseOut
from coop_widgets.dashboards import page, zoom
from coop_widgets.dashboards.rewards import phase_of

#: The largest page the graph route gives.
GRAPH_PAGE = 5000
#: Rows of the credit table shown (the largest credits).
CREDIT_ROWS = 100
#: Versions named in a credit row (the largest credits first).
EARNED_SHOWN = 3
#: Marker diameters in pixels: no credit, the largest credit.
SIZES = (7.0, 30.0)
PALETTE = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
    "#8c564b", "#e377c2", "#bcbd22", "#393b79", "#637939", "#843c39",
)  # fmt: skip
SYMBOLS = (
    "circle", "square", "diamond", "triangle-up", "cross", "x", "star",
    "triangle-down", "pentagon", "hexagon", "hourglass", "bowtie",
)  # fmt: skip
OTHERS_STYLE = ("#9e9e9e", "circle-open")
EDGES = {  # kind: legend name, colour, dash
    "parent": ("git parent", "#b0b0b0", "solid"),
    "merge": ("merge parent", "#555555", "dash"),
    "copy": ("copied from", "#7b1fa2", "dot"),
}


def main() -> None:
    """Display the page the address asks for."""
    page.show(lambda: render(page.query()), current="graph", missing="challenge")


def render(params: Mapping[str, str]) -> widgets.Widget:
    """The page for the address's ``id``, ``phase`` and ``board``."""
    challenge_id = page.need(params, "id", "challenge")
    with page.client() as client:
        challenge = client.challenge(challenge_id)
        phase = phase_of(challenge, params.get("phase"))
        board = params.get("board") or None
        if board is not None and board not in phase.leaderboards:
            raise page.NotFound("leaderboard", board)
        table = client.credit(challenge.id, phase.id, board=board)
        nodes, edges = fetch_graph(client, challenge.id, phase.id, board)
    return GraphPage(challenge, phase, table, nodes, edges)


def fetch_graph(
    client: CoopClient, challenge_id: str, phase_id: str, board: str | None
) -> tuple[list[GraphNodeOut], list[GraphEdgeOut]]:
    """Every version of the phase and every edge, a page at a time."""
    nodes: list[GraphNodeOut] = []
    edges: list[GraphEdgeOut] = []
    offset: int | None = 0
    while offset is not None:
        found = client.contribution_graph(
            challenge_id, phase_id, board=board, offset=offset, limit=GRAPH_PAGE
        )
        nodes += found.nodes
        edges += found.edges
        offset = found.next_offset
    return nodes, edges


class GraphPage(widgets.VBox):
    """The page: its title and links, the figure with its link panel, and the credit table."""

    def __init__(
        self,
        challenge: ChallengeOut,
        phase: PhaseOut,
        table: CreditTableOut,
        nodes: list[GraphNodeOut],
        edges: list[GraphEdgeOut],
    ) -> None:
        self.table, self.nodes, self.edges = table, nodes, edges
        self.maximize = table.direction == "maximize"
        self.by_id = {node.id: node for node in nodes}
        self.people = zoom.leading(nodes, [row.person for row in table.rows])
        self.best = zoom.best_so_far(nodes, maximize=self.maximize)
        self.figure = go.FigureWidget(layout=layout(table))
        self.detail = widgets.HTML()
        self.links = widgets.HTML(click_prompt())
        self.links.add_class("coop-links")
        self.view: zoom.View | None = None
        self.marks: list[list[Any]] = []  # per trace: the node or group of each point
        credit = widgets.HTML(credit_table(table, nodes))
        graph = widgets.VBox([self.figure, self.detail, self.links], layout=widgets.Layout(flex="3 1 640px"))
        super().__init__(
            [
                widgets.HTML(heading(challenge, phase, table, len(nodes))),
                widgets.HBox(
                    [graph, widgets.Box([credit], layout=widgets.Layout(flex="2 1 360px", overflow="auto"))],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
                ),
            ]
        )
        self.draw()
        self.figure.layout.xaxis.on_change(self._zoomed, "range")

    def draw(self, start: datetime | None = None, end: datetime | None = None) -> None:
        """Draw the window ``start``–``end`` (default: the whole phase) at its level of detail."""
        self.view = zoom.view(self.nodes, maximize=self.maximize, start=start, end=end, people=self.people)
        traces, self.marks = traces_of(self.view, self.edges, self.by_id, self.people, self.best, self.table)
        with self.figure.batch_update():
            self.figure.data = []
            self.figure.add_traces(traces)
        for trace in self.figure.data:
            trace.on_click(self._clicked)
        self.detail.value = detail_note(self.view, len(self.nodes))

    def select(self, mark: GraphNodeOut | zoom.Group) -> None:
        """A click on ``mark``: a version's links, or a group zoomed into."""
        if isinstance(mark, zoom.Group):
            self.figure.layout.xaxis.range = [_plotted(mark.start), _plotted(mark.end)]
            return
        self.links.value = node_links(mark, self.table)

    def _clicked(self, trace: Any, points: Any, _state: Any) -> None:
        index = next((i for i, shown in enumerate(self.figure.data) if shown is trace), None)
        if index is None or not points.point_inds or points.point_inds[0] >= len(self.marks[index]):
            return  # another trace's click, or a line's
        self.select(self.marks[index][points.point_inds[0]])

    def _zoomed(self, _axis: Any, window: Sequence[str | datetime] | None) -> None:
        if not window or self.view is None:
            return
        start, end = (_parsed(value) for value in window)
        if (start, end) == (self.view.start, self.view.end):
            return
        shown = zoom.view(self.nodes, maximize=self.maximize, start=start, end=end, people=self.people)
        if not shown.grouped and not self.view.grouped and shown.total == self.view.total:
            self.view = shown  # the same versions: nothing to draw again
            return
        self.draw(start, end)
        self.figure.layout.xaxis.range = list(window)


def layout(table: CreditTableOut) -> dict[str, Any]:
    arrow = "higher is better" if table.direction == "maximize" else "lower is better"
    return {
        "height": 520,
        "margin": {"l": 60, "r": 10, "t": 30, "b": 50},
        "xaxis": {"title": {"text": "commit time (UTC)"}, "type": "date"},
        "yaxis": {"title": {"text": f"{table.measure} ({table.split}, {arrow})"}},
        "legend": {"orientation": "h", "y": -0.15},
        "hovermode": "closest",
        "clickmode": "event",
        "dragmode": "zoom",
        "template": "plotly_white",
    }


def traces_of(
    view: zoom.View,
    edges: Sequence[GraphEdgeOut],
    by_id: Mapping[str, GraphNodeOut],
    people: Sequence[str],
    best: Sequence[tuple[datetime, float]],
    table: CreditTableOut,
) -> tuple[list[go.Scatter], list[list[Any]]]:
    """The figure's traces for ``view`` and, for each, the node or group behind each point."""
    traces: list[go.Scatter] = []
    marks: list[list[Any]] = []  # lines are not clicked: no marks
    if not view.grouped:
        for trace in edge_traces(view.nodes, edges, by_id).values():
            traces.append(trace)
            marks.append([])
    traces.append(
        go.Scatter(
            x=[_plotted(time) for time, _ in best],
            y=[value for _, value in best],
            mode="lines",
            line={"shape": "hv", "color": "#000000", "width": 2},
            name="best so far",
            hoverinfo="skip",
        )
    )
    marks.append([])
    largest = max((zoom.credit_of(node) for node in view.nodes), default=0.0)
    largest = max([largest, *(group.credit for group in view.groups)])
    for index, person in enumerate([*people, zoom.OTHERS]):
        colour, symbol = style(index, len(people))
        if view.grouped:
            mine_groups = [group for group in view.groups if group.person == person]
            if mine_groups:
                traces.append(group_trace(person, mine_groups, colour, symbol, largest))
                marks.append(list(mine_groups))
            continue
        mine = [node for node in view.nodes if _drawn_as(node, people) == person and node.score is not None]
        if mine:
            traces.append(node_trace(person, mine, colour, symbol, largest, table))
            marks.append(list(mine))
    return traces, marks


def style(index: int, leading: int) -> tuple[str, str]:
    """The colour and symbol of the ``index``-th person (past ``leading``: the others')."""
    if index >= leading:
        return OTHERS_STYLE
    return PALETTE[index % len(PALETTE)], SYMBOLS[index % len(SYMBOLS)]


def size(credit: float, largest: float) -> float:
    """A marker's diameter: its area grows with its credit."""
    if largest <= 0 or credit <= 0:
        return SIZES[0]
    return SIZES[0] + (SIZES[1] - SIZES[0]) * math.sqrt(credit / largest)


def node_trace(
    person: str,
    nodes: Sequence[GraphNodeOut],
    colour: str,
    symbol: str,
    largest: float,
    table: CreditTableOut,
) -> go.Scatter:
    return go.Scatter(
        x=[_plotted(node.time) for node in nodes],
        y=[node.score for node in nodes],
        mode="markers",
        name=person,
        marker={
            "color": colour,
            "symbol": symbol,
            "size": [size(zoom.credit_of(node), largest) for node in nodes],
            "line": {"width": 1, "color": "#ffffff"},
        },
        hovertext=[hover(node, table) for node in nodes],
        hoverinfo="text",
    )


def group_trace(
    person: str, groups: Sequence[zoom.Group], colour: str, symbol: str, largest: float
) -> go.Scatter:
    return go.Scatter(
        x=[_plotted(group.time) for group in groups],
        y=[group.best for group in groups],
        mode="markers",
        name=f"{person} (grouped)",
        marker={
            "color": colour,
            "symbol": symbol,
            "size": [size(group.credit, largest) for group in groups],
            "line": {"width": 1, "color": "#ffffff"},
        },
        hovertext=[
            f"{page.text(person)}: {group.count} versions<br>{_day(group.start)} – {_day(group.end)}"
            f"<br>best {_value(group.best)} · credit {group.credit:.4g}<br>click to zoom in"
            for group in groups
        ],
        hoverinfo="text",
    )


def edge_traces(
    nodes: Sequence[GraphNodeOut], edges: Sequence[GraphEdgeOut], by_id: Mapping[str, GraphNodeOut]
) -> dict[str, go.Scatter]:
    """One line trace per edge kind, between the drawn versions (a parent out of the window is
    drawn where it is, so the line leaves the window)."""
    drawn = {node.id for node in nodes if node.score is not None}
    points: dict[str, tuple[list[Any], list[Any]]] = defaultdict(lambda: ([], []))
    for edge in edges:
        source, target = by_id.get(edge.source), by_id.get(edge.target)
        if source is None or target is None or source.score is None or target.score is None:
            continue
        if edge.target not in drawn and edge.source not in drawn:
            continue
        xs, ys = points[edge.kind]
        xs += [_plotted(source.time), _plotted(target.time), None]
        ys += [source.score, target.score, None]
    traces = {}
    for kind, (name, colour, dash) in EDGES.items():
        if kind in points:
            xs, ys = points[kind]
            traces[kind] = go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=name,
                line={"color": colour, "dash": dash, "width": 1},
                hoverinfo="skip",
            )
    return traces


def hover(node: GraphNodeOut, table: CreditTableOut) -> str:
    """Commit, people, notebook, score with its change over its parents' best, and credit."""
    people = ", ".join(node.people) or zoom.UNATTRIBUTED
    credit = ", ".join(f"{who} {amount:+.4g}" for who, amount in node.credit.items() if amount) or "none"
    flags = f"<br>{page.text(', '.join(node.flags))}" if node.flags else ""
    return (
        f"commit {page.text(node.commit[:10])} · {page.text(node.notebook)}<br>"
        f"by {page.text(people)}<br>"
        f"{page.text(table.measure)} {_value(node.score)} (Δ {node.increment:+.4g})<br>"
        f"credit: {page.text(credit)}{flags}"
    )


def node_links(node: GraphNodeOut, table: CreditTableOut) -> str:
    """The panel a click on a version fills: what it is and links to its notebook and diff."""
    people = ", ".join(page.anchor(page.profile_link(who), who) for who in node.people) or page.text(
        zoom.UNATTRIBUTED
    )
    return (
        f'<div role="status" aria-live="polite"><b>Commit <code>{page.text(node.commit[:10])}</code></b> · '
        f"{page.text(node.notebook)} · by {people} · {page.text(table.measure)} {_value(node.score)} "
        f"(Δ {node.increment:+.4g}) · credit {zoom.credit_of(node):.4g}<br>"
        f"{page.anchor(page.notebook_link(node.submission), 'Open its executed notebook')} · "
        f"{page.anchor(page.diff_link(node.submission), 'Its diff to its parent')}</div>"
    )


def click_prompt() -> str:
    return '<div role="status" aria-live="polite">Click a version to open its notebook and its diff.</div>'


def detail_note(view: zoom.View, total: int) -> str:
    """Says what the figure draws: every version, or groups until zoomed in."""
    if view.grouped:
        return (
            f"<p>{view.total:,} versions in this window are drawn as {len(view.groups):,} groups (by person "
            f"and by time); click a group or drag across the time axis to zoom in until each version is "
            f"drawn (at most {zoom.MAX_NODES:,}). Double-click to zoom out.</p>"
        )
    if view.total < total:
        return f"<p>{view.total:,} of {total:,} versions in this window, each drawn. Double-click: all.</p>"
    return f"<p>All {total:,} versions of the phase.</p>"


def heading(challenge: ChallengeOut, phase: PhaseOut, table: CreditTableOut, count: int) -> str:
    boards = " · ".join(
        f'<span aria-current="page"><b>{page.text(key)}</b></span>'
        if key == table.leaderboard
        else page.anchor(page.link("graph", id=challenge.id, phase=phase.id, board=key), key)
        for key in phase.leaderboards
    )
    phases = " · ".join(
        f'<span aria-current="page"><b>{page.text(p.title)}</b></span>'
        if p.id == phase.id
        else page.anchor(page.link("graph", id=challenge.id, phase=p.id), p.title)
        for p in challenge.phases
    )
    more = " · ".join(
        [
            page.anchor(page.link("challenge", id=challenge.id, phase=phase.id), "leaderboards"),
            page.anchor(page.link("rewards", id=challenge.id, phase=phase.id), "rewards"),
        ]
    )
    return (
        f'<div class="coop-dash"><h1>Contribution graph · {page.text(challenge.title)}</h1>'
        f'<nav aria-label="Phases and boards"><p>Phases: {phases}</p><p>Boards: {boards}</p>'
        f"<p>See also: {more}</p></nav>"
        f"<p>{count:,} scored notebook versions. Credit is the gain each brought to the best "
        f"{page.text(table.measure)} along the commit graph "
        f"(noise threshold {table.noise_threshold:g}).</p></div>"
    )


def credit_table(table: CreditTableOut, nodes: Sequence[GraphNodeOut]) -> str:
    """Person, credit, share of the total and the versions that earned it (the largest first)."""
    earned: dict[str, list[tuple[float, GraphNodeOut]]] = defaultdict(list)
    for node in nodes:
        for who, amount in node.credit.items():
            if amount > 0:
                earned[who].append((amount, node))
    rows = []
    for row in table.rows[:CREDIT_ROWS]:
        share = f"{row.credit / table.total:.1%}" if table.total else "—"
        best = sorted(earned.get(row.person, []), key=lambda item: -item[0])
        links = [
            page.anchor(page.notebook_link(node.submission), node.commit[:7], title=f"{amount:+.4g}")
            for amount, node in best[:EARNED_SHOWN]
        ]
        more = f" +{row.versions - len(links)} more" if row.versions > len(links) else ""
        person = page.anchor(page.profile_link(row.person), row.person)
        rows.append([person, f"{row.credit:.4g}", share, ", ".join(links) + page.text(more)])
    if not rows:
        return '<div class="coop-dash"><h2>Credit</h2><p>No version has earned credit yet.</p></div>'
    shown = (
        f"<p>The {CREDIT_ROWS} largest of {len(table.rows):,}.</p>" if len(table.rows) > CREDIT_ROWS else ""
    )
    headers = ["person", "credit", "share", "versions that earned it"]
    return (
        f'<div class="coop-dash"><h2>Credit</h2><p>Total {table.total:.4g} on {page.text(table.measure)}.</p>'
        f"{page.table(headers, rows, numeric=[1, 2])}{shown}</div>"
    )


def _drawn_as(node: GraphNodeOut, people: Sequence[str]) -> str:
    person = zoom.person_of(node)
    return person if person in people else zoom.OTHERS


def _plotted(time: datetime) -> datetime:
    """Plotly draws naive times: UTC without its zone."""
    return time.astimezone(UTC).replace(tzinfo=None)


def _parsed(value: str | datetime) -> datetime:
    """An axis end (naive UTC: plotly's string from the browser, or what we set), aware again."""
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).replace(tzinfo=UTC)


def _day(time: datetime) -> str:
    return time.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
