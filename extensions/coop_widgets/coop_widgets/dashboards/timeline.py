"""Where a challenge and its phases stand in time (open, upcoming, ended) and the phases as a
timeline, from the toy to the real problem: pure functions of the service's models."""

from __future__ import annotations

from datetime import datetime

from coop_client.models import ChallengeOut, PhaseOut
from coop_widgets import _html
from coop_widgets.dashboards import page

#: A state, as its badge says it (the text carries the meaning; the colour only repeats it).
OPEN, UPCOMING, ENDED = "open", "upcoming", "ended"


def phase_state(phase: PhaseOut, now: datetime) -> str:
    if phase.open:
        return OPEN
    return UPCOMING if now < phase.start else ENDED


def badge(state: str) -> str:
    return f'<span class="coop-state {state}">{page.text(state)}</span>'


def challenge_state(challenge: ChallengeOut, now: datetime) -> tuple[str, str]:
    """The challenge's state and a sentence saying it, e.g. ("open", "Phase … open, ends …")."""
    states = {phase.id: phase_state(phase, now) for phase in challenge.phases}
    current = next((p for p in challenge.phases if states[p.id] == OPEN), None)
    if current is not None:
        ends = f"ends {_html.moment(current.end)}" if current.end else "no end date"
        return OPEN, f"{current.title}: open, {ends}"
    coming = sorted((p for p in challenge.phases if states[p.id] == UPCOMING), key=lambda p: p.start)
    if coming:
        first = "starts" if len(coming) == len(challenge.phases) else "next phase starts"
        return UPCOMING, f"{coming[0].title}: {first} {_html.moment(coming[0].start)}"
    ended = [p.end for p in challenge.phases if p.end is not None]
    return ENDED, f"ended {_html.moment(max(ended))}" if ended else "ended"


def size(count: int) -> str:
    """Bytes as a person reads them: ``2 GiB``, ``5 MiB``, ``300 KiB``."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} B"


def limits(phase: PhaseOut) -> list[str]:
    """The phase's limits and rules in words."""
    rules = []
    run = phase.run_limits
    if run is not None:
        rules.append(
            f"each run: {run.wall_time:g} s in all, {run.cell_time:g} s per cell, {size(run.memory)} of "
            f"memory, {size(run.disk)} of files, no network"
        )
    if phase.submissions.per_day is not None:
        rules.append(f"{phase.submissions.per_day} submissions a day")
    if phase.submissions.per_person is not None:
        rules.append(f"{phase.submissions.per_person} submissions per person in the phase")
    if phase.submissions.min_interval:
        rules.append(f"at least {phase.submissions.min_interval:g} s between submissions")
    if phase.public_fraction is not None:
        rules.append(f"public scores use {phase.public_fraction:.0%} of the test set, private ones the rest")
    if phase.open_code is True:
        rules.append("every solution's code is open to all")
    elif phase.open_code is False:
        rules.append("solutions' code stays with their authors")
    elif phase.open_code is not None:
        rules.append(f"solutions' code opens to all from {_html.moment(phase.open_code)}")
    if phase.private_visible_at is None:
        rules.append("private scores are never shown")
    else:
        rules.append(f"private scores shown from {_html.moment(phase.private_visible_at)}")
    return rules


def timeline(challenge: ChallengeOut, now: datetime, selected: str | None = None) -> str:
    """The phases in order as a list of steps, each with its dates, state, rules and a link."""
    steps = []
    for number, phase in enumerate(sorted(challenge.phases, key=lambda p: p.start), start=1):
        state = phase_state(phase, now)
        end = _html.moment(phase.end) if phase.end else "no end date"
        rules = "".join(f"<li>{page.text(rule)}</li>" for rule in limits(phase))
        chosen = ' aria-current="step"' if phase.id == selected else ""
        title = page.anchor(page.link("challenge", id=challenge.id, phase=phase.id), phase.title)
        steps.append(
            f'<li class="coop-step {state}"{chosen}><div>Phase {number} {badge(state)}</div>'
            f"<h3>{title}</h3><div>{_html.moment(phase.start)} → {page.text(end)}</div>"
            f'<ul class="coop-rules">{rules}</ul></li>'
        )
    return f'<ol class="coop-timeline" aria-label="Phases">{"".join(steps)}</ol>'
