"""Making sure what is committed is what the participant sees: the notebook saved first.

The kernel cannot see the browser's unsaved edits, so :class:`SaveGuard` (an anywidget: core
widgets cannot reach the document) asks the front end to save. In JupyterLab
and Notebook 7 a widget model's manager holds the document context of the notebook the widget
lives in (``widget_manager.context`` of ``@jupyter-widgets/jupyterlab-manager``, which anywidget
passes through): the front end saves that notebook if it is dirty and answers ``saved``. That
names the right notebook (not merely the active tab) and reports a failed save.

The answer may reach the kernel on another thread than the one waiting for it: JupyterLab
sends comm messages over a kernel subshell (its ``commsOverSubshells`` setting), which ipykernel
dispatches in the subshell's own thread and event loop. The waiting future is therefore settled
on its own loop (``call_soon_threadsafe``); set from the subshell's thread, it would wake only
at the timeout.

Where no front end answers (Voila, VS Code, a kernel without a browser) or it cannot save
(``unsupported``), :func:`unsaved_cells` checks the file against what this kernel ran: a code
cell run after the file was last written must be in it with the source it ran with. Runs are
recorded by an IPython ``post_run_cell`` hook keyed by the cell id the front end sends with each
execution (``metadata.cellId``), from the moment the package is loaded (earliest as an IPython
extension); cells reported deleted (``metadata.deletedCells``) are forgotten.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anywidget

SAVE_ESM = """
export default {
  initialize({ model }) {
    const onMessage = async (message) => {
      if (!message || message.kind !== "save") return;
      const request = message.request;
      const context = model.widget_manager && model.widget_manager.context;
      if (!context || !context.model || typeof context.save !== "function") {
        model.send({ kind: "unsupported", request });
        return;
      }
      const wasDirty = Boolean(context.model.dirty);
      try {
        if (wasDirty) await context.save();
        model.send({ kind: "saved", request, was_dirty: wasDirty, path: context.path });
      } catch (error) {
        model.send({ kind: "failed", request, reason: String((error && error.message) || error) });
      }
    };
    model.on("msg:custom", onMessage);
    return () => model.off("msg:custom", onMessage);
  },
};
"""


@dataclass(frozen=True)
class SaveAnswer:
    kind: str  # "saved", "failed", "unsupported", or "silent" (no front end answered in time)
    reason: str = ""
    was_dirty: bool = False


class SaveGuard(anywidget.AnyWidget):
    """An invisible widget whose front end saves the notebook it is displayed in, on request."""

    _esm = SAVE_ESM

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.layout.display = "none"
        self._requests = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[SaveAnswer]] = {}
        self.on_msg(self._answered)

    async def save(self, timeout: float) -> SaveAnswer:
        """Ask the front end to save; ``silent`` when no answer comes within ``timeout`` seconds."""
        request = next(self._requests)
        answer: asyncio.Future[SaveAnswer] = asyncio.get_running_loop().create_future()
        self._waiting[request] = answer
        try:
            self.send({"kind": "save", "request": request})
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            return SaveAnswer("silent")
        finally:
            self._waiting.pop(request, None)

    def _answered(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        request = content.get("request")
        waiting = self._waiting.get(request) if isinstance(request, int) else None
        if waiting is not None:
            answer = SaveAnswer(
                str(content.get("kind")), str(content.get("reason", "")), bool(content.get("was_dirty"))
            )
            waiting.get_loop().call_soon_threadsafe(_settle, waiting, answer)


def _settle(waiting: asyncio.Future[SaveAnswer], answer: SaveAnswer) -> None:
    if not waiting.done():
        waiting.set_result(answer)


@dataclass
class CellRuns:
    """Each cell's source as last run in this kernel, and when (by the front end's cell id)."""

    runs: dict[str, tuple[str, float]] = field(default_factory=dict)

    def ran(self, result: Any) -> None:
        info = getattr(result, "info", None)
        if info is None or info.silent:
            return
        for deleted in (info.cell_meta or {}).get("deletedCells") or ():
            self.runs.pop(deleted, None)
        if info.cell_id:
            self.runs[info.cell_id] = (info.raw_cell, time.time())


RUNS = CellRuns()
_recording: set[int] = set()


def record_runs(shell: Any) -> None:
    """Record cell runs in ``shell`` (once per shell)."""
    if shell is None or id(shell) in _recording:
        return
    shell.events.register("post_run_cell", RUNS.ran)
    _recording.add(id(shell))


def unsaved_cells(notebook: Path, runs: CellRuns = RUNS) -> list[str]:
    """Ids of code cells run after ``notebook`` was last written whose source there differs
    (or that it lacks): edits the file does not have yet."""
    import nbformat  # here, not at the top: importing it (jsonschema's format checks) takes seconds

    written = notebook.stat().st_mtime
    saved = {
        cell.get("id"): cell.source
        for cell in nbformat.read(notebook, as_version=4).cells
        if cell.cell_type == "code"
    }
    return [cell for cell, (source, at) in runs.runs.items() if at > written and saved.get(cell) != source]
