"""The ``coop`` command line: thin Typer commands over :class:`scorer.facade.CoopAPI`."""

from __future__ import annotations

import sys

# jsonschema imports rfc3987-syntax when installed (jupyter-events asks for it), which builds an
# Earley grammar for the "iri" format on import: about 0.8 s of every coop command, though
# nothing a coop process validates (notebooks, through nbformat) checks formats. jsonschema
# treats it as optional, so coop processes go without it. Must run before anything imports
# jsonschema.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from pathlib import Path
from typing import Annotated

import typer

from scorer.cli import (
    attach,
    board,
    challenge,
    credit,
    db,
    demo,
    env,
    people,
    profile,
    rewards,
    rewards_admin,
    serve,
    submissions,
    up,
)
from scorer.cli import credentials as credentials  # export, import, link-code, rotate-key in `coop profile`
from scorer.cli.common import State, fail
from scorer.config import load_settings
from scorer.exceptions import CoopError

app = typer.Typer(
    name="coop",
    help="Coopetition: score challenge notebooks, keep the ledger, print leaderboards.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(challenge.app, name="challenge")
app.add_typer(db.app, name="db")
app.add_typer(env.app, name="env")
app.add_typer(people.app, name="people")
app.add_typer(profile.app, name="profile")
app.command("score")(submissions.score)
app.command("rescore")(submissions.rescore)
app.command("recover")(submissions.recover)
app.command("resubmit")(submissions.resubmit_refused)
app.command("submission")(submissions.show_submission)
app.command("leaderboard")(board.leaderboard)
app.command("credit")(credit.credit)
app.command("rewards")(rewards.show_rewards)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("up")(up.up)
app.command("attach")(attach.attach)
app.command("credential")(attach.credential)
app.command("settle")(rewards_admin.settle)
app.command("invalidate")(rewards_admin.invalidate)


@app.callback()
def main_options(
    ctx: typer.Context,
    home: Annotated[
        Path | None, typer.Option(help="Scorer state folder (database, mirrors, answer keys).")
    ] = None,
    db_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the ledger.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address to use.")] = None,
    workers: Annotated[int | None, typer.Option(help="Workers of the local Dask cluster.")] = None,
    config: Annotated[Path | None, typer.Option(help="A coop_config.py file.")] = None,
) -> None:
    try:
        settings = load_settings(
            config,
            home=str(home.resolve()) if home else None,
            db_url=db_url,
            scheduler_address=scheduler,
            n_workers=workers,
        )
    except CoopError as exc:
        fail(exc)
    ctx.obj = State(settings)


def main() -> None:
    app()
