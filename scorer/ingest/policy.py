"""The push policy of a served challenge repository: pure checks over plain data (no git, no I/O).

:func:`check_push` gets who pushes, the ref updates and what each new commit changes, and
returns every :class:`Refusal`. The rules:

- participants create and update refs only under ``refs/heads/<user>/…``; organisers anywhere;
- only organisers may delete a ref or force-push (a non-fast-forward update), and never on the
  organiser ref (``refs/heads/<organiser.ref>``);
- no participant commit may add, change or delete an organiser-owned path (a path ending in
  ``/`` is a folder);
- with ``solutions.per_user``, no participant commit may change another person's folder under
  the solutions path (merging their branch is how to build on it);
- no commit may add a file larger than the size cap (``solutions.max_file_size``);
- no commit may add a symbolic link under the solutions path, and no participant commit one
  anywhere: the scorer checks the commit out, where a link to a home folder leads nowhere;
- no ref or path may have an empty, ``.`` or ``..`` part (git writes none, and the served
  repositories fsck what they receive; the policy does not count on it);
- while the phase keeps code closed, no pushed ref may build on a commit the pusher cannot
  fetch (another participant's, named by its SHA in a hand-made commit): the pusher could then
  fetch it through their own branch.

Messages are one line each (a ref or path with control characters is quoted), name what was
refused and say what to do instead: git shows them to the pusher as ``remote:`` lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from coop_client.git import HEADS, is_zero

#: Files larger than this (bytes) are refused unless the challenge gives another cap
#: (``solutions.max_file_size``, whose default is the same).
MAX_FILE_SIZE = 10 * 1024**2
#: git's mode of a symbolic link.
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class Pusher:
    name: str
    organiser: bool = False


@dataclass(frozen=True)
class RefUpdate:
    old: str
    new: str
    ref: str
    #: Whether ``new`` descends from ``old``; only meaningful when both exist (an update).
    fast_forward: bool = True

    @property
    def created(self) -> bool:
        return is_zero(self.old)

    @property
    def deleted(self) -> bool:
        return is_zero(self.new)


@dataclass(frozen=True)
class ChangedFile:
    path: str
    size: int | None = None  # the new blob's size; ``None`` when deleted (or not a blob)
    mode: str | None = None  # git's mode of the new entry (``000000`` when deleted)


@dataclass(frozen=True)
class NewCommit:
    sha: str
    changes: tuple[ChangedFile, ...] = ()


@dataclass(frozen=True)
class Rules:
    organiser_ref: str = "main"
    organiser_paths: tuple[str, ...] = ("challenge.yaml", "scoring.py", "simulator.py", "baselines/")
    solutions_path: str = "solutions"
    solutions_per_user: bool = True
    max_file_size: int = MAX_FILE_SIZE


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass
class Push:
    """A push as the policy sees it: the ref updates and the commits it brings (each once)."""

    pusher: Pusher
    updates: Sequence[RefUpdate]
    commits: Sequence[NewCommit] = field(default_factory=list)
    #: Per pushed ref, the commits it reaches that were already in the repository and that the
    #: pusher cannot fetch (the phase keeps them closed).
    closed: Mapping[str, Sequence[str]] = field(default_factory=dict)


def short(sha: str) -> str:
    return sha[:10]


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def shown(text: str) -> str:
    """``text`` for a one-line message: as it is when printable, else quoted with escapes."""
    return text if text.isprintable() else repr(text)


def is_plain(path: str) -> bool:
    """Whether ``path`` (or a ref) has no empty, ``.`` or ``..`` part: nothing in it can lead out
    of the folder (or namespace) it seems to be in."""
    return all(part not in ("", ".", "..") for part in path.split("/"))


def is_organiser_path(path: str, organiser_paths: Iterable[str]) -> bool:
    """Whether ``path`` is an organiser-owned file or lies in an organiser-owned folder."""
    for owned in organiser_paths:
        folder = owned.rstrip("/")
        if not folder:
            continue
        if path == folder or path.startswith(folder + "/"):
            return True
    return False


def solution_owner(path: str, rules: Rules) -> str | None:
    """The person whose solutions folder holds ``path`` (``None`` outside the per-user folders)."""
    if not rules.solutions_per_user:
        return None
    pure, base = PurePosixPath(path), PurePosixPath(rules.solutions_path.strip("/"))
    if base not in pure.parents:
        return None
    parts = pure.relative_to(base).parts
    return parts[0] if len(parts) >= 2 else None


def is_solution_path(path: str, rules: Rules) -> bool:
    return PurePosixPath(rules.solutions_path.strip("/")) in PurePosixPath(path).parents


def check_ref(pusher: Pusher, update: RefUpdate, rules: Rules) -> list[Refusal]:
    """Refusals for one ref update (namespace, name, deletion, force-push)."""
    ref, name = update.ref, pusher.name
    organiser_ref = HEADS + rules.organiser_ref
    own = f"{HEADS}{name}/"
    example = f"git push origin HEAD:{own}my-idea"
    if not pusher.organiser and not (ref.startswith(own) and len(ref) > len(own)):
        return [
            Refusal(
                "namespace",
                f"refusing {shown(ref)}: participants push to {own}<branch>; try: {example}",
            )
        ]
    if not is_plain(ref):
        return [Refusal("ref-name", f"refusing {shown(ref)}: a ref has no empty, '.' or '..' part")]
    if update.deleted:
        if ref == organiser_ref:
            return [Refusal("delete", f"refusing to delete {shown(ref)}: the organiser ref is never deleted")]
        if not pusher.organiser:
            return [
                Refusal(
                    "delete",
                    f"refusing to delete {shown(ref)}: pushed commits stay (they may be scored); "
                    f"push new work to another branch, e.g. {example}",
                )
            ]
        return []
    if not update.created and not update.fast_forward:
        if ref == organiser_ref:
            return [
                Refusal(
                    "force",
                    f"refusing to rewrite {shown(ref)} ({short(update.old)} is not in {short(update.new)}): "
                    "the organiser ref only moves forward; commit a fix on top instead",
                )
            ]
        if not pusher.organiser:
            return [
                Refusal(
                    "force",
                    f"refusing to rewrite {shown(ref)} ({short(update.old)} is not in {short(update.new)}): "
                    f"pushed commits stay; pull and merge, or push to a new branch, e.g. {example}",
                )
            ]
    return []


def check_commit(pusher: Pusher, commit: NewCommit, rules: Rules) -> list[Refusal]:
    """Refusals for one new commit (organiser paths, others' solutions, file sizes)."""
    refusals = []
    for change in commit.changes:
        path = shown(change.path)
        where = f"commit {short(commit.sha)}: {path}"
        if not is_plain(change.path):
            refusals.append(
                Refusal(
                    "path",
                    f"refusing {where} has an empty, '.' or '..' part (git itself writes none); "
                    "commit the file under its plain path",
                )
            )
            continue
        if not pusher.organiser and is_organiser_path(change.path, rules.organiser_paths):
            refusals.append(
                Refusal(
                    "organiser-path",
                    f"refusing {where} is owned by the organiser; "
                    f"undo that change (git checkout origin/{rules.organiser_ref} -- {path}) "
                    "and commit again",
                )
            )
            continue
        owner = None if pusher.organiser else solution_owner(change.path, rules)
        if owner is not None and owner != pusher.name:
            base = rules.solutions_path.strip("/")
            refusals.append(
                Refusal(
                    "other-solution",
                    f"refusing {where} is in {owner}'s folder; put your notebooks under "
                    f"{base}/{pusher.name}/ (merge {owner}'s branch to build on their work)",
                )
            )
            continue
        if change.mode == SYMLINK_MODE and (not pusher.organiser or is_solution_path(change.path, rules)):
            refusals.append(
                Refusal(
                    "link",
                    f"refusing {where} is a symbolic link, which the scorer cannot check out; remove it "
                    f"(git rm --cached {path}), read the phase's data from inputs_dir, and commit "
                    "again",
                )
            )
            continue
        if change.size is not None and change.size > rules.max_file_size:
            size, limit = human_size(change.size), human_size(rules.max_file_size)
            if size == limit:
                size, limit = f"{change.size} bytes", f"{rules.max_file_size} bytes"
            refusals.append(
                Refusal(
                    "too-large",
                    f"refusing {where} is {size}, over the {limit} limit; "
                    "keep large data out of the repository",
                )
            )
    return refusals


def check_push(push: Push, rules: Rules) -> list[Refusal]:
    """Every refusal for ``push``; empty when the push may go in."""
    refusals = [r for update in push.updates for r in check_ref(push.pusher, update, rules)]
    for ref, hidden in push.closed.items():
        if hidden:
            refusals.append(
                Refusal(
                    "closed-ancestor",
                    f"refusing {shown(ref)}: it builds on {short(hidden[0])}, which the phase keeps "
                    "closed to you; build on the organiser's branch or on your own commits",
                )
            )
    seen: set[str] = set()
    for commit in push.commits:
        if commit.sha in seen:
            continue
        seen.add(commit.sha)
        refusals.extend(check_commit(push.pusher, commit, rules))
    return refusals


def unknown_spec_refusals(pusher: Pusher, reason: str) -> list[Refusal]:
    """Refusals when the repository has no readable challenge spec yet: only organisers push."""
    if pusher.organiser:
        return []
    return [Refusal("no-challenge", f"refusing the push: {reason}; only organisers may push until it is")]
