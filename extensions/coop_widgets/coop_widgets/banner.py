"""``PhaseBanner()``: the open phase, the time it has left, and your submissions left.

What is left, and when the next slot opens, is the service's answer
(:class:`coop_client.models.QuotaOut`): the banner shows it and derives nothing itself. The
next slot is shown by the browser, in its own time zone, counting down
(:class:`coop_widgets._clock.SlotClock`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from coop_client.client import AsyncCoopClient, Routes
from coop_client.models import PhaseOut, QuotaOut
from coop_widgets import _html
from coop_widgets._clock import SlotClock
from coop_widgets._panel import Panel


class PhaseBanner(Panel):
    """The challenge's current phase at a glance; refreshed every ``every`` seconds (0: never)."""

    def __init__(self, *, challenge: str | None = None, every: float = 60.0, **kwargs: object) -> None:
        self.challenge = challenge
        self.facts: dict[str, Any] = {}  # what the banner shows, as data
        self.clock = SlotClock(label="Next submission")
        super().__init__(**kwargs)
        self.children = (*self.children, self.clock)
        self.start()
        if every > 0 and self.context is not None:
            self._tasks.start(self._every(every))

    async def _every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.refresh()

    async def load(self, client: AsyncCoopClient) -> None:
        assert self.context is not None
        challenge = await client.send(Routes.challenge(await self.context.challenge(client, self.challenge)))
        now = datetime.now(UTC)
        self.title.value = f"<b>{_html.text(challenge.title)}</b>"
        phase = next((p for p in challenge.phases if p.id == challenge.current_phase), None)
        if phase is None:
            upcoming = sorted((p for p in challenge.phases if p.start > now), key=lambda p: p.start)
            self.facts = {"phase": None, "next": upcoming[0].id if upcoming else None}
            following = (
                f"; next: {_html.text(upcoming[0].title)} opens in {_html.duration(upcoming[0].start - now)}"
                if upcoming
                else ""
            )
            self.body.value = _html.line(f"No phase is open now{following}.")
            self.clock.show(None)
            return
        self.facts = facts(phase, await client.send(Routes.quota(challenge.id, phase.id)))
        self.body.value = _html.line(describe(phase, self.facts, now))
        self.clock.show(self.facts["next_slot"])


def facts(phase: PhaseOut, quota: QuotaOut) -> dict[str, Any]:
    """The phase, when it ends, the submissions left today and in the phase, the next slot."""
    return {
        "phase": phase.id,
        "ends": phase.end,
        "left_today": quota.left_today,
        "left_in_phase": quota.left_in_phase,
        "blocked": quota.blocked_by is not None,
        "next_slot": quota.next_slot if quota.blocked_by else None,
    }


def describe(phase: PhaseOut, facts: dict[str, Any], now: datetime) -> str:
    parts = [f"<b>{_html.text(phase.title)}</b> ({_html.text(phase.id)})"]
    end = facts["ends"]
    parts.append(f"ends in {_html.duration(end - now)} ({_html.moment(end)})" if end else "no end date")
    if facts["left_today"] is not None:
        parts.append(f"{facts['left_today']} submission(s) left today")
    if facts["left_in_phase"] is not None:
        parts.append(f"{facts['left_in_phase']} left in this phase")
    if facts["blocked"]:
        slot = facts["next_slot"]
        parts.append("not now: see the next slot below" if slot else "no submission left in this phase")
    else:
        parts.append("you can submit now")
    return " · ".join(parts)
