"""``coop credit``: a phase's credit table, and ``coop credit audit`` against sampled Shapley."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from coop_client.models import CreditTableOut
from scorer.cli.common import console, fail, print_json, state
from scorer.exceptions import CoopError
from scorer.service.convert.credit import of_credit_table


def credit(
    ctx: typer.Context,
    words: Annotated[
        list[str],
        typer.Argument(metavar="[audit] CHALLENGE", help="Challenge id, after `audit` for the audit."),
    ],
    phase: Annotated[str, typer.Option(help="Phase id.")],
    board: Annotated[str | None, typer.Option(help="Leaderboard key (default: the phase's first).")] = None,
    private: Annotated[bool, typer.Option(help="The private split (organisers).")] = False,
    samples: Annotated[int, typer.Option(help="Audit: random orders of the commits sampled.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print each person's credit on a board's primary column: the gains along the commit graph
    their versions brought. `coop credit audit CHALLENGE --phase P` compares it with Monte-Carlo
    Shapley values under the graph's precedence."""
    if len(words) == 2 and words[0] == "audit":
        _audit(ctx, words[1], phase, board, private, samples, as_json)
        return
    if len(words) != 1:
        raise typer.BadParameter("name one challenge, or `audit CHALLENGE`", param_hint="CHALLENGE")
    try:
        api = state(ctx).api()
        table = of_credit_table(
            api.credit_table(words[0], phase, board, "private" if private else "public", organiser=True)
        )
    except CoopError as exc:
        fail(exc)
    if as_json:
        print_json(table.model_dump(mode="json"))
        return
    console.print(credit_table(words[0], table))


def credit_table(challenge: str, table: CreditTableOut) -> Table:
    """A credit table as rich draws it: person, credit, share, the versions that earned it."""
    title = f"{challenge} — {table.phase} — credit on {table.measure} ({table.split}, {table.direction})"
    out = Table(title=title, title_justify="left")
    for name, justify in (("person", "left"), ("credit", "right"), ("share", "right"), ("versions", "right")):
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in table.rows:
        share = f"{row.credit / table.total:.1%}" if table.total else "—"
        out.add_row(row.person, f"{row.credit:.6g}", share, str(row.versions))
    noise = f"noise threshold {table.noise_threshold:g}"
    out.caption = f"total {table.total:.6g} = best reached − best at the start ({noise})"
    return out


def _audit(
    ctx: typer.Context,
    challenge: str,
    phase: str,
    board: str | None,
    private: bool,
    samples: int,
    as_json: bool,
) -> None:
    try:
        measure, rows = (
            state(ctx)
            .api()
            .credit_audit(challenge, phase, board, "private" if private else "public", samples=samples)
        )
    except (CoopError, ValueError) as exc:
        fail(exc if isinstance(exc, CoopError) else CoopError(str(exc)))
    if as_json:
        print_json({"measure": measure, "samples": samples, "rows": [asdict(row) for row in rows]})
        return
    out = Table(title=f"{challenge} — {phase} — credit on {measure} against Shapley ({samples} samples)")
    for name in ("person", "ladder credit", "Shapley (sampled)", "difference", "± 95 %"):
        out.add_column(name, justify="left" if name == "person" else "right")
    for row in rows:
        style = "yellow" if abs(row.difference) > row.error else None
        out.add_row(
            row.person,
            f"{row.credit:.6g}",
            f"{row.shapley:.6g}",
            f"{row.difference:+.3g}",
            f"{row.error:.2g}",
            style=style,
        )
    console.print(out)
