"""``MySubmissions()``: your submissions with their status, refreshed while any is waiting; a
scored one can be built on (a copy of its notebook with its lineage, :mod:`coop_widgets.build_on`)."""

from __future__ import annotations

import asyncio

from coop_client.client import AsyncCoopClient, Routes
from coop_client.models import SubmissionStatus, SubmissionSummary
from coop_widgets import _html
from coop_widgets._panel import Panel
from coop_widgets.build_on import build_on_link

WAITING = {SubmissionStatus.QUEUED.value, SubmissionStatus.RUNNING.value}
TONES = {"scored": "ok", "failed": "bad", "rejected": "bad", "queued": "wait", "running": "wait"}


class MySubmissions(Panel):
    """The newest ``limit`` of your submissions to the challenge (``phase``: only that phase)."""

    def __init__(
        self,
        *,
        challenge: str | None = None,
        phase: str | None = None,
        limit: int = 20,
        poll_interval: float = 2.0,
        **kwargs: object,
    ) -> None:
        self.challenge, self.phase, self.limit, self.poll_interval = challenge, phase, limit, poll_interval
        self.shown: list[SubmissionSummary] = []
        self._following = False
        super().__init__(**kwargs)
        self.start()

    async def load(self, client: AsyncCoopClient) -> None:
        assert self.context is not None
        challenge = await self.context.challenge(client, self.challenge)
        self.shown = await client.send(
            Routes.submissions(
                challenge=challenge, phase=self.phase, person=self.context.user, limit=self.limit
            )
        )
        self.title.value = f"<b>Your submissions</b> · {_html.text(challenge)}"
        self.body.value = render(self.shown)
        if self.waiting and not self._following:
            self._following = True
            self._tasks.start(self._follow())

    @property
    def waiting(self) -> bool:
        return any(s.status in WAITING for s in self.shown)

    async def _follow(self) -> None:
        try:
            while self.waiting:
                await asyncio.sleep(self.poll_interval)
                await self.refresh()
        finally:
            self._following = False


def render(submissions: list[SubmissionSummary]) -> str:
    if not submissions:
        return _html.line("No submission yet: press Submit in your notebook.")
    rows = [
        [
            str(s.id),
            _html.text(s.phase),
            _html.text(s.notebook),
            f"<code>{_html.text(s.commit[:10])}</code>",
            _html.line(_html.text(s.status), TONES.get(s.status, "note")),
            _html.text(f"{s.failure_class}: {s.reason}" if s.failure_class else s.reason or ""),
            _html.moment(s.created_at),
            build_on_link(s.challenge, s.id) if s.status == SubmissionStatus.SCORED else "",
        ]
        for s in submissions
    ]
    return _html.table(["#", "phase", "notebook", "commit", "status", "why", "submitted", ""], rows)
