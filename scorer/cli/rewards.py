"""``coop rewards``: a challenge's reward history and balances, as tables or JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import JustifyMethod
from rich.table import Table

from coop_client.models import BalanceOut, RewardOut
from scorer.cli.common import console, fail, print_json, state
from scorer.exceptions import CoopError
from scorer.ledger import queries, rewards
from scorer.service.convert.rewards import of_balance, of_rewards


def show_rewards(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Argument(help="Challenge id.")],
    phase: Annotated[str | None, typer.Option(help="Only this phase.")] = None,
    person: Annotated[str | None, typer.Option(help="Only this person.")] = None,
    organiser: Annotated[
        bool, typer.Option(help="View as an organiser: values drawn from private scores too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {rewards, balances}.")] = False,
) -> None:
    """Print grants and compensations, oldest first, and each person's balance."""
    try:
        with state(ctx).api().sessions() as session:
            spec = queries.load_challenge(session, challenge)
            if phase is not None:
                queries.phase_of(spec, phase)
            history = rewards.history(session, challenge, phase_id=phase, person=person)
            totals = rewards.balances(session, challenge, phase_id=phase, person=person)
    except CoopError as exc:
        fail(exc)
    shown = of_rewards(spec, history, organiser=organiser, now=datetime.now(UTC))
    balances = [of_balance(b) for b in totals]
    if as_json:
        print_json(
            {
                "rewards": [r.model_dump(mode="json") for r in shown],
                "balances": [b.model_dump(mode="json") for b in balances],
            }
        )
        return
    where = " — ".join(part for part in (spec.title, phase, person) if part)
    console.print(history_table(f"Rewards — {where}", shown))
    console.print(balances_table(balances))


def history_table(title: str, shown: list[RewardOut]) -> Table:
    table = Table(title=title, title_justify="left")
    columns: list[tuple[str, JustifyMethod]] = [
        ("#", "right"),
        ("when", "left"),
        ("phase", "left"),
        ("person", "left"),
        ("rewarder", "left"),
        ("amount", "right"),
        ("submission", "right"),
        ("why", "left"),
    ]
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")
    for r in shown:
        style = "red" if r.kind == "compensation" else "green"
        table.add_row(
            str(r.id),
            r.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            r.phase,
            r.person,
            f"{r.rewarder_index}: {r.rewarder}" + (" (settled)" if r.moment == "settlement" else ""),
            f"[{style}]{r.amount:+g} {r.unit}[/]",
            "" if r.submission is None else str(r.submission),
            _why(r),
        )
    if not shown:
        table.caption = "no reward yet"
    return table


def balances_table(balances: list[BalanceOut]) -> Table:
    table = Table(title="Balances", title_justify="left")
    table.add_column("person")
    table.add_column("amount", justify="right", style="bold")
    table.add_column("unit")
    for b in balances:
        table.add_row(b.person, f"{b.amount:g}", b.unit)
    return table


def _why(reward: RewardOut) -> str:
    if reward.kind == "compensation":
        return f"takes back #{reward.compensates}: {reward.reason or 'compensation'}"
    if reward.evidence_hidden:
        return "(private scores not visible yet)"
    return reward.rule or ""
