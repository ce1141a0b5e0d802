"""``coop score``, ``coop rescore``, ``coop recover``, ``coop resubmit`` and ``coop submission``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scorer.cli.common import console, fail, print_json, state
from scorer.cli.render import submissions_table
from scorer.dispatch.dispatcher import Finished
from scorer.environments.model import FOLDER_CHARS
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI
from scorer.ingest.push import resubmit
from scorer.scoring.provenance import ENVIRONMENT_CHANGED
from scorer.service.convert.submissions import of_submission


def score(
    ctx: typer.Context,
    repo: Annotated[str, typer.Option(help="The challenge repository: a path or a URL.")],
    commit: Annotated[str, typer.Option(help="The commit to score (SHA, branch or tag).")],
    phase: Annotated[str | None, typer.Option(help="Phase id (default: the open phase).")] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Whom to credit (default: the notebook's folder).")
    ] = None,
    allow_unsandboxed: Annotated[
        bool, typer.Option(help="Run without a sandbox if bubblewrap is missing. Unsafe.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score every solution notebook a commit adds or changes."""
    current = state(ctx)
    if allow_unsandboxed:
        current.settings.allow_unsandboxed = True
    try:
        api = current.api()
        queued = api.enqueue_commit(repo, commit, phase_id=phase, username=as_user)
        ids = [q.submission_id for q in queued]
        if not as_json:
            for q in queued:
                console.print(f"queued submission {q.submission_id}: {q.notebook} by {q.username}")
        _run(api, ids, quiet=as_json, runner=api.run)
    except CoopError as exc:
        fail(exc)
    _report(api, ids, as_json)
    if any(api.submission(i)[0].status != "scored" for i in ids):
        raise typer.Exit(2)


def rescore(
    ctx: typer.Context,
    challenge: Annotated[str, typer.Argument(help="Challenge id.")],
    phase: Annotated[str, typer.Option(help="Phase id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Run every finished submission of a phase again (e.g. after fixing data or a metric)."""
    try:
        api = state(ctx).api()
        ids = api.rescore(challenge, phase)
        _run(api, ids, quiet=as_json, runner=api.run)
    except CoopError as exc:
        fail(exc)
    _report(api, ids, as_json)


def resubmit_refused(
    ctx: typer.Context,
    submission_id: Annotated[int, typer.Argument(help="The submission a limit refused.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score the commit of a submission a limit refused, once the limits allow (as its person)."""
    try:
        api = state(ctx).api()
        line = resubmit(api, submission_id, caller=None)
        assert line.submission_id is not None
        ids = [line.submission_id]
        if not as_json:
            console.print(line.text)
        _run(api, ids, quiet=as_json, runner=api.run)
    except CoopError as exc:
        fail(exc)
    _report(api, ids, as_json)
    if api.submission(ids[0])[0].status != "scored":
        raise typer.Exit(2)


def recover(ctx: typer.Context) -> None:
    """Dispatch what an interrupted run left queued or running."""
    try:
        api = state(ctx).api()
        done = _run(api, None, quiet=False, runner=lambda _ids, cb: api.recover(cb))
    except CoopError as exc:
        fail(exc)
    console.print(f"recovered {len(done)} submission(s)")


def show_submission(
    ctx: typer.Context,
    submission_id: Annotated[int, typer.Argument(help="Submission id.")],
    organiser: Annotated[bool, typer.Option(help="View as an organiser (private scores too).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one submission: status, metrics, failure reason and provenance."""
    try:
        _report(state(ctx).api(), [submission_id], as_json, organiser=organiser)
    except CoopError as exc:
        fail(exc)


def _run(
    api: CoopAPI,
    ids: list[int] | None,
    *,
    quiet: bool,
    runner: Callable[..., list[Finished]],
) -> list[Finished]:
    if quiet:
        return runner(ids, None)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("scoring", total=len(ids) if ids is not None else None)

        def advance(finished: Finished) -> None:
            progress.advance(task)
            progress.console.print(f"  submission {finished.submission_id}: {finished.outcome}")

        return runner(ids, advance)


def _report(api: CoopAPI, ids: list[int], as_json: bool, *, organiser: bool = False) -> None:
    items = [api.submission(i, organiser=organiser) for i in ids]
    if as_json:
        print_json([of_submission(view, scores).model_dump(mode="json") for view, scores in items])
    else:
        console.print(submissions_table(items))
        for view, _scores in items:
            if line := environment_line(view.id, view.challenge_environment, view.provenance):
                console.print(line, highlight=False)


def environment_line(submission_id: int, key: str | None, provenance: dict[str, Any] | None) -> str | None:
    """Where a submission's kernel ran, when in a challenge environment, and whether that
    changed since the run it rescores."""
    changed = (provenance or {}).get(ENVIRONMENT_CHANGED)
    if key is None and changed is None:
        return None
    where = f"challenge environment {key[:FOLDER_CHARS]}" if key else "the platform's environment"
    return f"submission {submission_id}: ran in {where}" + (f"; {changed}" if changed else "")
