"""``coop settle`` and ``coop invalidate``: an organiser closes a phase's rewards, or takes a
submission found to be an exploit off the boards and takes back its rewards."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from scorer.cli.common import console, fail, print_json, state
from scorer.exceptions import CoopError
from scorer.organise.invalidate import invalidate_submission
from scorer.organise.settle import settle_phase

Actor = Annotated[str | None, typer.Option("--as", help="The organiser acting (default: you).")]


def settle(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Argument(help="The challenge's id.")],
    phase: Annotated[str, typer.Option(help="The phase to settle.")],
    actor: Actor = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the settlement as JSON.")] = False,
) -> None:
    """Settle a phase: its settlement rewarders (rank prizes, credit shares) judged once on
    private scores with the phase's credit tables, and the settlement recorded. A phase is
    settled once. A phase still open may be settled: its settlement rewards are then decided on
    the private scores as they stand now, and that is final (later submissions earn live rewards
    only); its dates do not change. Ended phases are settled by `coop serve` on their own."""
    try:
        done = settle_phase(state(ctx).api(), challenge, phase, actor or getpass.getuser())
    except CoopError as exc:
        fail(exc)
    if as_json:
        print_json({"id": done.id, "challenge": done.challenge_id, "phase": done.phase_id, **done.summary})
        return
    summary = done.summary
    totals = ", ".join(f"{amount} {unit}" for unit, amount in summary["totals"].items()) or "nothing"
    console.print(
        f"[green]✓[/] settled {done.challenge_id}/{done.phase_id} (settlement {done.id}): "
        f"{summary['grants']} grant(s) to {summary['people']} person(s), {totals}",
        highlight=False,
    )
    for failure in summary["failures"]:
        console.print(
            f"[yellow]rewarder {failure['rewarder']} ({failure['type']}) failed:[/] {failure['error']}",
            highlight=False,
        )


def invalidate(
    ctx: typer.Context,
    submission: Annotated[int, typer.Argument(help="The submission's id.")],
    reason: Annotated[str, typer.Option(help="Why it is invalid (kept in the audit trail).")],
    actor: Actor = None,
) -> None:
    """Invalidate a submission found to be an exploit: it and its rescores leave the
    leaderboards, their rewards are compensated, the audit trail keeps who and why. Once only."""
    try:
        done = invalidate_submission(state(ctx).api(), submission, actor or getpass.getuser(), reason)
    except CoopError as exc:
        fail(exc)
    console.print(
        f"[green]✓[/] submission {done.submission_id} of {done.person} ({done.challenge_id}/{done.phase_id}) "
        f"invalidated; {len(done.compensated)} reward(s) compensated (audit #{done.audit})",
        highlight=False,
    )
