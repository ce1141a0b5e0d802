"""``SlotClock``: a moment in the reader's own time zone, with a countdown to it.

The kernel does not know the browser's time zone, and core widgets only show the HTML the
kernel wrote, so this small anywidget formats the moment in the browser (``toLocaleString``,
with the zone's name) and counts down once a second; at zero it says so (``done``).
"""

from __future__ import annotations

from datetime import datetime

import anywidget
from traitlets import Unicode

from coop_client.utc import next_second

CLOCK_ESM = """
function span(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const two = (n) => String(n).padStart(2, "0");
  if (h) return `${h} h ${two(m)} min ${two(s)} s`;
  if (m) return `${m} min ${two(s)} s`;
  return `${s} s`;
}

export default {
  render({ model, el }) {
    const line = document.createElement("span");
    line.className = "coop-clock";
    el.appendChild(line);
    const draw = () => {
      const iso = model.get("moment");
      el.style.display = iso ? "" : "none";
      line.textContent = "";
      if (!iso) return;
      const at = new Date(iso);
      const left = Math.max(0, Math.ceil((at.getTime() - Date.now()) / 1000));
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      const when = at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
      line.dataset.left = String(left);
      line.title = iso;
      line.textContent =
        `${model.get("label")} ${when} (${zone}): ` + (left > 0 ? `in ${span(left)}` : model.get("done"));
    };
    draw();
    const timer = setInterval(draw, 1000);
    model.on("change:moment", draw);
    return () => {
      clearInterval(timer);
      model.off("change:moment", draw);
    };
  },
};
"""


class SlotClock(anywidget.AnyWidget):
    """Shows ``label``, ``moment`` in local time and the time left; hidden while ``moment`` is ''."""

    _esm = CLOCK_ESM
    moment = Unicode("", help="An ISO 8601 UTC time ('': nothing to show).").tag(sync=True)
    label = Unicode("Next slot").tag(sync=True)
    done = Unicode("open now").tag(sync=True)

    def show(self, moment: datetime | None) -> None:
        """Count down to ``moment``, rounded up to a whole second (``None``: hide)."""
        self.moment = "" if moment is None else next_second(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
