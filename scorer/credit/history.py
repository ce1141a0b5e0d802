"""The commit graph of a phase read from git (I/O at the edge of :mod:`scorer.credit`).

A node is one scored version of one notebook, keyed ``sha:path``, because lineage is per
notebook: its parents are the nearest listed versions of the same notebook behind each git
parent (two at a merge that both sides changed). These come from one walk over the ancestry
(one ``git rev-list --parents``), parents first, carrying for each commit the newest listed
version of each notebook at or behind it. A notebook no git parent holds a listed version of
takes its origin from :func:`scorer.ingest.lineage.notebook_origin` ("Build on this" metadata
checked against the graph, or git's copy detection), else from the fingerprints of
:mod:`scorer.credit.copies` (a copy with edits in an unrelated commit): the original becomes a
*copy parent*, so a copy earns only its own increment. Facts (time, ``Co-authored-by:``
trailers, ``This reverts commit``) come from one ``git log``; who is credited is the caller's
``people`` (the pusher and the co-authors whose emails are verified aliases, never the
forgeable author line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from coop_client.git import call, run
from scorer.credit.copies import Candidate, find_copies, notebook_text, winnow
from scorer.credit.graph import Commit, CommitGraph, HistoryRewritten
from scorer.ingest.attribution import LOG_FORMAT, CommitFacts, parse_log
from scorer.ingest.lineage import notebook_origin
from scorer.ingest.repo import ChallengeRepo

#: Commits that touched a notebook looked at first when walking back to its nearest version.
NEAR = 64
#: Git processes run at once when the origins of new notebooks are looked up.
GIT_AT_ONCE = 8


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
    """The graph of ``versions``."""
    return CommitGraph.build(read_commits(repo, versions, people))


def read_commits(
    repo: ChallengeRepo,
    versions: Sequence[Version],
    people: Callable[[CommitFacts], tuple[str, ...]],
    *,
    known: Sequence[Version] = (),
) -> list[Commit]:
    """One node per version, in the order given (listed earlier: a possible original of a copy);
    :class:`HistoryRewritten` names scored commits the repository lost (a history rewritten on
    a forge). With ``known`` (the versions read before, in order), ``versions`` are new ones
    added to them: their parents are found by a walk each (``git rev-list`` per git parent)
    instead of a pass over the whole history."""
    shas = list(dict.fromkeys(version.sha for version in versions))
    if not shas:
        return []
    missing = _missing(repo, shas)
    if missing:
        raise HistoryRewritten(missing)
    log = run(
        repo.path, "log", "--no-walk=unsorted", f"--format={LOG_FORMAT}", "--stdin", input="\n".join(shas)
    )
    facts = {fact.sha: fact for fact in parse_log(log)}
    parents = _lineage(repo, versions, shas) if not known else _walked(repo, known, versions, facts)
    copied = _copy_parents(repo, [*known, *versions], parents, versions)
    commits = []
    for version in versions:
        fact = facts[version.sha]
        flags = frozenset({"revert"}) if "This reverts commit " in fact.message else frozenset()
        copy = copied.get(version.key)
        commits.append(
            Commit(
                version.key,
                parents[version.key],
                people(fact),
                fact.committed_at,
                version.score,
                (copy,) if copy else (),
                flags,
            )
        )
    return commits


def _missing(repo: ChallengeRepo, shas: Sequence[str]) -> list[str]:
    checked = run(
        repo.path, "cat-file", "--batch-check", input="".join(f"{sha}^{{commit}}\n" for sha in shas)
    )
    return [
        line.split()[0].removesuffix("^{commit}")
        for line in checked.splitlines()
        if line.endswith(" missing")
    ]


def _lineage(
    repo: ChallengeRepo, versions: Sequence[Version], shas: Sequence[str]
) -> dict[str, tuple[str, ...]]:
    """Each version's parents: per git parent, the newest listed version of its notebook behind it."""
    listed: dict[str, list[str]] = {}
    for version in versions:
        listed.setdefault(version.sha, []).append(version.path)
    out = run(
        repo.path, "rev-list", "--parents", "--topo-order", "--reverse", "--stdin", input="\n".join(shas)
    )
    rows = [line.split() for line in out.splitlines()]
    children: dict[str, int] = {}
    for row in rows:
        for parent in row[1:]:
            children[parent] = children.get(parent, 0) + 1
    # newest listed version of each notebook at or behind a commit: (generation, key) per path,
    # kept only while a child of the commit is still to come
    state: dict[str, dict[str, tuple[int, str]]] = {}
    generation: dict[str, int] = {}
    found: dict[str, tuple[str, ...]] = {}
    for sha, *git_parents in rows:
        behind = [state[parent] for parent in git_parents]
        for path in listed.get(sha, ()):
            keys = (seen[path][1] for seen in behind if path in seen)
            found[f"{sha}:{path}"] = tuple(dict.fromkeys(keys))
        mine: dict[str, tuple[int, str]] = {}
        if git_parents:
            first = git_parents[0]
            mine = behind[0] if children[first] == 1 else dict(behind[0])
            for other in behind[1:]:
                for path, seen in other.items():
                    if path not in mine or mine[path][0] < seen[0]:
                        mine[path] = seen
        generation[sha] = 1 + max((generation[parent] for parent in git_parents), default=0)
        for path in listed.get(sha, ()):
            mine[path] = (generation[sha], f"{sha}:{path}")
        for parent in git_parents:
            children[parent] -= 1
            if not children[parent]:
                del state[parent]
        if children.get(sha):
            state[sha] = mine
    return found


def _walked(
    repo: ChallengeRepo,
    known: Sequence[Version],
    versions: Sequence[Version],
    facts: Mapping[str, CommitFacts],
) -> dict[str, tuple[str, ...]]:
    """New versions' parents, one walk per git parent."""
    listed = {version.key for version in known}
    found: dict[str, tuple[str, ...]] = {}
    for version in versions:
        behind = (_nearest(repo, parent, version.path, listed) for parent in facts[version.sha].parents)
        found[version.key] = tuple(dict.fromkeys(key for key in behind if key is not None))
        listed.add(version.key)
    return found


def _copy_parents(
    repo: ChallengeRepo,
    versions: Sequence[Version],
    parents: Mapping[str, tuple[str, ...]],
    new: Sequence[Version],
) -> dict[str, str]:
    """The original of each of the ``new`` versions without a parent, among ``versions``: its
    lineage, else its fingerprints."""
    listed = {version.key for version in versions}
    orphans = [version for version in new if not parents[version.key]]

    def original(version: Version) -> str | None:
        origin = notebook_origin(repo, version.sha, version.path)
        if origin is None or origin.how == "previous":
            return None
        return _nearest(repo, origin.commit, origin.path, listed)

    with ThreadPoolExecutor(GIT_AT_ONCE) as pool:  # git processes, one after another otherwise
        originals = list(pool.map(original, orphans))
    found = {version.key: key for version, key in zip(orphans, originals, strict=True) if key is not None}
    unknown = [version for version in orphans if version.key not in found]
    if not unknown:
        return found
    texts = _texts(repo, versions)
    prints = {version.key: winnow(texts[version.key]) for version in versions}
    position = {version.key: at for at, version in enumerate(versions)}
    candidates = [Candidate(version.key, version.path, prints[version.key]) for version in versions]
    wanted = {version.key: (version.path, prints[version.key]) for version in unknown}
    return found | find_copies(wanted, candidates, position)


def _nearest(repo: ChallengeRepo, start: str, path: str, listed: set[str]) -> str | None:
    """The newest listed version of ``path`` at ``start`` or behind it."""
    for limit in (NEAR, None):  # the newest commits that touched it first: nearly always enough
        shas = run(
            repo.path, "rev-list", *([f"--max-count={limit}"] if limit else []), start, "--", path
        ).split()
        for sha in shas:
            if f"{sha}:{path}" in listed:
                return f"{sha}:{path}"
        if limit is not None and len(shas) < limit:
            return None
    return None


def _texts(repo: ChallengeRepo, versions: Sequence[Version]) -> dict[str, str]:
    """Each version's notebook sources (:func:`~scorer.credit.copies.notebook_text`), one
    ``git cat-file --batch`` for all."""
    names = "".join(f"{version.sha}:{version.path}\n" for version in versions)
    data = call(repo.path, "cat-file", "--batch", input=names).check().stdout
    texts: dict[str, str] = {}
    at = 0
    for version in versions:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        if header[-1] == b"missing":
            texts[version.key] = ""
            at = end + 1
            continue
        size = int(header[2])
        texts[version.key] = notebook_text(data[end + 1 : end + 1 + size])
        at = end + 1 + size + 1
    return texts
