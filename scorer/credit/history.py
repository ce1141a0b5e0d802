"""The commit graph of a phase read from git (I/O at the edge of :mod:`scorer.credit`).

A node is one scored version of one notebook, keyed ``sha:path``, because lineage is per
notebook: its parents are the nearest listed versions of the same notebook behind each git
parent (two at a merge that both sides changed). A notebook no git parent holds a listed version
of takes its origin from :func:`scorer.ingest.lineage.notebook_origin` ("Build on this" metadata
checked against the graph, or git's copy detection): the original becomes a *copy parent*, so a
copy earns only its own increment. Facts (time, ``Co-authored-by:`` trailers) come from
:func:`scorer.ingest.attribution.parse_log`; who is credited is the caller's ``people`` (the
pusher and the co-authors whose emails are verified aliases, never the forgeable author line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from coop_client.git import run
from scorer.credit.graph import Commit, CommitGraph, CreditError
from scorer.ingest.attribution import LOG_FORMAT, CommitFacts, parse_log
from scorer.ingest.lineage import notebook_origin
from scorer.ingest.repo import ChallengeRepo


@dataclass(frozen=True)
class Version:
    """A notebook at a commit, with the board's primary metric if it was scored."""

    sha: str
    path: str
    score: float | None = None

    @property
    def key(self) -> str:
        return f"{self.sha}:{self.path}"


def verified_people(pusher: str | None, facts: CommitFacts, aliases: Mapping[str, str]) -> tuple[str, ...]:
    """Who a commit credits: its pusher, then each co-author whose email is a verified alias."""
    named = [pusher] if pusher else []
    named += [aliases[person.email] for person in facts.co_authors if person.email in aliases]
    return tuple(dict.fromkeys(named))


def read_graph(
    repo: ChallengeRepo, versions: Sequence[Version], people: Callable[[CommitFacts], tuple[str, ...]]
) -> CommitGraph:
    """The graph of ``versions``; :class:`CreditError` names scored commits the repository lost
    (a history rewritten on a forge)."""
    listed = {version.key: version for version in versions}
    shas = list(dict.fromkeys(version.sha for version in versions))
    gone = [sha for sha in shas if not repo.exists(sha, "")]
    if gone:
        raise CreditError(
            f"{len(gone)} scored commit(s) are no longer in the repository (history rewritten?): "
            f"{', '.join(sha[:12] for sha in gone[:5])}"
        )
    log = run(
        repo.path, "log", "--no-walk=unsorted", f"--format={LOG_FORMAT}", "--stdin", input="\n".join(shas)
    )
    facts = {fact.sha: fact for fact in parse_log(log)}
    commits = []
    for version in versions:
        fact = facts[version.sha]
        parents = tuple(
            found
            for parent in fact.parents
            if (found := _nearest(repo, parent, version.path, listed)) is not None
        )
        copied: tuple[str, ...] = ()
        if not parents:
            origin = notebook_origin(repo, version.sha, version.path)
            if origin is not None and origin.how != "previous":
                found = _nearest(repo, origin.commit, origin.path, listed)
                copied = (found,) if found is not None else ()
        commit = Commit(
            version.key, tuple(dict.fromkeys(parents)), people(fact), fact.committed_at, version.score, copied
        )
        commits.append(commit)
    return CommitGraph.build(commits)


def _nearest(repo: ChallengeRepo, start: str, path: str, listed: Mapping[str, Version]) -> str | None:
    """The newest listed version of ``path`` at ``start`` or behind it."""
    for sha in run(repo.path, "rev-list", start, "--", path).split():
        if f"{sha}:{path}" in listed:
            return f"{sha}:{path}"
    return None
