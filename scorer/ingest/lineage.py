"""Where a solution notebook at a commit comes from: what its diff starts from and credit follows.

:func:`notebook_origin` answers, in this order:

1. ``previous``: the notebook's own version at the commit's first parent (a merge follows the
   branch it was merged into);
2. ``built-on``: the notebook its metadata names (``coop.lineage``, written by "Build on this"),
   if that commit is an ancestor of this one and holds that notebook. The metadata is the
   participant's to edit, so the claim is checked against the commit graph: it can only name
   what the notebook's history really contains;
3. ``copy``: the notebook git's copy detection (``diff-tree -C --find-copies-harder``) finds this
   one was copied or renamed from, in the first parent, at the commit that last wrote that
   version of it (the author of what was copied, not whoever committed next);

else ``None``: the notebook is new. The answer depends on git objects only, which never change,
so it is the same whenever it is asked (a diff today, credit later) and may be kept once computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from coop_client.git import call, run
from coop_client.lineage import read_lineage
from scorer.ingest.repo import ChallengeRepo

How = Literal["previous", "built-on", "copy"]


@dataclass(frozen=True)
class Origin:
    """The version a notebook continues: ``path`` at ``commit``, and how that was found."""

    commit: str
    path: str
    how: How


def notebook_origin(repo: ChallengeRepo, sha: str, path: str) -> Origin | None:
    """The origin of the notebook ``path`` at commit ``sha`` (see the module's docstring)."""
    first = f"{sha}^"
    parent = repo.resolve(first) if repo.exists(first, "") else None
    if parent is not None and repo.exists(parent, path):
        return Origin(parent, path, "previous")
    claimed = _claimed(repo, sha, path)
    if claimed is not None:
        return claimed
    return _copied(repo, parent, sha, path) if parent is not None else None


def _claimed(repo: ChallengeRepo, sha: str, path: str) -> Origin | None:
    try:
        metadata = json.loads(repo.read(sha, path)).get("metadata", {})
    except (ValueError, AttributeError):
        return None  # not a notebook: reading it fails later with a clear message
    lineage = read_lineage(metadata) if isinstance(metadata, dict) else None
    if lineage is None or lineage.commit == sha:
        return None
    ancestor = call(repo.path, "merge-base", "--is-ancestor", lineage.commit, sha).ok
    if not ancestor or not repo.exists(lineage.commit, lineage.path):
        return None
    return Origin(lineage.commit, lineage.path, "built-on")


def _copied(repo: ChallengeRepo, parent: str, sha: str, path: str) -> Origin | None:
    flags = ("-r", "-z", "--no-commit-id", "-M", "-C", "--find-copies-harder", "--diff-filter=CR")
    fields = run(repo.path, "diff-tree", *flags, "--name-status", parent, sha).split("\0")
    for at in range(0, len(fields) - 2, 3):  # each copy or rename: status, source, destination
        if fields[at + 2] == path:
            source = fields[at + 1]
            written = run(repo.path, "rev-list", "-1", parent, "--", source).strip()
            return Origin(written, source, "copy")
    return None
