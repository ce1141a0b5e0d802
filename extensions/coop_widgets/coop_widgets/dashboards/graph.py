"""The contribution graph page (``graph.ipynb?id=<challenge>&phase=<phase>&board=<board>``): the
phase's scored notebook versions over time (y: the board's primary column), the best so far,
edges to git parents, merge parents and copied originals; a mark's size is its credit, its
colour and its symbol the person (named in the legend and on hover). A click on a version
shows the links to its notebook and its diff; a click on a group zooms into it. The service
says what to draw of each time window (``…/graph/overview``: each version when few enough are
in it, else groups by person and time bucket), so a 100k-version phase starts grouped and the
kernel never holds it whole. Beside the graph, the credit table.

The figure is a :class:`~coop_widgets.dashboards.plot.Plot`: plotly.js from the host, traces
as plain dicts. Until plotly.js has drawn it, the page's first render (:func:`first_html`, see
:mod:`.first_render`) shows the heading and the same traces as a static SVG.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets

from coop_client.models import (
    ChallengeOut,
    CreditCommitOut,
    CreditTableOut,
    GraphEdgeOut,
    GraphGroupOut,
    GraphNodeOut,
    GraphOverviewOut,
    PhaseOut,
)
from coop_widgets.dashboards import first_render, page
from coop_widgets.dashboards.challenge import chosen_phase
from coop_widgets.dashboards.plot import DRAWN, Plot, snapshot

#: Rows of the credit table shown (the largest credits).
CREDIT_ROWS = 100
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
#: The service's names: the group of everyone not drawn on their own; a version nobody verified.
OTHERS = "others"
UNATTRIBUTED = "(unattributed)"
EDGES = {  # kind: legend name, colour, dash
    "parent": ("git parent", "#b0b0b0", "solid"),
    "merge": ("merge parent", "#555555", "dash"),
    "copy": ("copied from", "#7b1fa2", "dot"),
}


#: A plotly.js trace, as plain data.
Trace = dict[str, Any]
#: A time window of the x axis as plotly.js writes it (naive UTC).
Range = tuple[str, str]


def main() -> None:
    """Display the page the address asks for."""
    page.show(lambda: render(page.query()), current="graph", missing="challenge")


def render(params: Mapping[str, str]) -> widgets.Widget:
    """The page for the address's ``id``, ``phase`` and ``board``."""
    challenge_id = page.need(params, "id", "challenge")
    client = page.client()  # kept open: each zoom asks the service what to draw
    try:
        challenge = client.challenge(challenge_id)
        phase = chosen_phase(challenge, params.get("phase"), datetime.now(UTC))
        board = params.get("board") or None
        if board is not None and board not in phase.leaderboards:
            raise page.NotFound("leaderboard", board)
        table = client.credit(challenge.id, phase.id, board=board)
        first = client.graph_overview(challenge.id, phase.id, board=board)
    except BaseException:
        client.close()
        raise

    def window(start: datetime, end: datetime) -> GraphOverviewOut:
        return client.graph_overview(challenge.id, phase.id, board=board, start=start, end=end)

    first_render.show(first_html(challenge, phase, table, first))

    shown = GraphPage(challenge, phase, table, first, window)
    shown.on_close = client.close
    return shown


#: What a zoom asks the service: the window ``start``–``end`` at its level of detail.
Window = Callable[[datetime, datetime], GraphOverviewOut]


class GraphPage(widgets.VBox):
    """The page: its title and links, the figure with its link panel, and the credit table."""

    def __init__(
        self,
        challenge: ChallengeOut,
        phase: PhaseOut,
        table: CreditTableOut,
        first: GraphOverviewOut,
        window: Window,
    ) -> None:
        self.table, self.window, self.whole, self.shown = table, window, first, first
        self.on_close: Callable[[], None] | None = None
        traces, self.marks = traces_of(first, table)
        self.figure = Plot(data=traces, layout=layout(table))
        self.detail = widgets.HTML()
        self.links = widgets.HTML(click_prompt())
        credit = widgets.HTML(credit_table(table, first.earned))
        graph = widgets.VBox([self.figure, self.detail, self.links], layout=widgets.Layout(flex="3 1 640px"))
        super().__init__(
            [
                widgets.HTML(heading(challenge, phase, table, first.phase_total)),
                widgets.HBox(
                    [graph, widgets.Box([credit], layout=widgets.Layout(flex="2 1 360px", overflow="auto"))],
                    layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"),
                ),
            ]
        )
        self._shown(first)
        self.figure.on_click(self._clicked)
        self.figure.on_zoom(self.zoom)

    def draw(self, shown: GraphOverviewOut, window: Range | None = None) -> None:
        """Draw a window as the service gave it, the x axis on ``window`` (none: all of it)."""
        traces, self.marks = traces_of(shown, self.table)
        self.figure.draw(traces, layout(self.table, window))
        self._shown(shown)

    def _shown(self, shown: GraphOverviewOut) -> None:
        self.shown = shown
        self.detail.value = detail_note(shown)

    def zoom(self, window: Range | None) -> None:
        """Draw what the service gives for ``window``; ``None`` (a double-click): the whole phase."""
        if window is None:
            if self.shown is not self.whole:
                self.draw(self.whole)
            return
        start, end = (_parsed(value) for value in window)
        if (start, end) != (self.shown.start, self.shown.end):
            self.draw(self.window(start, end), window)

    def select(self, mark: GraphNodeOut | GraphGroupOut) -> None:
        """A click on ``mark``: a version's links, or a group zoomed into."""
        if isinstance(mark, GraphGroupOut):
            self.zoom((_plotted(mark.start), _plotted(mark.end)))
            return
        self.links.value = node_links(mark, self.table)

    def close(self) -> None:
        if self.on_close is not None:
            self.on_close()
        super().close()

    def _clicked(self, trace: int, point: int) -> None:
        if trace < len(self.marks) and point < len(self.marks[trace]):  # not a line's
            self.select(self.marks[trace][point])


#: The axes' look (plotly's "plotly_white", which plotly.js alone does not name).
AXIS = {"gridcolor": "#ebf0f8", "zeroline": False, "linecolor": "#444444", "ticks": "outside"}


def layout(table: CreditTableOut, window: Range | None = None) -> dict[str, Any]:
    """The figure's layout; the x axis on ``window``, else on all the data."""
    arrow = "higher is better" if table.direction == "maximize" else "lower is better"
    xaxis = {**AXIS, "title": {"text": "commit time (UTC)"}, "type": "date"}
    if window is not None:
        xaxis["range"] = list(window)
    return {
        "height": 520,
        "margin": {"l": 60, "r": 10, "t": 30, "b": 50},
        "xaxis": xaxis,
        "yaxis": {**AXIS, "title": {"text": f"{table.measure} ({table.split}, {arrow})"}},
        "legend": {"orientation": "h", "y": -0.15},
        "hovermode": "closest",
        "clickmode": "event",
        "dragmode": "zoom",
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }


def traces_of(
    shown: GraphOverviewOut, table: CreditTableOut
) -> tuple[list[Trace], list[list[GraphNodeOut | GraphGroupOut]]]:
    """The figure's traces for a window and, for each, the version or group behind each point
    (lines are not clicked: none)."""
    traces: list[Trace] = [*edge_traces(shown.nodes, shown.edges).values()]
    marks: list[list[GraphNodeOut | GraphGroupOut]] = [[] for _ in traces]
    traces.append(
        {
            "type": "scatter",
            "x": [_plotted(point.time) for point in shown.best],
            "y": [point.value for point in shown.best],
            "mode": "lines",
            "line": {"shape": "hv", "color": "#000000", "width": 2},
            "name": "best so far",
            "hoverinfo": "skip",
        }
    )
    marks.append([])
    largest = max(
        [0.0, *(credit_of(node) for node in shown.nodes), *(group.credit for group in shown.groups)]
    )
    for index, person in enumerate([*shown.people, OTHERS]):
        colour, symbol = style(index, len(shown.people))
        groups = [group for group in shown.groups if group.person == person]
        if groups:
            traces.append(group_trace(person, groups, colour, symbol, largest))
            marks.append(list(groups))
        mine = [
            node for node in shown.nodes if drawn_as(node, shown.people) == person and node.score is not None
        ]
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
) -> Trace:
    return {
        "type": "scatter",
        "x": [_plotted(node.time) for node in nodes],
        "y": [node.score for node in nodes],
        "mode": "markers",
        "name": person,
        "marker": {
            "color": colour,
            "symbol": symbol,
            "size": [size(credit_of(node), largest) for node in nodes],
            "line": {"width": 1, "color": "#ffffff"},
        },
        "hovertext": [hover(node, table) for node in nodes],
        "hoverinfo": "text",
    }


def group_trace(
    person: str, groups: Sequence[GraphGroupOut], colour: str, symbol: str, largest: float
) -> Trace:
    return {
        "type": "scatter",
        "x": [_plotted(group.start + (group.end - group.start) / 2) for group in groups],
        "y": [group.best for group in groups],
        "mode": "markers",
        "name": f"{person} (grouped)",
        "marker": {
            "color": colour,
            "symbol": symbol,
            "size": [size(group.credit, largest) for group in groups],
            "line": {"width": 1, "color": "#ffffff"},
        },
        "hovertext": [
            f"{page.text(person)}: {group.count} versions<br>{_day(group.start)} – {_day(group.end)}"
            f"<br>best {_value(group.best)} · credit {group.credit:.4g}<br>click to zoom in"
            for group in groups
        ],
        "hoverinfo": "text",
    }


def edge_traces(nodes: Sequence[GraphNodeOut], edges: Sequence[GraphEdgeOut]) -> dict[str, Trace]:
    """One line trace per edge kind, between the versions drawn (with a score)."""
    by_id = {node.id: node for node in nodes if node.score is not None}
    points: dict[str, tuple[list[Any], list[Any]]] = defaultdict(lambda: ([], []))
    for edge in edges:
        source, target = by_id.get(edge.source), by_id.get(edge.target)
        if source is None or target is None:
            continue
        xs, ys = points[edge.kind]
        xs += [_plotted(source.time), _plotted(target.time), None]
        ys += [source.score, target.score, None]
    traces = {}
    for kind, (name, colour, dash) in EDGES.items():
        if kind in points:
            xs, ys = points[kind]
            traces[kind] = {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "name": name,
                "line": {"color": colour, "dash": dash, "width": 1},
                "hoverinfo": "skip",
            }
    return traces


def hover(node: GraphNodeOut, table: CreditTableOut) -> str:
    """Commit, people, notebook, score with its change over its parents' best, and credit."""
    people = ", ".join(node.people) or UNATTRIBUTED
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
        UNATTRIBUTED
    )
    return (
        f'<div role="status" aria-live="polite"><b>Commit <code>{page.text(node.commit[:10])}</code></b> · '
        f"{page.text(node.notebook)} · by {people} · {page.text(table.measure)} {_value(node.score)} "
        f"(Δ {node.increment:+.4g}) · credit {credit_of(node):.4g}<br>"
        f"{page.anchor(page.notebook_link(node.submission), 'Open its executed notebook')} · "
        f"{page.anchor(page.diff_link(node.submission), 'Its diff to its parent')}</div>"
    )


def click_prompt() -> str:
    return '<div role="status" aria-live="polite">Click a version to open its notebook and its diff.</div>'


def detail_note(shown: GraphOverviewOut) -> str:
    """Says what the figure draws: every version, or groups until zoomed in."""
    if shown.groups:
        return (
            f"<p>{shown.total:,} versions in this window are drawn as {len(shown.groups):,} groups (by "
            f"person and by time); click a group or drag across the time axis to zoom in until each "
            f"version is drawn. Double-click: the whole phase.</p>"
        )
    if shown.total < shown.phase_total:
        window = f"{shown.total:,} of {shown.phase_total:,} versions in this window"
        return f"<p>{window}, each drawn (double-click: all).</p>"
    return f"<p>All {shown.phase_total:,} versions of the phase.</p>"


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


def first_html(
    challenge: ChallengeOut, phase: PhaseOut, table: CreditTableOut, first: GraphOverviewOut
) -> str:
    """The page as the browser draws it before plotly.js has (:mod:`.first_render`): the heading
    and the whole-phase overview as a static SVG of the figure's own traces (at most
    :data:`~coop_widgets.dashboards.plot.SNAPSHOT_MARKS` marks, the largest credits); replaced by
    the live figure once plotly.js has drawn it."""
    traces, _ = traces_of(first, table)
    svg, drawn, total = snapshot(traces, layout(table))
    marks = f"{total:,} marks" if drawn == total else f"the {drawn:,} largest of {total:,} marks"
    what = f"{len(first.groups):,} groups of versions" if first.groups else f"{first.total:,} versions"
    note = (
        f'<p class="coop-first-note">The whole phase ({what}; {marks} drawn): the interactive '
        "graph is loading…</p>"
    )
    return first_render.page_html(
        "graph", heading(challenge, phase, table, first.phase_total) + svg + note, DRAWN
    )


def credit_table(table: CreditTableOut, earned: Mapping[str, Sequence[CreditCommitOut]]) -> str:
    """Person, credit, share of the total and the versions that earned it (the largest first)."""
    rows = []
    for row in table.rows[:CREDIT_ROWS]:
        share = f"{row.credit / table.total:.1%}" if table.total else "—"
        links = [
            page.anchor(page.notebook_link(found.submission), found.commit[:7], title=f"{found.credit:+.4g}")
            for found in earned.get(row.person, [])
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


def credit_of(node: GraphNodeOut) -> float:
    return sum(node.credit.values())


def drawn_as(node: GraphNodeOut, people: Sequence[str]) -> str:
    """Whose colour a version takes: its pusher's, if drawn on their own, else the others'."""
    person = node.people[0] if node.people else UNATTRIBUTED
    return person if person in people else OTHERS


def _plotted(time: datetime) -> str:
    """Plotly draws naive times: UTC without its zone, as plotly.js writes them."""
    return time.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _parsed(value: str) -> datetime:
    """An axis end (naive UTC, as plotly.js writes it or as :func:`_plotted` did), aware again."""
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _day(time: datetime) -> str:
    return time.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
