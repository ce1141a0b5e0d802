"""Where a widget runs: the scorer service, the user and the notebook, from the kernel's
environment (set by the hub and by jupyter_server); and the asyncio tasks widgets start."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coop_client.client import AsyncCoopClient, Routes
from coop_client.errors import CoopError
from coop_widgets import _git

log = logging.getLogger("coop_widgets")

SERVICE_URL = "COOP_SERVICE_URL"
TOKEN = "JUPYTERHUB_API_TOKEN"
USER = "JUPYTERHUB_USER"
#: The notebook's path, set by jupyter_server for the kernels it starts.
NOTEBOOK = "JPY_SESSION_NAME"


class WidgetError(CoopError):
    """Something a widget cannot do, with the message it shows."""


@dataclass(frozen=True)
class Context:
    service_url: str
    token: str | None
    user: str
    notebook: Path | None  # absolute; None when the kernel does not belong to a notebook

    @classmethod
    def from_environment(
        cls, *, notebook: str | Path | None = None, environ: Mapping[str, str] | None = None
    ) -> Context:
        env = os.environ if environ is None else environ
        url = env.get(SERVICE_URL)
        if not url:
            raise WidgetError(
                f"${SERVICE_URL} is not set: this kernel was not started by a Coopetition hub "
                "(set it to the scorer service's URL to use the widgets elsewhere)"
            )
        path = notebook or env.get(NOTEBOOK)
        return cls(
            service_url=url,
            token=env.get(TOKEN) or None,
            user=env.get(USER) or getpass.getuser(),
            notebook=Path(path).expanduser().resolve() if path else None,
        )

    def client(self) -> AsyncCoopClient:
        return AsyncCoopClient(self.service_url, self.token, timeout=15.0)

    async def repository(self) -> Path | None:
        """The git clone holding the notebook, if any."""
        if self.notebook is None:
            return None
        return await _git.toplevel(self.notebook.parent)

    async def challenge(self, client: AsyncCoopClient, given: str | None = None) -> str:
        """The challenge a widget is about: ``given``, else the one the notebook's clone
        belongs to, else the only challenge the service has."""
        if given:
            return given
        repo = await self.repository()
        found = await _git.challenge_of(repo) if repo is not None else None
        if found:
            return found
        challenges = await client.send(Routes.challenges())
        if len(challenges) == 1:
            return challenges[0].id
        names = ", ".join(c.id for c in challenges) or "none yet"
        raise WidgetError(f"name the challenge with challenge=… (challenges here: {names})")


class Tasks:
    """The asyncio tasks a widget started on the kernel's loop.

    The loop keeps only weak references to tasks, so they are kept here; an error ends in
    ``on_error`` (the widget shows it) instead of vanishing with the task.
    """

    def __init__(self, on_error: Callable[[BaseException], None]) -> None:
        self._running: set[asyncio.Task[Any]] = set()
        self._on_error = on_error

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def start(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    def cancel(self) -> None:
        """Cancel every task; safe from any thread (JupyterLab's widget messages, button clicks
        included, may be handled on a kernel subshell's thread)."""
        for task in list(self._running):
            task.get_loop().call_soon_threadsafe(task.cancel)

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("a Coopetition widget's task failed")
            self._on_error(exc)


class Backoff:
    """Waits between tries while the service is down: 1, 2, 4 … ``cap`` seconds."""

    def __init__(self, first: float = 1.0, cap: float = 30.0) -> None:
        self.first, self.cap = first, cap
        self.next = first

    def reset(self) -> None:
        self.next = self.first

    async def wait(self) -> None:
        delay, self.next = self.next, min(self.next * 2, self.cap)
        await asyncio.sleep(delay)
