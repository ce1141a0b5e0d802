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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
from traitlets import Dict, List, Unicode

#: Where the bundle is, relative to Voila's own base (``<base_url>voila/``).
SCRIPT = "templates/coop/static/plotly-basic.min.js"

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
    let Plotly;
    try {
      Plotly = await plotly(new URL(model.get("script"), base).href);
    } catch (error) {
      el.textContent = error.message;
      el.setAttribute("role", "alert");
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
