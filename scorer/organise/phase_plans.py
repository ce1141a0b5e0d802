"""What an organiser's change to a phase writes in ``challenge.yaml``: its dates (start, end,
when private scores show), its run and submission limits, one of its rewarders.

Each ``*_plan`` gives the plan :func:`scorer.organise.actions.change_spec` calls with the spec
on the organiser ref (validated, and as written): the values to set and a summary. A value the
file did not write and that equals the spec's default is left out (a panel that shows the
validated spec sends ``threshold: null`` back; the file should not grow it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from scorer.challenge.spec import Challenge, Rewarder, RunLimits, SubmissionLimits
from scorer.exceptions import OrganiseError
from scorer.ledger.queries import phase_of
from scorer.organise.spec_edit import REMOVE, SpecEdit, YamlPath

EDIT_REWARDER = "edit-rewarder"
EDIT_DATES = "edit-phase-dates"
EDIT_LIMITS = "edit-phase-limits"

#: A moment as an organiser gives it: a time, or ``"now"`` (the moment the change is made).
Moment = datetime | Literal["now"]
Plan = Callable[[Challenge, dict[str, Any]], SpecEdit]


def rewarder_plan(phase_id: str, index: int, rewarder: dict[str, Any]) -> Plan:
    """Replace rewarder ``index`` of a phase by ``rewarder`` (its fields as in challenge.yaml)."""

    def plan(spec: Challenge, data: dict[str, Any]) -> SpecEdit:
        phase = phase_of(spec, phase_id)
        where = spec.phases.index(phase)
        count = len(phase.rewarders)
        if not 0 <= index < count:
            raise OrganiseError(f"phase {phase_id!r} has {count} rewarder(s): there is no rewarder {index}")
        before = data["phases"][where]["rewarders"][index]
        after = as_written(Rewarder, before, rewarder)
        return SpecEdit(
            EDIT_REWARDER,
            [(("phases", where, "rewarders", index), after)],
            {"phase": phase_id, "index": index, "rewarder": before},
            {"phase": phase_id, "index": index, "rewarder": after},
            f"Edit rewarder {index} ({rewarder.get('type', '?')}) of phase {phase_id}",
        )

    return plan


def dates_plan(
    phase_id: str,
    *,
    now: datetime,
    start: Moment | None = None,
    end: Moment | None = None,
    open_ended: bool = False,
    private_visible: Moment | Literal["end", "never"] | None = None,
) -> Plan:
    """Set a phase's start, end (or none: ``open_ended``) and when its private scores show;
    ``None`` leaves a date as it is."""
    if start is None and end is None and not open_ended and private_visible is None:
        raise OrganiseError("say what to change: start, end, open_ended or private_visible")
    if end is not None and open_ended:
        raise OrganiseError("a phase has an end or is open-ended, not both")

    def plan(spec: Challenge, data: dict[str, Any]) -> SpecEdit:
        phase = phase_of(spec, phase_id)
        where = spec.phases.index(phase)
        written = data["phases"][where]
        changes: list[tuple[YamlPath, Any]] = []
        placed: dict[YamlPath, str] = {}
        before: dict[str, Any] = {"phase": phase_id}
        after: dict[str, Any] = {"phase": phase_id}
        words = []
        if start is not None:
            changes.append((("phases", where, "start"), _moment(start, now)))
            before["start"], after["start"] = iso(phase.start), iso(_moment(start, now))
            words.append(f"start {after['start']}")
        if end is not None or (open_ended and "end" in written):
            value = _moment(end, now) if end is not None else None
            changes.append((("phases", where, "end"), REMOVE if value is None else value))
            placed[("phases", where, "end")] = "start"
            before["end"], after["end"] = iso(phase.end), iso(value)
            words.append("no end" if open_ended else f"end {after['end']}")
        if private_visible is not None:
            shown: str | datetime = (
                private_visible
                if private_visible == "end" or private_visible == "never"
                else _moment(private_visible, now)
            )
            split = written.get("test_split")
            if isinstance(split, dict):
                changes.append((("phases", where, "test_split", "private_visible"), shown))
            else:
                changes.append((("phases", where, "test_split"), {"private_visible": shown}))
            before["private_visible"] = _visible(phase.test_split.private_visible)
            after["private_visible"] = _visible(shown)
            words.append(f"private scores shown at {after['private_visible']}")
        if not changes:
            raise OrganiseError(f"nothing to change: phase {phase_id!r} has no end already")
        message = f"Phase {phase_id}: {', '.join(words)}"
        return SpecEdit(EDIT_DATES, changes, before, after, message, placed)

    return plan


def limits_plan(
    phase_id: str, *, limits: dict[str, Any] | None = None, submissions: dict[str, Any] | None = None
) -> Plan:
    """Replace a phase's run ``limits`` and/or its ``submissions`` limits (``None``: unchanged)."""
    if limits is None and submissions is None:
        raise OrganiseError("say what to change: limits, submissions or both")

    def plan(spec: Challenge, data: dict[str, Any]) -> SpecEdit:
        where = spec.phases.index(phase_of(spec, phase_id))
        written = data["phases"][where]
        changes: list[tuple[YamlPath, Any]] = []
        before: dict[str, Any] = {"phase": phase_id}
        after: dict[str, Any] = {"phase": phase_id}
        for key, model, given in (
            ("limits", RunLimits, limits),
            ("submissions", SubmissionLimits, submissions),
        ):
            if given is None:
                continue
            old = written.get(key) or {}
            new = as_written(model, old, given)
            if new == old:
                continue
            changes.append((("phases", where, key), new))
            before[key], after[key] = old, new
        keys = " and ".join(k for k in ("limits", "submissions") if k in after)
        return SpecEdit(EDIT_LIMITS, changes, before, after, f"Change the {keys} of phase {phase_id}")

    return plan


def as_written(
    model: type[BaseModel], written: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """``given`` as close to ``written`` as it means the same: a value equal once validated to
    the written one is kept as written (``2GiB``, not ``2147483648``), and a key the file does
    not write whose value is the model's default is left out."""
    kept = {}
    for key, value in given.items():
        field = model.model_fields.get(key)
        if field is not None and field.annotation is not None:
            adapter = TypeAdapter(field.annotation)
            try:
                meant = adapter.validate_python(value)
                if key in written and adapter.validate_python(written[key]) == meant:
                    value = written[key]
                elif (
                    key not in written
                    and not field.is_required()
                    and meant == field.get_default(call_default_factory=True)
                ):
                    continue  # the default, which the file does not write
            except ValidationError:
                pass  # kept as given: validating the whole spec names the problem
        kept[key] = value
    return kept


def _moment(value: Moment, now: datetime) -> datetime:
    moment = now if value == "now" else value
    assert isinstance(moment, datetime)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    """A time as challenge.yaml and the audit trail write it."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _visible(value: str | datetime) -> str | None:
    return value if isinstance(value, str) else iso(value)
