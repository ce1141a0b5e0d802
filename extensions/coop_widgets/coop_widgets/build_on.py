"""Build on this: someone's solution brought into the participant's branch and folder.

:func:`build_on` merges the solution's commit into the clone's branch (``git merge --no-ff``: the
commit becomes a real ancestor, so the lineage is in the commit graph that credit reads), then
copies the notebook from that commit into the participant's own solution folder with its origin
recorded in the copy's metadata (``coop.lineage``, :mod:`coop_client.lineage`). The copy is left
uncommitted: Submit commits and pushes it with the merge. An existing notebook is never
overwritten: building on the same solution again opens the copy made before, and a notebook of
the same name gets the copy a name of its own.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from html import escape
from pathlib import Path, PurePosixPath

import yaml
from pydantic import ValidationError

from coop_client.errors import CoopError
from coop_client.git import call
from coop_client.layout import SPEC_FILE, Layout, solution_path
from coop_client.lineage import Lineage, build_on_url, read_lineage, with_lineage


class BuildOnError(CoopError):
    """The solution cannot be built on: what went wrong, in the participant's words."""

    http_status = 500


class BuildOnNotFound(BuildOnError):
    """The clone, the commit or the notebook asked for is not there."""

    http_status = 404


class BuildOnConflict(BuildOnError):
    """The participant's branch and the solution's commit cannot be merged as they are."""

    http_status = 409


def build_on(clone: Path, user: str, lineage: Lineage, *, author: str) -> PurePosixPath:
    """Merge ``lineage.commit`` into ``clone``'s branch and copy ``lineage.path`` into ``user``'s
    folder (``author``: whose solution it is, for the commit message and the copy's name); the
    copy's path in the clone."""
    if not (clone / ".git").is_dir():
        raise BuildOnNotFound(f"there is no clone of this challenge at {clone.name}")
    sha = lineage.commit
    if not call(clone, "cat-file", "-e", f"{sha}^{{commit}}").ok:
        raise BuildOnNotFound(f"commit {sha[:12]} is not in your clone, even after fetching it")
    data = call(clone, "show", f"{sha}:{lineage.path}")
    if not data.ok:
        raise BuildOnNotFound(f"{lineage.path} is not in commit {sha[:12]}")
    try:
        notebook = json.loads(data.stdout)
        notebook["metadata"] = with_lineage(notebook.get("metadata") or {}, lineage)
    except (ValueError, TypeError, AttributeError):
        raise BuildOnError(f"{lineage.path} at {sha[:12]} is not a notebook") from None
    _merge(clone, sha, f"Build on {author}'s {lineage.path} at {sha[:12]}")
    target = _target(clone, _layout(clone), user, author, lineage)
    if not (clone / target).exists():
        (clone / target).parent.mkdir(parents=True, exist_ok=True)
        with open(clone / target, "x", encoding="utf-8") as handle:  # "x": never over another file
            json.dump(notebook, handle, indent=1, ensure_ascii=False)
            handle.write("\n")
    return target


def _merge(clone: Path, sha: str, message: str) -> None:
    if call(clone, "merge-base", "--is-ancestor", sha, "HEAD").ok:
        return  # built on before, or already in the branch
    merged = call(clone, "merge", "--no-ff", "--no-edit", "-m", message, sha)
    if merged.ok:
        return
    call(clone, "merge", "--abort")  # leave the clone as it was
    raise BuildOnConflict(
        f"your branch and commit {sha[:12]} cannot be merged as they are; git says: {merged.text}"
    )


def _layout(clone: Path) -> Layout:
    """Where solutions live, as the organiser's ``challenge.yaml`` (``origin/HEAD``) says."""
    spec = call(clone, "show", f"origin/HEAD:{SPEC_FILE}")
    if not spec.ok:
        raise BuildOnError(f"the organiser's {SPEC_FILE} is not in your clone: {spec.text}")
    try:
        return Layout.model_validate(yaml.safe_load(spec.stdout))
    except (yaml.YAMLError, ValidationError) as exc:
        raise BuildOnError(f"the organiser's {SPEC_FILE} cannot be read: {exc}") from None


def _target(clone: Path, layout: Layout, user: str, author: str, lineage: Lineage) -> PurePosixPath:
    """The copy made before from the same lineage, else the first free name in ``user``'s place."""
    stem = PurePosixPath(lineage.path).stem
    names = [stem, f"{stem}-from-{author}", *(f"{stem}-from-{author}-{n}" for n in range(2, 100))]
    for name in names:
        candidate = solution_path(layout.solutions, user, name)
        if not (clone / candidate).exists():
            return candidate
        try:
            existing = json.loads((clone / candidate).read_bytes()).get("metadata") or {}
        except (ValueError, AttributeError):
            continue
        if read_lineage(existing) == lineage:
            return candidate
    raise BuildOnError(f"you have {len(names)} copies of {stem}.ipynb already: remove some")


LINK_STYLE = 'style="color: var(--jp-content-link-color, #1976d2); text-decoration: underline"'


def build_on_link(challenge_id: str, submission_id: int, environ: Mapping[str, str] = os.environ) -> str:
    """The "Build on this" link of a submission, as widgets show it: in a new tab of JupyterLab,
    through the hub whose base URL a kernel is given (``JUPYTERHUB_BASE_URL``)."""
    url = build_on_url(environ.get("JUPYTERHUB_BASE_URL", "/"), challenge_id, submission_id)
    return (
        f'<a class="coop-build-on" href="{escape(url)}" target="_blank" rel="noopener" {LINK_STYLE} '
        f'title="merge submission {submission_id} into your branch and copy its notebook into your folder">'
        "Build on this</a>"
    )
