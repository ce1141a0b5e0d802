"""``coop profile``: a person's profile read from the ledger (``show``), and one's own edited
through the service (``edit``: only the person the token belongs to can change it).

A Typer group: further commands join it with ``@app.command("name")`` in their own module, and
are registered by importing that module in :mod:`scorer.cli`."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from coop_client.client import CoopClient, CoopClientError
from coop_client.models import ProfileIn, ProfileOut
from scorer.cli.common import console, errors, fail, print_json, state
from scorer.exceptions import CoopError
from scorer.profiles.read import read_profile
from scorer.service.convert.profiles import of_profile

app = typer.Typer(help="People's profiles: show one, edit your own.", no_args_is_help=True)


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's hub name.")],
    organiser: Annotated[
        bool, typer.Option(help="View as an organiser: a hidden profile, private scores before they show.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON (ProfileOut).")] = False,
) -> None:
    """Print a person's profile: their own words, the phases they joined, their newest
    submissions, ranks, rewards, credit and achievements (as anyone may see it unless
    --organiser; a hidden profile is then "no profile")."""
    now = datetime.now(UTC)
    try:
        found = read_profile(state(ctx).api(), name, viewer=None, organiser=organiser, now=now)
    except CoopError as exc:
        fail(exc)
    shown = of_profile(found, organiser=organiser, now=now)
    if as_json:
        print_json(shown.model_dump(mode="json"))
        return
    print_profile(shown)


@app.command("edit")
def edit(
    display_name: Annotated[
        str | None, typer.Option(help="Your name as shown ('' for your hub name).")
    ] = None,
    affiliation: Annotated[str | None, typer.Option(help="Where you work or study ('' to clear).")] = None,
    orcid: Annotated[
        str | None, typer.Option(help="Your ORCID iD, e.g. 0000-0002-1825-0097 ('' to clear).")
    ] = None,
    link: Annotated[
        list[str] | None, typer.Option(help="An http(s) link; repeat it. Replaces your links.")
    ] = None,
    clear_links: Annotated[bool, typer.Option(help="Remove all your links.")] = False,
    hidden: Annotated[
        bool | None, typer.Option("--hide/--show", help="Hide your profile from search and from others.")
    ] = None,
    service_url: Annotated[
        str, typer.Option(envvar="COOP_SERVICE_URL", help="The scorer's base URL, its prefix included.")
    ] = "",
) -> None:
    """Change your own profile through the service, as the owner of $JUPYTERHUB_API_TOKEN; what
    you leave out stays as it is."""
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not service_url or not token:
        errors.print("[bold red]error:[/] give --service-url (or COOP_SERVICE_URL) and JUPYTERHUB_API_TOKEN")
        raise typer.Exit(2)
    try:
        with CoopClient(service_url, token) as client:
            current = client.profile(client.me().name)
            change = ProfileIn(
                display_name=current.display_name if display_name is None else display_name,
                affiliation=current.affiliation if affiliation is None else affiliation,
                orcid=current.orcid if orcid is None else orcid,
                links=[] if clear_links else (link or current.links),
                hidden=current.hidden if hidden is None else hidden,
            )
            print_profile(client.edit_profile(change))
    except CoopClientError as exc:
        errors.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        raise typer.Exit(1) from None
    except ValueError as exc:  # pydantic refuses a field before anything is sent
        errors.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def print_profile(profile: ProfileOut) -> None:
    """The profile as text; what people wrote is escaped, never read as rich markup."""
    head = f"[bold]{escape(profile.display_name)}[/] ({escape(profile.person)})"
    if profile.hidden:
        head += " [dim]hidden[/]"
    console.print(head, highlight=False)
    for label, value in (("affiliation", profile.affiliation), ("ORCID iD", profile.orcid)):
        if value:
            console.print(f"{label}: {escape(value)}", highlight=False)
    for url in profile.links:
        console.print(f"link: {escape(url)}", highlight=False)
    joined = Table(title="Phases joined", title_justify="left")
    for column in ("challenge", "phase", "submissions", "last"):
        joined.add_column(column)
    for j in profile.joined:
        joined.add_row(escape(j.title), j.phase, str(j.submissions), j.last_at.strftime("%Y-%m-%d"))
    console.print(joined)
    ranks = Table(title="Ranks", title_justify="left")
    for column in ("challenge", "phase", "board", "split", "rank", "move"):
        ranks.add_column(column)
    for r in profile.ranks:
        move = "" if r.delta is None else f"{r.delta:+d}"
        ranks.add_row(r.challenge, r.phase, r.leaderboard, r.split, f"{r.rank}/{r.of}", move)
    console.print(ranks)
    for c in profile.credit:
        console.print(
            f"credit in {c.challenge}/{c.phase} ({c.measure}, {c.split}): {c.credit:g}", highlight=False
        )
        for commit in c.commits:
            console.print(
                f"  {commit.commit[:10]} {escape(commit.notebook)}: {commit.increment:+g} →{commit.credit:g}",
                highlight=False,
            )
    for b in profile.balances:
        console.print(f"balance in {b.challenge}: {b.amount:g} {escape(b.unit)}", highlight=False)
    for a in profile.achievements:
        console.print(
            f"achievement: {a.rewarder} ({a.challenge}/{a.phase}) {escape(a.rule or '')}", highlight=False
        )
    given, received = len(profile.likes_given), profile.likes_received
    console.print(
        f"{profile.submissions.total} submissions, {received} likes received, {given} given", highlight=False
    )
