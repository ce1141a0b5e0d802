"""The challenge repository, through the git CLI (:mod:`coop_client.git`).

Repositories given by URL or path are mirrored into a cache folder (one bare mirror each,
fetched under a file lock) so that workers never touch the original.
"""

from __future__ import annotations

import fcntl
import fnmatch
import hashlib
import io
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from coop_client.errors import GitError
from coop_client.git import call, run
from scorer.challenge.spec import Solutions
from scorer.exceptions import RepositoryError


@dataclass(frozen=True)
class ChangedNotebook:
    path: str
    owner: str | None  # first folder under the solutions path, when notebooks live per user


class ChallengeRepo:
    """A bare mirror of a challenge repository."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def mirror(cls, source: str, cache: Path, *, having: str | None = None) -> ChallengeRepo:
        """Mirror ``source`` (a URL or a local path) into ``cache`` and fetch it; with
        ``having``, skip the fetch when the mirror already has that commit (commits never
        change, and concurrent workers would otherwise queue on the fetch lock)."""
        local = Path(source).expanduser()
        url = str(local.resolve()) if local.exists() else source
        target = cache / hashlib.sha256(url.encode()).hexdigest()[:16]
        if having and (target / "HEAD").exists() and cls(target).exists(having, ""):
            return cls(target)
        cache.mkdir(parents=True, exist_ok=True)
        with file_lock(target.with_suffix(".lock")):
            try:
                if not (target / "HEAD").exists():
                    run(None, "clone", "--mirror", "--quiet", "--", url, str(target))
                else:
                    run(target, "fetch", "--prune", "origin", "+refs/*:refs/*")
            except GitError as exc:
                raise RepositoryError(
                    f"cannot read the repository {source}: {exc.stderr or 'git failed'}", exc.log_message
                ) from exc
        return cls(target)

    def resolve(self, commit: str) -> str:
        """The full SHA of ``commit`` (a SHA, branch or tag); a clear error when it does not exist."""
        try:
            return run(self.path, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").strip()
        except GitError as exc:
            raise RepositoryError(f"commit {commit!r} does not exist in the repository") from exc

    def changed_notebooks(self, sha: str, solutions: Solutions) -> list[ChangedNotebook]:
        """Solution notebooks the commit adds or changes: against its parent; for a merge, those
        that differ from every parent (``-c``: the merge's own resolution, not what a side brought)."""
        flags = ("--no-commit-id", "-r", "--root", "-c", "-M", "--name-only", "--diff-filter=AMR", "-z")
        out = run(self.path, "diff-tree", *flags, sha)
        paths = [p for p in out.split("\0") if p]
        return [ChangedNotebook(p, notebook_owner(p, solutions)) for p in paths if is_solution(p, solutions)]

    def export(self, sha: str, destination: Path, paths: list[str] | None = None) -> None:
        """Write the tree of ``sha`` (or only ``paths`` of it) into ``destination``."""
        args = ["archive", "--format=tar", sha]
        if paths:
            present = [p.rstrip("/") for p in paths if self.exists(sha, p.rstrip("/"))]
            if not present:
                return
            args += ["--", *present]
        data = call(self.path, *args).check().stdout
        destination.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(destination, filter="data")

    def exists(self, sha: str, path: str) -> bool:
        """Whether ``path`` exists at ``sha`` (``""``: whether the commit exists at all)."""
        return call(self.path, "cat-file", "-e", f"{sha}:{path}" if path else f"{sha}^{{commit}}").ok

    def read(self, sha: str, path: str) -> bytes:
        try:
            return call(self.path, "show", f"{sha}:{path}").check().stdout
        except GitError as exc:
            raise RepositoryError(f"{path} does not exist at commit {sha[:12]}") from exc

    def author(self, sha: str) -> tuple[str, str]:
        name, email = run(self.path, "log", "-1", "--format=%an%x00%ae", sha).strip().split("\0")
        return name, email

    def default_branch(self) -> str:
        """The ref ``HEAD`` names (``refs/heads/main``); ``HEAD`` when it names none."""
        found = call(self.path, "symbolic-ref", "HEAD")
        return found.out.strip() if found.ok else "HEAD"


def is_solution(path: str, solutions: Solutions) -> bool:
    pure = PurePosixPath(path)
    base = PurePosixPath(solutions.path)
    if base not in pure.parents:
        return False
    if solutions.per_user and len(pure.relative_to(base).parts) < 2:
        return False
    return fnmatch.fnmatch(pure.name, solutions.pattern)


def notebook_owner(path: str, solutions: Solutions) -> str | None:
    if not solutions.per_user:
        return None
    return PurePosixPath(path).relative_to(PurePosixPath(solutions.path)).parts[0]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
