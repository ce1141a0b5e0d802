"""The shape shared by the widgets that show what they read from the service: a title, a
refresh button, a body, and a line for problems. Loading runs as an asyncio task."""

from __future__ import annotations

import asyncio

import ipywidgets as widgets

from coop_client.client import AsyncCoopClient, CoopClientError
from coop_client.errors import CoopError
from coop_widgets import _html
from coop_widgets._context import Context, Tasks, WidgetError


class Panel(widgets.VBox):
    """Subclasses fill :meth:`load`; :meth:`refresh` (the button, and once when shown) calls it."""

    children: tuple[widgets.Widget, ...]  # VBox's trait, typed for subclasses that add to it

    def __init__(self, **kwargs: object) -> None:
        self.title = widgets.HTML()
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Refresh", layout=widgets.Layout(width="40px")
        )
        self.body = widgets.HTML()
        self.problem = widgets.HTML()
        self._tasks = Tasks(self._crashed)
        super().__init__([widgets.HBox([self.title, self.refresh_button]), self.problem, self.body], **kwargs)
        self.refresh_button.on_click(lambda _b: self._tasks.start(self.refresh()))
        try:
            self.context: Context | None = Context.from_environment()
        except WidgetError as exc:
            self.context = None
            self.refresh_button.disabled = True
            self.problem.value = _html.line(_html.text(exc.user_message), "bad")

    def start(self) -> None:
        """Load now, in the background, when there is a running loop (there is in a kernel)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.problem.value = _html.line("Press ↻ to load.")
            return
        self._tasks.start(self.refresh())

    async def refresh(self) -> None:
        """Read the service again and show what it says (or why it cannot)."""
        if self.context is None:
            return
        try:
            async with self.context.client() as client:
                await self.load(client)
        except CoopClientError as exc:
            tone = "the scorer service is not answering; press ↻ later" if exc.unavailable else exc.message
            self.problem.value = _html.line(_html.text(tone), "bad")
            return
        except CoopError as exc:
            self.problem.value = _html.line(_html.text(exc.user_message), "bad")
            return
        self.problem.value = ""

    async def load(self, client: AsyncCoopClient) -> None:
        raise NotImplementedError

    def _crashed(self, exc: BaseException) -> None:
        self.problem.value = _html.line(
            _html.text(f"Something went wrong: {type(exc).__name__}: {exc}"), "bad"
        )

    def close(self) -> None:
        self._tasks.cancel()
        super().close()
