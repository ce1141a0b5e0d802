"""The commit graph credit is computed on: commits, their parents, and the orders walks need.

Pure data, no I/O. A node is one version of a solution (a commit, or a commit and notebook
path: the caller chooses the key); its parents are git parents and *copy parents* (the version
a notebook was copied from outside its git lineage, marked ``copy``). Everything is iterative:
a 10,000-deep chain never meets Python's recursion limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from scorer.exceptions import CoopError

#: Where the credit of a commit nobody verified goes (unverified emails never get credit).
UNATTRIBUTED = "(unattributed)"


class CreditError(CoopError):
    """A commit graph that credit cannot be computed on."""

    http_status = 400


class HistoryRewritten(CreditError):
    """Scored commits are gone from the repository (a history rewritten on a forge): credit is
    not computed on what is left, and the ledger keeps every score."""

    http_status = 409

    def __init__(self, shas: list[str]) -> None:
        self.shas = shas
        super().__init__(
            f"{len(shas)} scored commit(s) are no longer in the repository (history rewritten?): "
            f"{', '.join(sha[:12] for sha in shas[:5])}"
        )


@dataclass(frozen=True)
class Commit:
    """One node. ``people`` are the verified people credited (the pusher and the co-authors whose
    emails map to verified people, never an unverified email); ``score`` is the board's primary
    metric if the commit was scored; ``copied_from`` are virtual parents (copies git cannot see);
    ``flags`` mark e.g. ``revert`` (never sets a new best) for the caller's own use too."""

    sha: str
    parents: tuple[str, ...] = ()
    people: tuple[str, ...] = ()
    time: int = 0
    score: float | Fraction | None = None
    copied_from: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()

    @cached_property
    def all_parents(self) -> tuple[str, ...]:
        """Git parents, then copy parents, each once."""
        return tuple(dict.fromkeys(self.parents + self.copied_from))


@dataclass
class CommitGraph:
    """Commits in a topological order (parents first), with children and generation numbers
    (1 + the largest parent's), kept up to date as commits are added."""

    commits: dict[str, Commit] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    generation: dict[str, int] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    #: The same, by position in :attr:`order`, for walks that keep to integers.
    shas: list[str] = field(default_factory=list)
    parent_positions: list[tuple[int, ...]] = field(default_factory=list)
    generations: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, commits: Iterable[Commit]) -> CommitGraph:
        """The graph of ``commits`` in any order; :class:`CreditError` names an unknown parent,
        a repeated commit or a cycle."""
        given: dict[str, Commit] = {}
        for commit in commits:
            if commit.sha in given:
                raise CreditError(f"commit {commit.sha} appears twice in the graph")
            given[commit.sha] = commit
        waiting = {sha: 0 for sha in given}
        below: dict[str, list[str]] = {sha: [] for sha in given}
        for commit in given.values():
            for parent in commit.all_parents:
                if parent not in given:
                    raise CreditError(f"commit {commit.sha} names a parent {parent} that is not in the graph")
                waiting[commit.sha] += 1
                below[parent].append(commit.sha)
        ready = [sha for sha, count in waiting.items() if count == 0]
        graph = cls()
        while ready:
            sha = ready.pop()
            graph.add(given[sha])
            for child in below[sha]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        if len(graph.commits) != len(given):
            stuck = sorted(sha for sha, count in waiting.items() if count)[:3]
            raise CreditError(f"the commit graph has a cycle through {', '.join(stuck)}")
        return graph

    def add(self, commit: Commit) -> None:
        """Append a commit whose parents are all in the graph already."""
        if commit.sha in self.commits:
            raise CreditError(f"commit {commit.sha} is already in the graph")
        missing = [parent for parent in commit.all_parents if parent not in self.commits]
        if missing:
            raise CreditError(f"commit {commit.sha} names a parent {missing[0]} that is not in the graph")
        self.commits[commit.sha] = commit
        self.order[commit.sha] = len(self.order)
        self.generation[commit.sha] = 1 + max((self.generation[p] for p in commit.all_parents), default=0)
        self.shas.append(commit.sha)
        self.parent_positions.append(tuple(self.order[p] for p in commit.all_parents))
        self.generations.append(self.generation[commit.sha])
        self.children[commit.sha] = []
        for parent in commit.all_parents:
            self.children[parent].append(commit.sha)

    def replace(self, commit: Commit) -> None:
        """Change a commit's score, people or flags (its parents stay as they are)."""
        old = self.commits.get(commit.sha)
        if old is None:
            raise CreditError(f"commit {commit.sha} is not in the graph")
        if old.all_parents != commit.all_parents:
            raise CreditError(f"commit {commit.sha}: a commit's parents never change")
        self.commits[commit.sha] = commit

    def __iter__(self) -> Iterator[Commit]:
        """Commits parents first."""
        return iter(self.commits.values())

    def descendants(self, sha: str) -> list[str]:
        """``sha`` and everything that descends from it, parents first."""
        found = {sha}
        stack = [sha]
        while stack:
            for child in self.children[stack.pop()]:
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return sorted(found, key=self.order.__getitem__)

    def ancestors(self, sha: str) -> set[str]:
        """``sha`` and everything it descends from."""
        found = {sha}
        stack = [sha]
        while stack:
            for parent in self.commits[stack.pop()].all_parents:
                if parent not in found:
                    found.add(parent)
                    stack.append(parent)
        return found
