"""``coop challenge``: write, check, publish and prepare challenges; schedule a served
challenge's phases and change their limits (each change previewed with ``--dry-run``, committed
to challenge.yaml on the organiser branch and audited, as the organiser panel does)."""

from __future__ import annotations

import getpass
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
import yaml
from rich.markup import escape

from scorer.challenge.load import environment_problems, load_spec
from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import json_schema
from scorer.cli.common import console, errors, fail, state
from scorer.environments.phases import PhaseEnvironment
from scorer.exceptions import (
    CoopError,
    EnvironmentBuildFailed,
    OrganiseError,
    SpecError,
)
from scorer.organise import actions as organise

app = typer.Typer(help="Write, validate, publish and prepare challenges.", no_args_is_help=True)


@app.command()
def validate(folder: Annotated[Path, typer.Argument(help="The challenge folder.")]) -> None:
    """Check challenge.yaml and the files it names; list every problem found."""
    try:
        challenge = load_spec(folder)
    except SpecError as exc:
        for problem in exc.problems:
            errors.print(f"[red]✗[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        errors.print(f"[bold red]{len(exc.problems)} problem(s)[/]")
        raise typer.Exit(1) from None
    for warning in environment_problems(challenge, folder, str(folder / "challenge.yaml"), warnings=True):
        errors.print(f"[yellow]![/] {escape(str(warning))}", highlight=False, soft_wrap=True)
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
    """Build each phase's software environment (once: reused while its inputs are unchanged),
    then generate its inputs and hidden answer key into the scorer's private folder."""
    started = time.monotonic()
    try:
        with console.status("registering the challenge") as status:

            def said(message: str) -> None:
                status.update(f"{message} [dim]({time.monotonic() - started:.0f} s)[/]")

            prepared = (
                state(ctx).api().prepare(repo, phases=phase or (), seed=seed, force=force, progress=said)
            )
    except EnvironmentBuildFailed as exc:
        if exc.log_tail:
            errors.print(exc.log_tail, highlight=False, markup=False)
        fail(exc)
    except CoopError as exc:
        fail(exc)
    print_environments(prepared.environments)
    for data in prepared.data:
        console.print(
            f"[green]✓[/] {data.meta['challenge']}/{data.meta['phase']}: "
            f"inputs {data.input_hash[:12]}, answers {data.answers_hash[:12]}"
        )


TimeOption = Annotated[
    str | None, typer.Option(help="now, or a time such as 2026-06-01T12:00:00Z (default: unchanged).")
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Only show what would change.")]
Actor = Annotated[str | None, typer.Option("--as", help="Who makes the change (default: you).")]


@app.command()
def schedule(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Argument(help="A challenge served here.")],
    phase: Annotated[str, typer.Argument(help="The phase.")],
    start: TimeOption = None,
    end: TimeOption = None,
    open_ended: Annotated[bool, typer.Option("--open-ended", help="Remove the phase's end.")] = False,
    private_visible: Annotated[
        str | None, typer.Option(help="When private scores show: end, never, now or a time.")
    ] = None,
    dry_run: DryRun = False,
    actor: Actor = None,
) -> None:
    """Set a phase's start, end (--end now ends it) and when its private scores show."""
    try:
        api = state(ctx).api()
        change = organise.edit_phase_dates(
            api,
            organise.served_repository(api, challenge),
            challenge,
            actor or getpass.getuser(),
            phase_id=phase,
            start=_moment(start, "--start"),
            end=_moment(end, "--end"),
            open_ended=open_ended,
            private_visible=private_visible
            if private_visible in ("end", "never")
            else _moment(private_visible, "--private-visible"),
            dry_run=dry_run,
        )
    except CoopError as exc:
        fail(exc)
    _said(change)


@app.command()
def limits(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Argument(help="A challenge served here.")],
    phase: Annotated[str, typer.Argument(help="The phase.")],
    run: Annotated[
        str | None,
        typer.Option("--limits", help="Run limits as YAML, e.g. '{wall_time: 120, memory: 1GiB}'."),
    ] = None,
    submissions: Annotated[
        str | None, typer.Option(help="Submission limits as YAML, e.g. '{per_day: 5, min_interval: 60}'.")
    ] = None,
    dry_run: DryRun = False,
    actor: Actor = None,
) -> None:
    """Replace a phase's run limits and/or submission limits (each mapping replaced whole)."""
    try:
        api = state(ctx).api()
        change = organise.edit_phase_limits(
            api,
            organise.served_repository(api, challenge),
            challenge,
            actor or getpass.getuser(),
            phase_id=phase,
            limits=_mapping(run, "--limits"),
            submissions=_mapping(submissions, "--submissions"),
            dry_run=dry_run,
        )
    except CoopError as exc:
        fail(exc)
    _said(change)


def _moment(value: str | None, option: str) -> datetime | Literal["now"] | None:
    if value is None:
        return None
    if value == "now":
        return "now"
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise OrganiseError(
            f"{option}: {value!r} is not a time (e.g. 2026-06-01T12:00:00Z, or now)"
        ) from None


def _mapping(text: str | None, option: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise OrganiseError(f"{option}: not valid YAML: {exc}") from None
    if not isinstance(value, dict):
        raise OrganiseError(f"{option}: write a mapping, e.g. '{{per_day: 5}}'")
    return value


def _said(change: organise.SpecChange) -> None:
    console.print(change.diff, highlight=False, markup=False, end="")
    if change.applied:
        console.print(
            f"[green]✓[/] {change.action}: commit {(change.commit or '')[:12]} (audit #{change.audit})"
        )
    else:
        console.print("dry run: nothing changed")


def print_environments(environments: list[PhaseEnvironment], prefix: str = "") -> None:
    """A line per phase that runs in a challenge environment: its short key, built or reused."""
    for env in environments:
        if env.environment is not None:
            how = "reused" if env.reused else "built"
            console.print(f"[green]✓[/] {prefix}{env.phase}: environment {env.environment.short} ({how})")
