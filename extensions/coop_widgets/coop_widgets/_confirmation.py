"""``Confirmation``: an organiser's change in two clicks, Preview then Confirm (or Cancel)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import ipywidgets as widgets

from coop_client.client import CoopClientError
from coop_client.errors import CoopError
from coop_widgets import _html
from coop_widgets._context import Tasks

#: A preview: what will change (HTML), and the change itself (giving what to say once made).
Preview = tuple[str, Callable[[], Awaitable[str]]]


class Confirmation(widgets.VBox):
    """Preview, then Confirm or Cancel: the change is made only from what was previewed.

    ``stale_hint``: a refusal for a conflict (409) means the challenge changed since the preview,
    so the panel asks for a new one; changes made once only say so themselves instead."""

    def __init__(self, preview: Callable[[], Awaitable[Preview]], *, stale_hint: bool = True) -> None:
        self._preview = preview
        self._stale_hint = stale_hint
        self._apply: Callable[[], Awaitable[str]] | None = None
        self._tasks = Tasks(lambda exc: self._say(f"Something went wrong: {exc}", "bad"))
        self.preview_button = widgets.Button(description="Preview", icon="eye")
        self.confirm_button = widgets.Button(description="Confirm", button_style="danger", icon="check")
        self.cancel_button = widgets.Button(description="Cancel")
        self.shown = widgets.HTML()
        self.preview_button.on_click(lambda _b: self._tasks.start(self.preview()))
        self.confirm_button.on_click(lambda _b: self._tasks.start(self.confirm()))
        self.cancel_button.on_click(lambda _b: self.cancel())
        super().__init__(
            [widgets.HBox([self.preview_button, self.confirm_button, self.cancel_button]), self.shown]
        )
        self._pending(False)

    async def preview(self) -> None:
        self._pending(False)
        try:
            shown, self._apply = await self._preview()
        except CoopError as exc:
            self._say(self._message(exc), "bad")
            return
        self.shown.value = shown + _html.line("Confirm to make this change.", "wait")
        self._pending(True)

    async def confirm(self) -> None:
        apply, self._apply = self._apply, None
        self._pending(False)
        if apply is None:
            return
        try:
            self._say(await apply(), "ok")
        except CoopError as exc:
            self._say(self._message(exc), "bad")

    def cancel(self) -> None:
        self._apply = None
        self._pending(False)
        self.shown.value = ""

    def _pending(self, waiting: bool) -> None:
        self.confirm_button.layout.display = None if waiting else "none"
        self.cancel_button.layout.display = None if waiting else "none"

    def _say(self, message: str, tone: str) -> None:
        self.shown.value = _html.line(message, tone)

    def _message(self, exc: CoopError) -> str:
        if isinstance(exc, CoopClientError) and exc.status == 409 and self._stale_hint:
            return _html.text(exc.message) + " — press Preview again."
        return _html.text(exc.message if isinstance(exc, CoopClientError) else exc.user_message).replace(
            "\n", "<br>"
        )
