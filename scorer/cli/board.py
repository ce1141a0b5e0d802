"""``coop leaderboard``."""

from __future__ import annotations

from typing import Annotated

import typer

from scorer.cli.common import console, fail, print_json, state
from scorer.cli.render import leaderboard_table
from scorer.exceptions import CoopError
from scorer.service.convert.challenges import of_leaderboard


def leaderboard(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Argument(help="Challenge id.")],
    phase: Annotated[str | None, typer.Option(help="Phase id (default: the open phase).")] = None,
    board: Annotated[str | None, typer.Option(help="Leaderboard key (default: the first).")] = None,
    private: Annotated[bool, typer.Option(help="The private split (hidden until visible).")] = False,
    organiser: Annotated[bool, typer.Option(help="View as an organiser (hidden data too).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print a phase's leaderboard, ranked as the challenge says."""
    try:
        api = state(ctx).api()
        spec = api.challenge(challenge)
        view = api.leaderboard(challenge, phase_id=phase, board=board, private=private, organiser=organiser)
    except CoopError as exc:
        fail(exc)
    if as_json:
        print_json(of_leaderboard(spec, view).model_dump(mode="json"))
    else:
        console.print(leaderboard_table(spec, view))
