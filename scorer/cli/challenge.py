"""``coop challenge``: write, check, publish and prepare challenges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import json_schema
from scorer.cli.common import console, errors, fail, state
from scorer.exceptions import CoopError, SpecError

app = typer.Typer(help="Write, validate, publish and prepare challenges.", no_args_is_help=True)


@app.command()
def validate(folder: Annotated[Path, typer.Argument(help="The challenge folder.")]) -> None:
    """Check challenge.yaml and the files it names; list every problem found."""
    try:
        challenge = load_spec(folder)
    except SpecError as exc:
        for problem in exc.problems:
            errors.print(f"[red]✗[/] {problem}", highlight=False)
        errors.print(f"[bold red]{len(exc.problems)} problem(s)[/]")
        raise typer.Exit(1) from None
    console.print(
        f"[green]✓[/] {challenge.id}: {len(challenge.phases)} phase(s), "
        f"{len(challenge.metrics)} metric(s), {len(challenge.leaderboards)} leaderboard(s)"
    )


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="The challenge's name.")],
    directory: Annotated[Path | None, typer.Option("--dir", help="Where to create it.")] = None,
) -> None:
    """Scaffold a working challenge to edit: spec, simulator, scoring and a baseline."""
    try:
        folder = scaffold(name, directory)
    except CoopError as exc:
        fail(exc)
    console.print(f"[green]✓[/] created {folder}; next: coop challenge validate {folder}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of challenge.yaml (for editors)."""
    typer.echo(json.dumps(json_schema(), indent=2))


@app.command("publish")
def publish_command(
    folder: Annotated[Path, typer.Argument(help="The challenge folder.")],
    repository: Annotated[Path, typer.Argument(help="Bare repository to publish to (created).")],
    message: Annotated[str, typer.Option("-m", "--message")] = "Publish the challenge",
    author: Annotated[str, typer.Option(help="Organiser's name.")] = "Organiser",
    email: Annotated[str, typer.Option(help="Organiser's email.")] = "organiser@coopetition.local",
) -> None:
    """Commit a challenge folder to the organiser's branch of a repository."""
    try:
        sha = publish(folder, repository, message=message, author=author, email=email)
    except CoopError as exc:
        fail(exc)
    console.print(f"[green]✓[/] published {folder} to {repository} at {sha[:12]}")


@app.command()
def prepare(
    ctx: typer.Context,
    repo: Annotated[str, typer.Argument(help="The challenge repository (path or URL).")],
    phase: Annotated[list[str] | None, typer.Option(help="Only these phases.")] = None,
    seed: Annotated[int | None, typer.Option(help="Generator seed (default: secret random).")] = None,
    force: Annotated[bool, typer.Option(help="Regenerate data that exists.")] = False,
) -> None:
    """Generate each phase's inputs and hidden answer key into the scorer's private folder."""
    try:
        prepared = state(ctx).api().prepare(repo, phases=phase or (), seed=seed, force=force)
    except CoopError as exc:
        fail(exc)
    for data in prepared:
        console.print(
            f"[green]✓[/] {data.meta['challenge']}/{data.meta['phase']}: "
            f"inputs {data.input_hash[:12]}, answers {data.answers_hash[:12]}"
        )
