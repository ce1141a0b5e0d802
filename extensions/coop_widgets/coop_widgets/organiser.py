"""``OrganiserPanel()``: open the next phase, edit a rewarder, rescore a phase, read the audit trail.

Every change goes through the service's organiser routes (scope ``custom:coop:organise``),
which commit it to challenge.yaml on the organiser ref and audit it. Each change takes two
clicks: **Preview** asks the service for a dry run and shows exactly what will change (the diff
of challenge.yaml, or what a rescore queues); **Confirm** makes that change, refused (409) if
the challenge changed in between, so nothing reviewed is applied to a different spec.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets
import yaml

from coop_client.client import AsyncCoopClient, Call, CoopClientError, Routes
from coop_client.errors import CoopError
from coop_client.models import (
    AuditEventOut,
    OpenPhaseIn,
    OrganiseOut,
    RewarderIn,
    SpecChangeOut,
    SubmissionStatus,
)
from coop_widgets import _html
from coop_widgets._context import Tasks, WidgetError
from coop_widgets._panel import Panel

#: A preview: what will change (HTML), and the change itself (giving what to say once made).
Preview = tuple[str, Callable[[], Awaitable[str]]]


class Confirmation(widgets.VBox):
    """Preview, then Confirm or Cancel: the change is made only from what was previewed."""

    def __init__(self, preview: Callable[[], Awaitable[Preview]]) -> None:
        self._preview = preview
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
            self._say(_message(exc), "bad")
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
            self._say(_message(exc), "bad")

    def cancel(self) -> None:
        self._apply = None
        self._pending(False)
        self.shown.value = ""

    def _pending(self, waiting: bool) -> None:
        self.confirm_button.layout.display = None if waiting else "none"
        self.cancel_button.layout.display = None if waiting else "none"

    def _say(self, message: str, tone: str) -> None:
        self.shown.value = _html.line(message, tone)


class OrganiserPanel(Panel):
    """The organisers' controls for the challenge (the notebook's, unless ``challenge`` names one)."""

    def __init__(self, *, challenge: str | None = None, audit_limit: int = 50, **kwargs: object) -> None:
        self.challenge, self.audit_limit = challenge, audit_limit
        self.state: OrganiseOut | None = None
        self.events: list[AuditEventOut] = []
        self.open_phase = widgets.Dropdown(description="Phase")
        self.close_current = widgets.Checkbox(description="also end the phase open now", indent=False)
        self.opening = Confirmation(self._preview_open)
        self.rewarder_phase = widgets.Dropdown(description="Phase")
        self.rewarder_index = widgets.Dropdown(description="Rewarder")
        self.rewarder_text = widgets.Textarea(layout=widgets.Layout(width="60%", height="8em"))
        self.rewarding = Confirmation(self._preview_rewarder)
        self.rescore_phase = widgets.Dropdown(description="Phase")
        self.rescoring = Confirmation(self._preview_rescore)
        self.audit = widgets.HTML()
        self.tabs = widgets.Tab(
            [
                widgets.VBox([self.open_phase, self.close_current, self.opening]),
                widgets.VBox([self.rewarder_phase, self.rewarder_index, self.rewarder_text, self.rewarding]),
                widgets.VBox([self.rescore_phase, self.rescoring]),
                self.audit,
            ],
            titles=["Open a phase", "Edit a rewarder", "Rescore", "Audit trail"],
        )
        self.tabs.layout.display = "none"
        self.rewarder_phase.observe(lambda _c: self._list_rewarders(), "value")
        self.rewarder_index.observe(lambda _c: self._show_rewarder(), "value")
        super().__init__(**kwargs)
        self.children = (*self.children, self.tabs)
        self.start()

    async def load(self, client: AsyncCoopClient) -> None:
        assert self.context is not None
        me = await client.send(Routes.me())
        if not me.organiser:
            self.title.value = "<b>Organiser panel</b>"
            self.body.value = _html.line(
                f"{_html.text(me.name)}: this needs the scope custom:coop:organise (the organisers group).",
                "bad",
            )
            self.tabs.layout.display = "none"
            return
        challenge = await self.context.challenge(client, self.challenge)
        self.state = await client.send(Routes.organise(challenge))
        self.events = await client.send(Routes.audit(challenge, limit=self.audit_limit))
        self.title.value = (
            f"<b>Organiser panel</b> · {_html.text(challenge)} · {_html.text(self.state.ref)} "
            f"at <code>{self.state.base[:10]}</code>"
        )
        self.body.value = ""
        self.tabs.layout.display = None
        self._fill()

    def _fill(self) -> None:
        assert self.state is not None
        phases = self.state.spec["phases"]
        now = datetime.now(UTC)
        upcoming = [p for p in phases if datetime.fromisoformat(p["start"]) > now]
        self.open_phase.options = [("the next phase to start", None)] + [
            (f"{p['id']} ({p['title']}, starts {p['start']})", p["id"]) for p in upcoming
        ]
        with_rewarders = [p["id"] for p in phases if p.get("rewarders")]
        _choose(self.rewarder_phase, with_rewarders)
        self._list_rewarders()
        _choose(self.rescore_phase, [p["id"] for p in phases])
        self.audit.value = render_audit(self.events)

    def _phase(self, phase_id: str | None) -> dict[str, Any]:
        assert self.state is not None
        return next((p for p in self.state.spec["phases"] if p["id"] == phase_id), {})

    def _list_rewarders(self) -> None:
        rewarders = self._phase(self.rewarder_phase.value).get("rewarders") or []
        labels = [(f"{i}: {r['type']} ({r['amount']:g} points)", i) for i, r in enumerate(rewarders)]
        _choose(self.rewarder_index, labels)
        self._show_rewarder()

    def _show_rewarder(self) -> None:
        rewarders = self._phase(self.rewarder_phase.value).get("rewarders") or []
        index = self.rewarder_index.value
        chosen = rewarders[index] if index is not None and index < len(rewarders) else None
        self.rewarder_text.value = yaml.safe_dump(chosen, sort_keys=False) if chosen else ""

    # --- previews, and the changes they lead to -----------------------------------------------------

    async def _preview_open(self) -> Preview:
        request = OpenPhaseIn(phase=self.open_phase.value, close_current=self.close_current.value)
        return await self._spec_change(lambda change: Routes.open_phase(self._id(), change), request)

    async def _preview_rewarder(self) -> Preview:
        try:
            given = yaml.safe_load(self.rewarder_text.value)
        except yaml.YAMLError as exc:
            raise WidgetError(f"the rewarder is not valid YAML: {exc}") from None
        if not isinstance(given, dict):
            raise WidgetError("write the rewarder as a mapping, e.g. type: first-above, amount: 10")
        if self.rewarder_phase.value is None or self.rewarder_index.value is None:
            raise WidgetError("no rewarder chosen")
        request = RewarderIn(phase=self.rewarder_phase.value, index=self.rewarder_index.value, rewarder=given)
        return await self._spec_change(lambda change: Routes.edit_rewarder(self._id(), change), request)

    async def _spec_change(self, route: Callable[[Any], Call[SpecChangeOut]], request: Any) -> Preview:
        """A dry run of a change to challenge.yaml; confirming sends it against the same commit."""
        assert self.context is not None
        async with self.context.client() as client:
            dry = await client.send(route(request.model_copy(update={"dry_run": True})))

        async def apply() -> str:
            assert self.context is not None
            async with self.context.client() as client:
                made = await client.send(route(request.model_copy(update={"base": dry.base})))
            await self.refresh()
            return f"Done: {made.action}, commit {(made.commit or '')[:10]} (audit #{made.audit})."

        summary = _html.text(f"{_summary(dry.before)}  →  {_summary(dry.after)}")
        return _html.line(summary) + _html.pre(dry.diff.splitlines()), apply

    async def _preview_rescore(self) -> Preview:
        assert self.context is not None
        phase = self.rescore_phase.value
        if phase is None:
            raise WidgetError("no phase chosen")
        async with self.context.client() as client:
            found = await client.send(Routes.submissions(challenge=self._id(), phase=phase, limit=1000))
        counts = Counter(s.status for s in found)
        scored, failed = counts[SubmissionStatus.SCORED], counts[SubmissionStatus.FAILED]
        shown = _html.line(
            f"Every finished submission of phase {_html.text(phase)} will be run again with its current "
            f"data and metrics (now {scored} scored and {failed} failed runs; each "
            "submission is queued once). Earlier scores stay in the ledger."
        )

        async def apply() -> str:
            assert self.context is not None
            async with self.context.client() as client:
                done = await client.send(Routes.rescore(self._id(), phase))
            await self.refresh()
            return f"Queued {len(done.queued)} submission(s) again (audit #{done.audit})."

        return shown, apply

    def _id(self) -> str:
        if self.state is None:
            raise WidgetError("the panel has not loaded yet: press ↻")
        return self.state.challenge


def _choose(dropdown: widgets.Dropdown, options: list[Any]) -> None:
    """New options, keeping the value chosen when it is still there, else the first."""
    keep = dropdown.value
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    dropdown.options = options
    dropdown.value = keep if keep in values else (values[0] if values else None)


def _message(exc: CoopError) -> str:
    if isinstance(exc, CoopClientError) and exc.status == 409:
        return _html.text(exc.message) + " — press Preview again."
    return _html.text(exc.message if isinstance(exc, CoopClientError) else exc.user_message).replace(
        "\n", "<br>"
    )


def _summary(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in values.items())


def render_audit(events: list[AuditEventOut]) -> str:
    if not events:
        return _html.line("No change made through the API yet.")
    rows = []
    for event in events:
        detail = event.detail
        if "before" in detail:
            what = f"{_summary(detail['before'])} → {_summary(detail['after'])}"
        else:
            what = _summary(detail)
        commit = detail.get("commit")
        rows.append(
            [
                _html.moment(event.at),
                _html.text(event.actor),
                _html.text(event.action),
                _html.text(what),
                f"<code>{_html.text(commit[:10])}</code>" if commit else "",
            ]
        )
    return _html.table(["when", "who", "action", "what", "commit"], rows)
