"""``coop env``: the challenges' software environments on this machine, and collecting the ones
nothing uses any more (they are built by ``coop challenge prepare``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from scorer.cli.common import console, state
from scorer.environments.store import Collected

app = typer.Typer(help="Challenges' software environments.", no_args_is_help=True)


@app.command("gc")
def gc(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be removed.")] = False,
) -> None:
    """Remove every environment no phase of a challenge in the ledger uses and no running
    submission holds; half-finished builds nobody works on go too."""
    rows = state(ctx).api().collect_environments(dry_run=dry_run)
    _table(rows, "would remove" if dry_run else "removed")


@app.command("list")
def list_command(ctx: typer.Context) -> None:
    """Every built environment, its size and the phases that use it (nothing is removed)."""
    _table(state(ctx).api().collect_environments(dry_run=True), "unused")


def _table(rows: list[Collected], gone: str) -> None:
    table = Table("environment", "size", "state")
    for row in rows:
        table.add_row(row.folder, f"{row.size / 1024**2:.0f} MiB", row.kept_for or f"[yellow]{gone}[/]")
    console.print(table)
    freed = sum(row.size for row in rows if row.kept_for is None)
    console.print(f"{len(rows)} environment(s); {gone}: {freed / 1024**2:.0f} MiB")
