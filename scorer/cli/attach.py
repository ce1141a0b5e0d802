"""``coop attach`` and ``coop credential``: a participant's clones of the challenges, and git's
credential helper for them (what a server runs at start, or Kubernetes' initContainer)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from coop_client.client import CoopClientError
from coop_widgets.attach import Participant, attach_all
from coop_widgets.credential import run
from scorer.cli.common import console, errors


def attach(
    root: Annotated[Path, typer.Option(help="Folder holding one clone per challenge.")] = Path(
        "~/challenges"
    ),
    service_url: Annotated[
        str, typer.Option(envvar="COOP_SERVICE_URL", help="The scorer's base URL, its prefix included.")
    ] = "",
    user: Annotated[str, typer.Option(envvar="JUPYTERHUB_USER", help="The hub user to attach.")] = "",
) -> None:
    """Clone every active challenge into ROOT/<id> (or fetch an existing clone, never touching its
    work) with the branch `work` pushing to <user>/work, the user's git identity, nbdime and the
    credential helper; the token comes from $JUPYTERHUB_API_TOKEN, never from the command line."""
    given = {**os.environ, "JUPYTERHUB_USER": user, "COOP_SERVICE_URL": service_url}
    participant = Participant.from_environment(given)
    if participant is None:
        errors.print(
            "[bold red]error:[/] give --user and --service-url (or JUPYTERHUB_USER, COOP_SERVICE_URL)"
        )
        raise typer.Exit(2)
    try:
        results = attach_all(root.expanduser(), participant)
    except CoopClientError as exc:
        errors.print(f"[bold red]error:[/] {exc.user_message}", highlight=False)
        raise typer.Exit(1) from None
    for result in results:
        where = root.expanduser() / result.challenge
        if result.ok:
            console.print(f"{result.challenge}: {result.action} ({where})", highlight=False)
        else:
            errors.print(f"[bold red]{result.challenge}:[/] {result.error}", highlight=False)
    if not all(result.ok for result in results):
        raise typer.Exit(1)


def credential(
    action: Annotated[str, typer.Argument(help="What git asks: get, store or erase.")],
) -> None:
    """git's credential helper for the scorer: answers `get` for $COOP_SERVICE_URL's host with
    $JUPYTERHUB_USER and $JUPYTERHUB_API_TOKEN; ignores store and erase."""
    raise typer.Exit(run(action, sys.stdin, sys.stdout))
