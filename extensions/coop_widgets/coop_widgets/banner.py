"""``PhaseBanner()``: the open phase, the time it has left, and your submissions left.

What is left is worked out from the phase's submission limits and your submissions in it as
the service lists them, counted as push-to-score counts them (:func:`scorer.ingest.push.counted_times`:
not rejected ones, not rescores); when the next one would be over a limit, the banner says when
a slot opens (:func:`scorer.ingest.limits.check_limits`, the same rule the service applies).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from coop_widgets import _html
from coop_widgets._panel import Panel
from scorer.challenge.spec import SubmissionLimits
from scorer.client import AsyncCoopClient, Routes
from scorer.ingest.limits import check_limits
from scorer.ledger.models import SubmissionStatus
from scorer.service.models import PhaseOut, SubmissionSummary


class PhaseBanner(Panel):
    """The challenge's current phase at a glance; refreshed every ``every`` seconds (0: never)."""

    def __init__(self, *, challenge: str | None = None, every: float = 60.0, **kwargs: object) -> None:
        self.challenge = challenge
        self.facts: dict[str, Any] = {}  # what the banner shows, as data
        super().__init__(**kwargs)
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
            return
        mine = await client.send(
            Routes.submissions(challenge=challenge.id, phase=phase.id, person=self.context.user, limit=1000)
        )
        self.facts = quota(phase, mine, now)
        self.body.value = _html.line(describe(phase, self.facts, now))


def quota(phase: PhaseOut, submissions: list[SubmissionSummary], now: datetime) -> dict[str, Any]:
    """The phase, when it ends, the submissions left today and in the phase, the next slot."""
    counted = [
        s.created_at for s in submissions if s.status != SubmissionStatus.REJECTED and s.rescore_of is None
    ]
    limits = phase.submissions
    hit = check_limits(SubmissionLimits(**limits.model_dump()), counted, now)
    today = sum(1 for t in counted if t.astimezone(UTC).date() == now.date())
    return {
        "phase": phase.id,
        "ends": phase.end,
        "left_today": None if limits.per_day is None else max(0, limits.per_day - today),
        "left_in_phase": None if limits.per_person is None else max(0, limits.per_person - len(counted)),
        "blocked": hit is not None,
        "next_slot": hit.next_slot if hit else None,
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
        parts.append(
            f"next submission from {_html.moment(slot)}" if slot else "no submission left in this phase"
        )
    else:
        parts.append("you can submit now")
    return " · ".join(parts)
