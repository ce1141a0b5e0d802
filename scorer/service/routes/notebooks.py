"""A submission's executed notebook as a page, and its diff to the parent commit (JSON and page).

The open-code rule applies to all three, through :func:`scorer.ledger.queries.code_submission`.
Pages are drawn on the server from untrusted notebooks (:mod:`scorer.render.html`,
:mod:`scorer.render.diff`) and sent with a Content-Security-Policy that allows no script, no
network request and no form, in a sandbox: a flaw in the cleaning still could not run a
participant's code in a viewer's browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from nbformat import NotebookNode
from nbformat.v4 import new_notebook

from coop_client.models import ErrorOut, NotebookDiffOut
from scorer.exceptions import NotebookNotRun
from scorer.facade import CoopAPI
from scorer.ingest.repo import ChallengeRepo
from scorer.ledger import queries
from scorer.ledger.queries import SubmissionView
from scorer.render.diff import notebook_diff, render_diff
from scorer.render.html import render_notebook
from scorer.scoring.sanitize import read_notebook
from scorer.service.auth import Identity
from scorer.service.deps import Api, Viewer

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
_PAGE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "a static page, no script"}
}


@router.get(
    "/api/submissions/{submission_id}/notebook.html", response_class=HTMLResponse, responses=_PAGE_DOC
)
def notebook_page(api: Api, who: Viewer, submission_id: int) -> HTMLResponse:
    """The executed notebook as a page in which nothing runs: scripts, widgets and event handlers
    are removed; tables, images and formatted text remain. Same visibility as the .ipynb."""
    with api.sessions() as session:
        content = queries.executed_notebook(session, submission_id, **_viewer(who))
        view = queries.submission(session, submission_id)
    if content is None:
        raise NotebookNotRun(submission_id)
    page = render_notebook(read_notebook(content, view.notebook_path), title=_title(view))
    return HTMLResponse(page, headers=PAGE_HEADERS)


@router.get(
    "/api/submissions/{submission_id}/diff", response_model=NotebookDiffOut, response_model_exclude_unset=True
)
def notebook_diff_json(api: Api, who: Viewer, submission_id: int) -> NotebookDiffOut:
    """nbdime's diff of the submission's notebook from its version at the commit's first parent
    (from an empty notebook when the parent has none). Visible to whoever may read the notebook."""
    versions = _versions(api, who, submission_id)
    return NotebookDiffOut.model_validate(
        {
            "submission": submission_id,
            "notebook": versions.view.notebook_path,
            "commit": versions.view.commit_sha,
            "parent": versions.parent,
            "base": "parent" if versions.from_parent else "empty",
            "diff": notebook_diff(versions.base, versions.notebook),
        }
    )


@router.get("/api/submissions/{submission_id}/diff.html", response_class=HTMLResponse, responses=_PAGE_DOC)
def notebook_diff_page(api: Api, who: Viewer, submission_id: int) -> HTMLResponse:
    """The same diff as a page: cells added, removed or modified with their source lines; output
    and metadata changes summarised."""
    versions = _versions(api, who, submission_id)
    sha, parent = versions.view.commit_sha[:12], versions.parent
    if parent is None:
        description = f"commit {sha} has no parent: compared with an empty notebook"
    elif versions.from_parent:
        description = f"commit {sha} compared with its parent {parent[:12]}"
    else:
        description = f"the notebook is new in commit {sha}: compared with an empty notebook"
    diff = notebook_diff(versions.base, versions.notebook)
    page = render_diff(versions.base, diff, title=_title(versions.view), description=description)
    return HTMLResponse(page, headers=PAGE_HEADERS)


@dataclass(frozen=True)
class _Versions:
    view: SubmissionView
    notebook: NotebookNode  # at the submission's commit
    base: NotebookNode  # at its first parent, or an empty notebook
    parent: str | None  # the first parent (None: a root commit)
    from_parent: bool  # whether ``base`` is the parent's version


def _versions(api: CoopAPI, who: Identity | None, submission_id: int) -> _Versions:
    with api.sessions() as session:
        view = queries.code_submission(session, submission_id, **_viewer(who))
        repo_url = queries.repo_url(session, view.challenge_id)
    repo = ChallengeRepo.mirror(repo_url, api.settings.mirrors, having=view.commit_sha)
    path = view.notebook_path
    notebook = read_notebook(repo.read(view.commit_sha, path), path)
    first = f"{view.commit_sha}^"  # a merge is compared with the branch it was merged into
    parent = repo.resolve(first) if repo.exists(first, "") else None
    if parent is not None and repo.exists(parent, path):
        base = read_notebook(repo.read(parent, path), f"{path} at {parent[:12]}")
        return _Versions(view, notebook, base, parent, from_parent=True)
    return _Versions(view, notebook, new_notebook(), parent, from_parent=False)


def _viewer(who: Identity | None) -> dict[str, Any]:
    return {"viewer": who.name if who else None, "viewer_is_organiser": who is not None and who.organiser}


def _title(view: SubmissionView) -> str:
    return f"{view.notebook_path} · submission {view.id} by {view.username}"
