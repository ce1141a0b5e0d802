"""The organiser panel's reward tabs: settle a phase, invalidate a submission. Each is previewed
(what it will do, in words) and made only on Confirm; each can be done once, and the service
says so, naming the first, when it was done already."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets

from coop_client.client import AsyncCoopClient, Routes
from coop_widgets import _html
from coop_widgets._confirmation import Confirmation, Preview
from coop_widgets._context import WidgetError

ChallengeId = Callable[[], str]
Client = Callable[[], AsyncCoopClient]
Refresh = Callable[[], Awaitable[None]]


class SettleTab(widgets.VBox):
    """Settle a phase: its settlement rewarders judged once on private scores."""

    def __init__(self, challenge: ChallengeId, client: Client, refresh: Refresh) -> None:
        self._challenge, self._client, self._refresh = challenge, client, refresh
        self._phases: dict[str, dict[str, Any]] = {}
        self.phase = widgets.Dropdown(description="Phase")
        self.settling = Confirmation(self._preview, stale_hint=False)
        super().__init__([self.phase, self.settling])

    def fill(self, phases: list[dict[str, Any]], *, prefer: str | None = None) -> None:
        self._phases = {p["id"]: p for p in phases}
        keep = self.phase.value
        self.phase.options = list(self._phases)
        ids = list(self._phases)
        self.phase.value = keep if keep in ids else (prefer if prefer in ids else (ids[0] if ids else None))

    async def _preview(self) -> Preview:
        phase_id = self.phase.value
        if phase_id is None:
            raise WidgetError("no phase chosen")
        phase = self._phases[phase_id]
        async with self._client() as client:
            rewarders = await client.send(Routes.rewarders(self._challenge(), phase_id))
        settling = [r.text for r in rewarders if r.moment == "settlement"]
        end = phase.get("end")
        if end is None or datetime.fromisoformat(end) > datetime.now(UTC):
            when = (
                f"It is still open (ends {end or 'never'}): its settlement rewards are final as the "
                "private scores stand now; later submissions earn live rewards only."
            )
        else:
            when = f"It ended at {end}."
        shown = _html.line(
            f"Phase {_html.text(phase_id)} will be settled once, on private scores "
            f"({_html.text('; '.join(settling) or 'it has no settlement rewarder')}). {_html.text(when)}"
        )

        async def apply() -> str:
            async with self._client() as client:
                done = await client.send(Routes.settle(self._challenge(), phase_id))
            await self._refresh()
            totals = ", ".join(f"{amount:g} {unit}" for unit, amount in done.totals.items()) or "nothing"
            failed = "".join(f" Rewarder {f.rewarder} ({f.type}) failed: {f.error}." for f in done.failures)
            return _html.text(
                f"Settled {done.phase} (settlement {done.id}): {done.grants} grant(s) to "
                f"{done.people} person(s), {totals}.{failed}"
            )

        return shown, apply


class InvalidateTab(widgets.VBox):
    """Invalidate a submission found to be an exploit, with the reason kept in the audit trail."""

    def __init__(self, challenge: ChallengeId, client: Client, refresh: Refresh) -> None:
        self._challenge, self._client, self._refresh = challenge, client, refresh
        self.submission = widgets.BoundedIntText(description="Submission", min=1, max=2**63 - 1)
        self.reason = widgets.Textarea(
            placeholder="why it is an exploit (kept in the audit trail)",
            layout=widgets.Layout(width="60%", height="4em"),
        )
        self.invalidating = Confirmation(self._preview, stale_hint=False)
        super().__init__([self.submission, self.reason, self.invalidating])

    async def _preview(self) -> Preview:
        reason = self.reason.value.strip()
        if not reason:
            raise WidgetError("say why the submission is invalidated: the reason is empty")
        submission_id = int(self.submission.value)
        async with self._client() as client:
            found = await client.send(Routes.submission(submission_id))
        if found.challenge != self._challenge():
            raise WidgetError(
                f"submission {submission_id} belongs to {found.challenge}, not to this challenge"
            )
        shown = _html.line(
            f"Submission {found.id} of {_html.text(found.person)} ({_html.text(found.phase)}, "
            f"{found.status.value}, <code>{found.commit[:10]}</code>) will be invalidated for: "
            f"{_html.text(reason)}. It and its rescores leave the leaderboards and their rewards are "
            "taken back; this cannot be undone."
        )

        async def apply() -> str:
            async with self._client() as client:
                done = await client.send(Routes.invalidate(submission_id, reason))
            await self._refresh()
            return _html.text(
                f"Invalidated submission {done.submission} of {done.person}; "
                f"{len(done.compensated)} reward(s) taken back (audit #{done.audit})."
            )

        return shown, apply
