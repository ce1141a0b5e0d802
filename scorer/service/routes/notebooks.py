"""A submission's executed notebook as a page, and its diff (JSON and page) from the version the
notebook continues (:func:`scorer.ingest.lineage.notebook_origin`): its own at the parent commit,
else the notebook it was built on or copied from.

The open-code rule applies to all three, through :func:`scorer.ledger.queries.code_submission`,
and to a diff's base: another person's solution is a base only where the phase shows code to
everyone (:func:`_base_shown`).
Pages are drawn on the server from untrusted notebooks (:mod:`scorer.render.html`,
:mod:`scorer.render.diff`) and sent with a Content-Security-Policy that allows no script, no
network request and no form, in a sandbox: a flaw in the cleaning still could not run a
participant's code in a viewer's browser.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from nbformat import NotebookNode
from nbformat.v4 import new_notebook

from coop_client.lineage import build_on_url
from coop_client.models import ErrorOut, NotebookDiffOut, SubmissionStatus
from scorer.challenge.spec import Challenge
from scorer.exceptions import CoopError, NotebookNotRun
from scorer.facade import CoopAPI
from scorer.ingest.lineage import Origin, notebook_origin
from scorer.ingest.repo import ChallengeRepo, is_solution, notebook_owner
from scorer.ledger import queries
from scorer.ledger.queries import SubmissionView
from scorer.render.diff import notebook_diff, render_diff
from scorer.render.html import RunFailure, render_notebook
from scorer.scoring.sanitize import read_notebook
from scorer.service.auth import Identity
from scorer.service.deps import Api, Viewer
from scorer.service.routes.params import SubmissionId

router = APIRouter(tags=["notebooks"], responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}})

#: Inline styles and ``data:`` images only; ``sandbox`` also gives the page an opaque origin.
PAGE_POLICY = "; ".join(
    [
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "sandbox",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
Full = Annotated[
    bool,
    Query(
        description="Show every change: execution counts, cell ids and metadata too (by default "
        "sources, outputs and cell tags only, so that a re-run is no change)."
    ),
]
_PAGE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "a static page, no script"}
}


@router.get(
    "/api/submissions/{submission_id}/notebook.html", response_class=HTMLResponse, responses=_PAGE_DOC
)
def notebook_page(api: Api, who: Viewer, submission_id: SubmissionId) -> HTMLResponse:
    """The executed notebook as a page in which nothing runs: scripts, widgets and event handlers
    are removed; tables, images and formatted text remain. Same visibility as the .ipynb."""
    with api.sessions() as session:
        content = queries.executed_notebook(session, submission_id, **_viewer(who))
        view = queries.submission(session, submission_id)
    failed = view.status == SubmissionStatus.FAILED
    if content is None and not failed:
        raise NotebookNotRun(submission_id)
    base = hub_base(os.environ)
    links = [(build_on_url(base, view.challenge_id, view.id), "Build on this")] if base else []
    reason = (view.failure_class or "", view.failure_reason or "")
    failure = RunFailure(*reason, ran=content is not None) if failed else None
    notebook = read_notebook(content, view.notebook_path) if content is not None else _committed(api, view)
    page = render_notebook(notebook, title=_title(view), links=links, failure=failure)
    return HTMLResponse(page, headers=PAGE_HEADERS)


def hub_base(environ: Mapping[str, str]) -> str | None:
    """The base URL of the hub the service runs behind, from the prefix a hub gives its services
    (``<base>services/<name>/``); ``None`` outside a hub, where there is no server to build in."""
    prefix = environ.get("JUPYTERHUB_SERVICE_PREFIX", "")
    return prefix[: prefix.rindex("services/")] if "services/" in prefix else None


@router.get(
    "/api/submissions/{submission_id}/diff", response_model=NotebookDiffOut, response_model_exclude_unset=True
)
def notebook_diff_json(
    api: Api, who: Viewer, submission_id: SubmissionId, full: Full = False
) -> NotebookDiffOut:
    """nbdime's diff of the submission's notebook from the version it continues: its own at the
    commit's first parent, else the notebook it was built on or copied from, else an empty
    notebook. Visible to whoever may read the notebook."""
    versions = _versions(api, who, submission_id)
    origin = versions.origin
    return NotebookDiffOut.model_validate(
        {
            "submission": submission_id,
            "notebook": versions.view.notebook_path,
            "commit": versions.view.commit_sha,
            "parent": versions.parent,
            "base": _BASE[origin.how] if origin else "empty",
            "base_commit": origin.commit if origin else None,
            "base_notebook": origin.path if origin else None,
            "full": full,
            "diff": notebook_diff(versions.base, versions.notebook, full=full),
        }
    )


@router.get("/api/submissions/{submission_id}/diff.html", response_class=HTMLResponse, responses=_PAGE_DOC)
def notebook_diff_page(
    api: Api, who: Viewer, submission_id: SubmissionId, full: Full = False
) -> HTMLResponse:
    """The same diff as a page: cells added, removed or modified with their source lines; output
    and metadata changes summarised; a link to the other view (``full`` or not)."""
    versions = _versions(api, who, submission_id)
    sha, parent, origin = versions.view.commit_sha[:12], versions.parent, versions.origin
    if origin is not None and origin.how == "previous":
        description = f"commit {sha} compared with its parent {origin.commit[:12]}"
    elif origin is not None:
        how = "built on" if origin.how == "built-on" else "copied from"
        description = f"the notebook is {how} {origin.path} at {origin.commit[:12]}: compared with it"
    elif parent is None:
        description = f"commit {sha} has no parent: compared with an empty notebook"
    else:
        description = f"the notebook is new in commit {sha}: compared with an empty notebook"
    if full:
        description += "; every change shown"
        switch = ("?full=false", "show sources and outputs only")
    else:
        description += "; execution counts and metadata left out"
        switch = ("?full=true", "show every change (execution counts, metadata)")
    diff = notebook_diff(versions.base, versions.notebook, full=full)
    page = render_diff(
        versions.base, diff, title=_title(versions.view), description=description, switch=switch
    )
    return HTMLResponse(page, headers=PAGE_HEADERS)


#: The API's name of each way a base version is found.
_BASE = {"previous": "parent", "built-on": "built-on", "copy": "copy"}


@dataclass(frozen=True)
class _Versions:
    view: SubmissionView
    notebook: NotebookNode  # at the submission's commit
    base: NotebookNode  # the version it continues, or an empty notebook
    parent: str | None  # the first parent (None: a root commit)
    origin: Origin | None  # where ``base`` comes from (None: an empty notebook)


def _versions(api: CoopAPI, who: Identity | None, submission_id: int) -> _Versions:
    with api.sessions() as session:
        view = queries.code_submission(session, submission_id, **_viewer(who))
        repo_url = queries.repo_url(session, view.challenge_id)
        spec = queries.load_challenge(session, view.challenge_id)
    repo = ChallengeRepo.mirror(repo_url, api.settings.mirrors, having=view.commit_sha)
    path = view.notebook_path
    notebook = read_notebook(repo.read(view.commit_sha, path), path)
    first = f"{view.commit_sha}^"  # a merge is compared with the branch it was merged into
    parent = repo.resolve(first) if repo.exists(first, "") else None
    origin = notebook_origin(repo, view.commit_sha, path)
    if origin is not None and not _base_shown(api, spec, view, origin, who):
        origin = None
    if origin is None:
        return _Versions(view, notebook, new_notebook(), parent, None)
    base = read_notebook(repo.read(origin.commit, origin.path), f"{origin.path} at {origin.commit[:12]}")
    return _Versions(view, notebook, base, parent, origin)


def _base_shown(
    api: CoopAPI, spec: Challenge, view: SubmissionView, origin: Origin, who: Identity | None
) -> bool:
    """Whether ``view``'s diff may start from ``origin``: another person's solution (or one of
    no known owner) only when a phase it was submitted in shows code to everyone (else the
    phase of ``view``), or to an organiser. Else its author's diff could show closed code: a
    push may name as its parent, or in its lineage metadata, any commit whose SHA the API
    lists, and ``origin`` then lies in their history."""
    if (who is not None and who.organiser) or not is_solution(origin.path, spec.solutions):
        return True
    if notebook_owner(origin.path, spec.solutions) == view.username:
        return True
    with api.sessions() as session:
        found = queries.submissions(session, challenge_id=spec.id, commit=origin.commit, limit=None)
    submitted = {s.phase_id for s in found if s.notebook_path == origin.path} or {view.phase_id}
    now = datetime.now(UTC)
    return any(
        queries.code_visible(phase, now=now, viewer_is_author=False, viewer_is_organiser=False)
        for phase in spec.phases
        if phase.id in submitted
    )


def _committed(api: CoopAPI, view: SubmissionView) -> NotebookNode:
    """The notebook as committed, for a run refused before it started; empty when it cannot be
    read as a notebook (the failure says why)."""
    with api.sessions() as session:
        repo_url = queries.repo_url(session, view.challenge_id)
    repo = ChallengeRepo.mirror(repo_url, api.settings.mirrors, having=view.commit_sha)
    try:
        return read_notebook(repo.read(view.commit_sha, view.notebook_path), view.notebook_path)
    except CoopError:
        return new_notebook()


def _viewer(who: Identity | None) -> dict[str, Any]:
    return {"viewer": who.name if who else None, "viewer_is_organiser": who is not None and who.organiser}


def _title(view: SubmissionView) -> str:
    return f"{view.notebook_path} · submission {view.id} by {view.username}"
