"""``OrganiserPanel()``: pick one of the challenges one organises, open or schedule a phase
(end it now), change its limits, edit a rewarder, rescore a phase, publish a new challenge from
a folder, settle a phase or invalidate a submission (:mod:`coop_widgets.organiser_rewards`),
read the audit trail.

Every change goes through the service's organiser routes (scope ``custom:coop:organise``),
which commit it to challenge.yaml on the organiser ref and audit it. Each change takes two
clicks: **Preview** asks the service for a dry run and shows exactly what will change (the diff
of challenge.yaml, what a rescore queues, what a folder would publish); **Confirm** makes that
change, refused (409) if the challenge changed in between, so nothing reviewed is applied to a
different spec. Without ``challenge=``, the panel shows the challenge of the notebook's clone,
else the first one the organiser organises; the picker chooses another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import ipywidgets as widgets
import yaml
from pydantic import ValidationError

from coop_client.client import AsyncCoopClient, Call, Routes, folder_archive
from coop_client.models import (
    AuditEventOut,
    ChallengeSummary,
    OpenPhaseIn,
    OrganiseOut,
    PhaseDatesIn,
    PhaseLimitsIn,
    PublishIn,
    RewarderIn,
    SpecChangeOut,
    SubmissionStatus,
)
from coop_widgets import _git, _html
from coop_widgets._confirmation import Confirmation, Preview
from coop_widgets._context import WidgetError
from coop_widgets._panel import Panel
from coop_widgets.organiser_rewards import InvalidateTab, SettleTab


class OrganiserPanel(Panel):
    """The organisers' controls for a challenge (``challenge``, else the notebook's, else the
    first they organise; the picker chooses another)."""

    def __init__(self, *, challenge: str | None = None, audit_limit: int = 50, **kwargs: object) -> None:
        self.challenge, self.audit_limit = challenge, audit_limit
        self.state: OrganiseOut | None = None
        self.events: list[AuditEventOut] = []
        self.organised: list[ChallengeSummary] = []
        self.picker = widgets.Dropdown(description="Challenge")
        self.open_phase = widgets.Dropdown(description="Phase")
        self.close_current = widgets.Checkbox(description="also end the phase open now", indent=False)
        self.opening = Confirmation(self._preview_open)
        self.dates_phase = widgets.Dropdown(description="Phase")
        self.dates_now = widgets.HTML()
        self.start_text = _moment_text("Start")
        self.end_text = _moment_text("End")
        self.end_now = widgets.Button(description="End it now", icon="stop")
        self.open_ended = widgets.Checkbox(description="no end (open-ended)", indent=False)
        self.private_text = _moment_text("Private", "unchanged (end, never, now or a time)")
        self.scheduling = Confirmation(self._preview_dates)
        self.limits_phase = widgets.Dropdown(description="Phase")
        self.limits_text = widgets.Textarea(layout=widgets.Layout(width="60%", height="8em"))
        self.submissions_text = widgets.Textarea(layout=widgets.Layout(width="60%", height="5em"))
        self.limiting = Confirmation(self._preview_limits)
        self.rewarder_phase = widgets.Dropdown(description="Phase")
        self.rewarder_index = widgets.Dropdown(description="Rewarder")
        self.rewarder_text = widgets.Textarea(layout=widgets.Layout(width="60%", height="8em"))
        self.rewarding = Confirmation(self._preview_rewarder)
        self.rescore_phase = widgets.Dropdown(description="Phase")
        self.rescoring = Confirmation(self._preview_rescore)
        self.folder = widgets.Text(
            description="Folder",
            placeholder="the challenge's folder, e.g. ~/my-challenge",
            layout=widgets.Layout(width="60%"),
        )
        self.publishing = Confirmation(self._preview_publish)
        self.settle = SettleTab(self._id, self._client, self.refresh)
        self.invalidate = InvalidateTab(self._id, self._client, self.refresh)
        self.audit = widgets.HTML()
        self.tabs = widgets.Tab(
            [
                widgets.VBox([self.open_phase, self.close_current, self.opening]),
                widgets.VBox(
                    [
                        self.dates_phase,
                        self.dates_now,
                        self.start_text,
                        widgets.HBox([self.end_text, self.end_now]),
                        self.open_ended,
                        self.private_text,
                        self.scheduling,
                    ]
                ),
                widgets.VBox(
                    [
                        self.limits_phase,
                        widgets.HTML("Run limits (as in challenge.yaml; empty: the defaults)"),
                        self.limits_text,
                        widgets.HTML("Submission limits"),
                        self.submissions_text,
                        self.limiting,
                    ]
                ),
                widgets.VBox([self.rewarder_phase, self.rewarder_index, self.rewarder_text, self.rewarding]),
                widgets.VBox([self.rescore_phase, self.rescoring]),
                widgets.VBox([self.folder, self.publishing]),
                self.settle,
                self.invalidate,
                self.audit,
            ],
            titles=[
                "Open a phase",
                "Schedule a phase",
                "Limits",
                "Edit a rewarder",
                "Rescore",
                "Publish",
                "Settle",
                "Invalidate",
                "Audit trail",
            ],
        )
        self.tabs.layout.display = "none"
        self.picker.layout.display = "none"
        self._filling = False
        self.picker.observe(lambda _c: self._picked(), "value")
        self.dates_phase.observe(lambda _c: self._show_dates(), "value")
        self.end_now.on_click(lambda _b: setattr(self.end_text, "value", "now"))
        self.limits_phase.observe(lambda _c: self._show_limits(), "value")
        self.rewarder_phase.observe(lambda _c: self._list_rewarders(), "value")
        self.rewarder_index.observe(lambda _c: self._show_rewarder(), "value")
        super().__init__(**kwargs)
        self.children = (*self.children, self.picker, self.tabs)
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
        self.organised = await client.send(Routes.organised())
        challenge = await self._chosen()
        self._filling = True
        try:
            self.picker.options = [(f"{c.title} ({c.id})", c.id) for c in self.organised]
            self.picker.value = challenge
        finally:
            self._filling = False
        self.picker.layout.display = None if self.organised else "none"
        self.tabs.layout.display = None
        if challenge is None:
            self.state, self.events = None, []
            self.title.value = "<b>Organiser panel</b>"
            self.body.value = _html.line("No challenge is served here yet: publish one (the Publish tab).")
            self.tabs.selected_index = 5
            return
        self.state = await client.send(Routes.organise(challenge))
        self.events = await client.send(Routes.audit(challenge, limit=self.audit_limit))
        self.title.value = (
            f"<b>Organiser panel</b> · {_html.text(challenge)} · {_html.text(self.state.ref)} "
            f"at <code>{self.state.base[:10]}</code>"
        )
        self.body.value = ""
        self._fill()

    async def _chosen(self) -> str | None:
        """The challenge to show: the picker's, else ``challenge``, else the notebook clone's,
        else the first the organiser organises."""
        assert self.context is not None
        ids = [c.id for c in self.organised]
        for wanted in (self.picker.value, self.challenge):
            if wanted in ids:
                return str(wanted)
        if self.challenge:
            raise WidgetError(f"no challenge {self.challenge!r} to organise here (here: {', '.join(ids)})")
        repo = await self.context.repository()
        found = await _git.challenge_of(repo) if repo is not None else None
        return found if found in ids else (ids[0] if ids else None)

    def _picked(self) -> None:
        if not self._filling and self.state is not None and self.picker.value != self.state.challenge:
            self._tasks.start(self.refresh())

    def _fill(self) -> None:
        assert self.state is not None
        phases = self.state.spec["phases"]
        now = datetime.now(UTC)
        upcoming = [p for p in phases if datetime.fromisoformat(p["start"]) > now]
        self.open_phase.options = [("the next phase to start", None)] + [
            (f"{p['id']} ({p['title']}, starts {p['start']})", p["id"]) for p in upcoming
        ]
        ids = [p["id"] for p in phases]
        current = next((p["id"] for p in phases if _open(p, now)), None)
        _choose(self.dates_phase, ids, prefer=current)
        self._show_dates()
        _choose(self.limits_phase, ids, prefer=current)
        self._show_limits()
        with_rewarders = [p["id"] for p in phases if p.get("rewarders")]
        _choose(self.rewarder_phase, with_rewarders)
        self._list_rewarders()
        _choose(self.rescore_phase, ids)
        self.settle.fill(phases, prefer=current)
        self.audit.value = render_audit(self.events)

    def _phase(self, phase_id: str | None, *, written: bool = False) -> dict[str, Any]:
        """A phase of the spec: validated (defaults filled in), or as challenge.yaml writes it."""
        if self.state is None:
            return {}
        spec = self.state.written if written else self.state.spec
        return next((p for p in spec.get("phases") or [] if p.get("id") == phase_id), {})

    def _show_dates(self) -> None:
        phase = self._phase(self.dates_phase.value)
        if not phase:
            self.dates_now.value = ""
            return
        visible = phase["test_split"]["private_visible"]
        self.dates_now.value = _html.line(
            f"Now: starts {phase['start']}, ends {phase.get('end') or 'never (open-ended)'}; private "
            f"scores shown {'at its end' if visible == 'end' else visible}. Leave a field empty to keep it."
        )
        for field in (self.start_text, self.end_text, self.private_text):
            field.value = ""
        self.open_ended.value = False

    def _show_limits(self) -> None:
        phase = self._phase(self.limits_phase.value, written=True)
        for key, text in (("limits", self.limits_text), ("submissions", self.submissions_text)):
            written = phase.get(key)
            text.value = yaml.safe_dump(written, sort_keys=False, default_flow_style=False) if written else ""

    def _list_rewarders(self) -> None:
        rewarders = self._phase(self.rewarder_phase.value).get("rewarders") or []
        labels = [(f"{i}: {r['type']} ({r['amount']:g} points)", i) for i, r in enumerate(rewarders)]
        _choose(self.rewarder_index, labels)
        self._show_rewarder()

    def _show_rewarder(self) -> None:
        rewarders = self._phase(self.rewarder_phase.value, written=True).get("rewarders") or []
        index = self.rewarder_index.value
        chosen = rewarders[index] if index is not None and index < len(rewarders) else None
        self.rewarder_text.value = yaml.safe_dump(chosen, sort_keys=False) if chosen else ""

    # --- previews, and the changes they lead to -----------------------------------------------------

    async def _preview_open(self) -> Preview:
        request = OpenPhaseIn(phase=self.open_phase.value, close_current=self.close_current.value)
        return await self._spec_change(lambda change: Routes.open_phase(self._id(), change), request)

    async def _preview_dates(self) -> Preview:
        phase = self.dates_phase.value
        if phase is None:
            raise WidgetError("no phase chosen")
        given = {
            "start": self.start_text.value.strip() or None,
            "end": self.end_text.value.strip() or None,
            "private_visible": self.private_text.value.strip() or None,
        }
        try:
            request = PhaseDatesIn(phase=phase, open_ended=self.open_ended.value, **given)
        except ValidationError as exc:
            fields = ", ".join(str(e["loc"][0]) for e in exc.errors())
            raise WidgetError(f"{fields}: write a time like 2026-06-01T12:00:00Z, or now") from None
        preview, apply = await self._spec_change(lambda c: Routes.phase_dates(self._id(), c), request)

        async def apply_and_say() -> str:
            done = await apply()
            return done + self._visibility(phase)

        return preview, apply_and_say

    def _visibility(self, phase_id: str) -> str:
        """What the change means for private scores, once the panel has read the spec again."""
        phase = self._phase(phase_id)
        visible = phase.get("test_split", {}).get("private_visible")
        at = phase.get("end") if visible == "end" else (None if visible == "never" else visible)
        if at is not None and datetime.fromisoformat(at) <= datetime.now(UTC):
            return f" The private scores of {phase_id} are visible to everyone."
        return ""

    async def _preview_limits(self) -> Preview:
        phase = self.limits_phase.value
        if phase is None:
            raise WidgetError("no phase chosen")
        written = self._phase(phase, written=True)
        changed = {}
        for key, text in (("limits", self.limits_text), ("submissions", self.submissions_text)):
            given = _mapping(text.value, key)
            if given != (written.get(key) or {}):
                changed[key] = given
        if not changed:
            raise WidgetError("nothing changed: edit the limits first")
        request = PhaseLimitsIn(phase=phase, **changed)
        return await self._spec_change(lambda c: Routes.phase_limits(self._id(), c), request)

    async def _preview_publish(self) -> Preview:
        assert self.context is not None
        if not self.folder.value.strip():
            raise WidgetError("name the challenge's folder (the one holding challenge.yaml)")
        archive = folder_archive(self.folder.value.strip())
        async with self.context.client() as client:
            dry = await client.send(Routes.publish(PublishIn(archive=archive, dry_run=True)))
        shown = _html.line(
            f"{_html.text(dry.challenge)} ({_html.text(dry.title)}) will be published here: phases "
            f"{_html.text(', '.join(dry.phases))}; {len(dry.files)} files."
        ) + _html.pre(dry.files)

        async def apply() -> str:
            assert self.context is not None
            async with self.context.client() as client:
                made = await client.send(Routes.publish(PublishIn(archive=archive)))
            self.picker.value = None
            self.challenge = made.challenge
            await self.refresh()
            return f"Published {made.challenge}, commit {(made.commit or '')[:10]} (audit #{made.audit})."

        return shown, apply

    async def _preview_rewarder(self) -> Preview:
        try:
            given = yaml.safe_load(self.rewarder_text.value)
        except yaml.YAMLError as exc:
            raise WidgetError(f"the rewarder is not valid YAML: {exc}") from None
        if not isinstance(given, dict):
            raise WidgetError("write the rewarder as a mapping, e.g. type: score-threshold, amount: 10")
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

    def _client(self) -> AsyncCoopClient:
        assert self.context is not None
        return self.context.client()


def _choose(dropdown: widgets.Dropdown, options: list[Any], *, prefer: Any = None) -> None:
    """New options, keeping the value chosen when it is still there, else ``prefer``, else the first."""
    keep = dropdown.value
    values = [o[1] if isinstance(o, tuple) else o for o in options]
    dropdown.options = options
    fallback = prefer if prefer in values else (values[0] if values else None)
    dropdown.value = keep if keep in values else fallback


def _moment_text(
    label: str, placeholder: str = "unchanged (now or a time, e.g. 2026-06-01T12:00:00Z)"
) -> widgets.Text:
    return widgets.Text(description=label, placeholder=placeholder, layout=widgets.Layout(width="60%"))


def _open(phase: dict[str, Any], now: datetime) -> bool:
    end = phase.get("end")
    return datetime.fromisoformat(phase["start"]) <= now and (
        end is None or datetime.fromisoformat(end) > now
    )


def _mapping(text: str, what: str) -> dict[str, Any]:
    try:
        given = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise WidgetError(f"the {what} are not valid YAML: {exc}") from None
    if not isinstance(given, dict):
        raise WidgetError(f"write the {what} as a mapping, e.g. per_day: 5")
    return given


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
