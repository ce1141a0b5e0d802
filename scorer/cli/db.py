"""``coop db``: the ledger's schema."""

from __future__ import annotations

import typer

from scorer.cli.common import console, state
from scorer.ledger.db import current_revision, upgrade

app = typer.Typer(help="The ledger database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(
    ctx: typer.Context, revision: str = typer.Argument("head", help="Alembic revision.")
) -> None:
    """Create or migrate the ledger's tables (Alembic)."""
    settings = state(ctx).settings
    upgrade(settings.db_url, revision)
    console.print(f"ledger at revision [bold]{current_revision(settings.db_url)}[/]")
