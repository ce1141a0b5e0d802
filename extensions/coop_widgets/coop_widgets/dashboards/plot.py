"""``Plot``: a plotly.js figure drawn in the browser from plain trace and layout dicts, with the
viewer's clicks and zooms reported to the kernel.

plotly.js's basic bundle (scatter, bar, pie; 1.2 MB) is a static file of the dashboards' Voila
template (``hub_config/voila/templates/coop/static/``, from ``node_modules``), loaded once per
page (on the graph page, the template asks for it while the kernel works) and cached by the
browser like any script. plotly's own ``FigureWidget`` sent its whole 4.8 MB bundle through the
kernel's websocket to every viewer, the browser evaluated all of it before drawing, and the
kernel validated every trace with plotly's Python classes.

    plot = Plot(data=[{"x": [...], "y": [...], "mode": "markers"}], layout={"height": 400})
    plot.on_click(lambda trace, point: ...)      # indices into ``data`` and into its points
    plot.on_zoom(lambda window: ...)             # the x range (two strings), None when reset

Once plotly.js has drawn the figure (or failed to load), the figure's element is marked
(:data:`DRAWN`): a page's first render waits for that mark before the live figure replaces it.
:func:`snapshot` draws the same traces as a static SVG for that first render.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

import anywidget
from traitlets import Dict, List, Unicode

#: Where the bundle is, relative to Voila's own base (``<base_url>voila/``).
SCRIPT = "templates/coop/static/plotly-basic.min.js"
#: A figure plotly.js has drawn (or whose library failed to load: its message is shown instead).
DRAWN = ".coop-plot[data-drawn]"

ESM = """
let loading = null;

function plotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  loading ??= new Promise((resolve, reject) => {
    // The page may have asked for it already (the coop template does, on the graph page).
    let script = Array.from(document.scripts).find((found) => found.src === url);
    if (!script) {
      script = document.createElement("script");
      script.src = url;
      document.head.appendChild(script);
    }
    const failed = () => {
      loading = null;
      reject(new Error(`the graph's drawing library did not load from ${url}`));
    };
    if (script.dataset.failed) failed();
    script.addEventListener("load", () => resolve(window.Plotly));
    script.addEventListener("error", failed);
  });
  return loading;
}

function zoomed(change) {
  if (change["xaxis.autorange"]) return null;
  if (Array.isArray(change["xaxis.range"])) return change["xaxis.range"].map(String);
  if ("xaxis.range[0]" in change) return [String(change["xaxis.range[0]"]), String(change["xaxis.range[1]"])];
  return undefined;
}

export default {
  async render({ model, el }) {
    const base = new URL(document.body.dataset.baseUrl ?? "/voila/", location.href);
    el.classList.add("coop-plot");
    let Plotly;
    try {
      Plotly = await plotly(new URL(model.get("script"), base).href);
    } catch (error) {
      el.textContent = error.message;
      el.setAttribute("role", "alert");
      el.dataset.drawn = "failed";
      return;
    }
    const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
    let pending = false;
    const draw = () => {
      if (pending) return;
      pending = true;
      queueMicrotask(() => {
        pending = false;
        Plotly.react(el, model.get("data"), model.get("layout"), config);
      });
    };
    await Plotly.react(el, model.get("data"), model.get("layout"), config);
    el.dataset.drawn = "yes";
    el.on("plotly_click", (event) => {
      const point = event.points?.[0];
      if (point) model.send({ event: "click", trace: point.curveNumber, point: point.pointNumber });
    });
    el.on("plotly_relayout", (change) => {
      const range = zoomed(change);
      if (range !== undefined) model.send({ event: "zoom", range });
    });
    model.on("change:data", draw);
    model.on("change:layout", draw);
    return () => {
      model.off("change:data", draw);
      model.off("change:layout", draw);
      Plotly.purge(el);
    };
  },
};
"""

#: A click: the trace's index in ``data`` and the point's index in that trace.
ClickHandler = Callable[[int, int], None]
#: A zoom: the new x range as the browser wrote it (two strings), ``None`` when reset.
ZoomHandler = Callable[[tuple[str, str] | None], None]


class Plot(anywidget.AnyWidget):
    """A figure of ``data`` (plotly.js traces) in ``layout``; redrawn whenever either changes."""

    _esm = ESM
    data: List[dict[str, Any]] = List().tag(sync=True)
    layout: Dict[str, Any] = Dict().tag(sync=True)
    script = Unicode(SCRIPT).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clicks: list[ClickHandler] = []
        self._zooms: list[ZoomHandler] = []
        self.on_msg(self._received)

    def on_click(self, handler: ClickHandler) -> None:
        self._clicks.append(handler)

    def on_zoom(self, handler: ZoomHandler) -> None:
        self._zooms.append(handler)

    def draw(self, data: list[dict[str, Any]], layout: dict[str, Any]) -> None:
        """Both at once: the browser redraws once."""
        with self.hold_sync():
            self.data = data
            self.layout = layout

    def _received(self, _widget: object, content: dict[str, Any], _buffers: object) -> None:
        if content.get("event") == "click":
            trace, point = content.get("trace"), content.get("point")
            if isinstance(trace, int) and isinstance(point, int):
                for click in self._clicks:
                    click(trace, point)
        elif content.get("event") == "zoom":
            window = content.get("range")
            if window is None:
                for zoom in self._zooms:
                    zoom(None)
            elif isinstance(window, list) and len(window) == 2 and all(isinstance(v, str) for v in window):
                for zoom in self._zooms:
                    zoom((window[0], window[1]))


#: The static drawing's width in pixels (it scales down to its box; the height is the layout's).
SNAPSHOT_WIDTH = 900
#: Markers and two-point line segments (edges) a static drawing holds at most (its HTML stays
#: small): the largest markers, the first segments; a longer line (the best so far) is whole.
SNAPSHOT_MARKS = 600
SNAPSHOT_SEGMENTS = 600
#: Polygons of plotly's symbols, on a unit circle (others are drawn as circles).
POLYGONS = {
    "square": ((-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)),
    "diamond": ((0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)),
    "triangle-up": ((0.0, -1.0), (0.9, 0.6), (-0.9, 0.6)),
    "triangle-down": ((0.0, 1.0), (0.9, -0.6), (-0.9, -0.6)),
}
DASHES = {"dash": "6,4", "dot": "2,3"}


def snapshot(
    data: Sequence[dict[str, Any]],
    layout: dict[str, Any],
    *,
    width: int = SNAPSHOT_WIDTH,
    marks: int = SNAPSHOT_MARKS,
    segments: int = SNAPSHOT_SEGMENTS,
) -> tuple[str, int, int]:
    """``data`` in ``layout`` as a static SVG: each trace's markers (colour, symbol, size) and
    lines (colour, dash, steps) at the same places on the same axes, grid, axis titles and a legend
    below; nothing to hover, click or zoom. Returns the SVG, the markers drawn and all of them
    (at most ``marks`` drawn: the largest)."""
    xaxis, yaxis = layout.get("xaxis", {}), layout.get("yaxis", {})
    dates = xaxis.get("type") == "date"

    def xv(value: Any) -> float:
        if dates:
            return datetime.fromisoformat(str(value)).replace(tzinfo=UTC).timestamp()
        return float(value)

    lines: list[tuple[dict[str, Any], list[list[tuple[float, float]]]]] = []
    dots: list[tuple[float, int, float, float, str, str]] = []  # size, trace, x, y, colour, symbol
    for index, trace in enumerate(data):
        xs, ys, mode = trace.get("x", []), trace.get("y", []), trace.get("mode", "")
        if "lines" in mode:
            runs: list[list[tuple[float, float]]] = [[]]
            for x, y in zip(xs, ys, strict=False):
                if x is None or y is None:
                    runs.append([])
                else:
                    runs[-1].append((xv(x), float(y)))
            lines.append((trace, [run for run in runs if run]))
        if "markers" in mode:
            marker = trace.get("marker", {})
            sizes = marker.get("size", 6)
            for at, (x, y) in enumerate(zip(xs, ys, strict=False)):
                if x is None or y is None:
                    continue
                size = float(sizes[at] if isinstance(sizes, list) else sizes)
                dots.append(
                    (
                        size,
                        index,
                        xv(x),
                        float(y),
                        str(marker.get("color", "#1f77b4")),
                        marker.get("symbol", ""),
                    )
                )
    total = len(dots)
    if total > marks:
        dots = sorted(sorted(dots, key=lambda dot: -dot[0])[:marks], key=lambda dot: dot[1])
    points = [(x, y) for _, runs in lines for run in runs for x, y in run] + [(d[2], d[3]) for d in dots]
    x0, x1 = _span([p[0] for p in points], 3600.0 if dates else 1.0, xaxis.get("range"), xv)
    y0, y1 = _span([p[1] for p in points], 1.0, yaxis.get("range"), float)

    legend = _legend(data, width)
    margin = {"l": 60, "r": 10, "t": 30, "b": 50, **layout.get("margin", {})}
    height = int(layout.get("height", 450))
    left, right = margin["l"], width - margin["r"]
    top, bottom = margin["t"], height - margin["b"]
    full = height + legend[1]

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (right - left)

    def py(y: float) -> float:
        return bottom - (y - y0) / (y1 - y0) * (bottom - top)

    out = [
        f'<svg class="coop-first-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {full}" '
        f'style="width: 100%; max-width: {width}px; height: auto" font-family="sans-serif" font-size="12">'
    ]
    shape = "%Y-%m-%d" if x1 - x0 > 4 * 86400 else "%m-%d %H:%M" if x1 - x0 > 4 * 3600 else "%H:%M:%S"
    for at in range(5):  # the grid and its ticks
        x, y = x0 + (x1 - x0) * (at + 0.5) / 5, y0 + (y1 - y0) * (at + 0.5) / 5
        label = datetime.fromtimestamp(x, UTC).strftime(shape) if dates else f"{x:.3g}"
        out.append(
            f'<line x1="{px(x):.1f}" y1="{top}" x2="{px(x):.1f}" y2="{bottom}" stroke="#ebf0f8"/>'
            f'<text x="{px(x):.1f}" y="{bottom + 18}" text-anchor="middle" fill="#444">{escape(label)}</text>'
            f'<line x1="{left}" y1="{py(y):.1f}" x2="{right}" y2="{py(y):.1f}" stroke="#ebf0f8"/>'
            f'<text x="{left - 6}" y="{py(y) + 4:.1f}" text-anchor="end" fill="#444">{y:.3g}</text>'
        )
    out.append(
        f'<path d="M{left},{top}V{bottom}H{right}" fill="none" stroke="#444444"/>'
        f'<text x="{(left + right) / 2:.0f}" y="{bottom + 40}" text-anchor="middle" fill="#444">'
        f"{escape(_title(xaxis))}</text>"
        f'<text transform="translate(16 {(top + bottom) / 2:.0f}) rotate(-90)" text-anchor="middle" '
        'fill="#444">'
        f"{escape(_title(yaxis))}</text>"
    )
    short = 0
    for trace, runs in lines:
        style = trace.get("line", {})
        dash = DASHES.get(style.get("dash", ""), "")
        paths = []
        for run in runs:
            if len(run) == 2:
                short += 1
                if short > segments:
                    continue
            steps = [run[0]]
            for x, y in run[1:]:
                if style.get("shape") == "hv":
                    steps.append((x, steps[-1][1]))
                steps.append((x, y))
            paths.append(
                "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in _thinned([(px(x), py(y)) for x, y in steps]))
            )
        if paths:
            out.append(
                f'<path d="{"".join(paths)}" fill="none" stroke="{escape(str(style.get("color", "#444")))}" '
                f'stroke-width="{style.get("width", 1)}"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
    out.append('<g class="coop-first-marks">')
    out += [_mark(px(x), py(y), size, colour, symbol) for size, _, x, y, colour, symbol in dots]
    out.append("</g>")
    out += [f'<g transform="translate(0 {height})">', legend[0], "</g></svg>"]
    return "".join(out), len(dots), total


def _thinned(line: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A line's points less those inside a pixel column (the first and last of a column stay):
    the same drawing, at most a few points per pixel of width."""
    kept = [
        point
        for at, point in enumerate(line)
        if at in (0, len(line) - 1) or not round(line[at - 1][0]) == round(point[0]) == round(line[at + 1][0])
    ]
    return kept


def _span(values: list[float], unit: float, fixed: Any, parse: Callable[[Any], float]) -> tuple[float, float]:
    """An axis's range: the layout's, else the values' with 5% on each side (plotly's autorange
    pads so its largest markers fit)."""
    if isinstance(fixed, list) and len(fixed) == 2:
        return parse(fixed[0]), parse(fixed[1])
    if not values:
        return 0.0, unit
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or unit
    return low - pad, high + pad


def _title(axis: dict[str, Any]) -> str:
    title = axis.get("title", "")
    return str(title.get("text", "") if isinstance(title, dict) else title)


def _mark(x: float, y: float, size: float, colour: str, symbol: str) -> str:
    r = size / 2
    shape = symbol.removesuffix("-open")
    paint = (
        f'fill="none" stroke="{escape(colour)}"'
        if symbol.endswith("-open")
        else f'fill="{escape(colour)}" stroke="#fff"'
    )
    if shape in POLYGONS:
        corners = " ".join(f"{x + r * a:.1f},{y + r * b:.1f}" for a, b in POLYGONS[shape])
        return f'<polygon points="{corners}" {paint}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {paint}/>'


def _legend(data: Sequence[dict[str, Any]], width: int) -> tuple[str, int]:
    """Each named trace's swatch and name in rows below the plot; the SVG and its height."""
    items, x, row = [], 10.0, 0
    for trace in data:
        name = str(trace.get("name") or "")
        if not name:
            continue
        span = 34 + 7 * len(name)
        if x + span > width and x > 10:
            x, row = 10.0, row + 1
        y = 30 + 20 * row
        if "markers" in trace.get("mode", ""):
            marker = trace.get("marker", {})
            swatch = _mark(x + 10, y - 4, 9.0, str(marker.get("color", "#1f77b4")), marker.get("symbol", ""))
        else:
            line = trace.get("line", {})
            dash = DASHES.get(line.get("dash", ""), "")
            swatch = (
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" '
                f'stroke="{escape(str(line.get("color", "#444")))}" stroke-width="2"'
                + (f' stroke-dasharray="{dash}"' if dash else "")
                + "/>"
            )
        items.append(f'{swatch}<text x="{x + 30}" y="{y}" fill="#444">{escape(name)}</text>')
        x += span
    return "".join(items), (40 + 20 * row if items else 0)
