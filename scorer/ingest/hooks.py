"""The push policy of the served challenge repositories, as the service runs it for their
pre-receive hook (:mod:`scorer.ingest.hook_script` hands the push over on loopback).

The policy's git commands read the repository with the pushed objects, still quarantined, through
the environment git gave the hook (:class:`Where`). The pusher comes from the service, never from
the commits. The challenge spec is read from the repository's organiser ref (the repository's
``HEAD``, or ``organiser.ref`` of that spec). :func:`pre_receive_answer` gives the lines the client
shows as ``remote: …`` and whether the push gets in: any refusal refuses the whole push.
Push-to-score (post-receive) is :mod:`scorer.ingest.spool`'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from coop_client.errors import GitError
from coop_client.git import HEADS, GitResult, call, is_zero
from scorer.challenge.load import SPEC_FILE, parse_spec
from scorer.challenge.spec import Challenge
from scorer.exceptions import SpecError
from scorer.ingest.policy import (
    ChangedFile,
    NewCommit,
    Push,
    Pusher,
    RefUpdate,
    Refusal,
    Rules,
    check_push,
    unknown_spec_refusals,
)

GITLINK = "160000"


@dataclass(frozen=True)
class Where:
    """Where the policy's git commands run: ``repository`` (``None``: where the process is, as in
    a hook) with ``env`` over the service's environment (the push's quarantined objects)."""

    repository: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    def call(self, *args: str, input: str | None = None) -> GitResult:
        bare = self.repository is not None
        return call(self.repository, *args, bare=bare, input=input, env=dict(self.env))

    def ok(self, *args: str) -> bool:
        return self.call(*args).ok

    def run(self, *args: str, input: str | None = None) -> str:
        return self.call(*args, input=input).check().out


HERE = Where()


def read_updates(lines: str, where: Where = HERE) -> list[RefUpdate]:
    """The ``<old> <new> <ref>`` lines git gives pre-receive, with fast-forwardness worked out."""
    updates = []
    for line in lines.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        old, new, ref = parts
        forward = True
        if not is_zero(old) and not is_zero(new):
            forward = where.ok("merge-base", "--is-ancestor", old, new)
        updates.append(RefUpdate(old, new, ref, forward))
    return updates


def load_rules(where: Where = HERE) -> tuple[Rules | None, str]:
    """The policy's rules from the spec on the organiser ref; ``(None, why)`` when unreadable."""
    if not where.ok("rev-parse", "--verify", "--quiet", "HEAD^{commit}"):
        return None, "the challenge is not published yet (the organiser ref does not exist)"
    try:
        rules = spec_rules(where.run("show", f"HEAD:{SPEC_FILE}"), f"HEAD:{SPEC_FILE}")
        ref = HEADS + rules.organiser_ref
        tips = where.call("rev-parse", "HEAD^{commit}", f"{ref}^{{commit}}")  # fails: no such ref
        if tips.ok and len(set(tips.out.split())) == 2:
            rules = spec_rules(where.run("show", f"{ref}:{SPEC_FILE}"), f"{ref}:{SPEC_FILE}")
    except GitError:
        return None, f"the organiser ref has no readable {SPEC_FILE}"
    except SpecError:
        return None, f"the {SPEC_FILE} on the organiser ref is not valid"
    return rules, ""


@lru_cache(maxsize=64)
def spec_rules(text: str, where: str) -> Rules:
    """The policy's rules of a spec's text (kept: parsing a spec costs a push ~10 ms)."""
    return rules_of(parse_spec(text, where))


def rules_of(spec: Challenge) -> Rules:
    """The push policy's rules of a challenge."""
    return Rules(
        organiser_ref=spec.organiser.ref,
        organiser_paths=tuple(spec.organiser.paths),
        solutions_path=spec.solutions.path,
        solutions_per_user=spec.solutions.per_user,
        max_file_size=int(spec.solutions.max_file_size),
    )


def new_commits(updates: Sequence[RefUpdate], where: Where = HERE) -> list[str]:
    """Commits the push brings that no ref of the repository reaches yet (each once)."""
    tips = [u.new for u in updates if not is_zero(u.new)]
    if not tips:
        return []
    out = where.run("rev-list", *tips, "--not", "--all")
    return out.split()


def parse_raw_diff(out: str) -> list[tuple[str, str, str]]:
    """``(path, result mode, result blob)`` from ``git diff-tree -z`` raw (or ``-c``) output."""
    fields = out.split("\0")
    entries = []
    i = 0
    while i < len(fields):
        meta = fields[i]
        if not meta.startswith(":"):
            i += 1
            continue
        parents = len(meta) - len(meta.lstrip(":"))
        words = meta.lstrip(":").split()
        modes, shas = words[: parents + 1], words[parents + 1 : 2 * parents + 2]
        path = fields[i + 1] if i + 1 < len(fields) else ""
        entries.append((path, modes[-1], shas[-1]))
        i += 2
    return entries


def commit_changes(sha: str, where: Where = HERE) -> list[tuple[str, str, str]]:
    """What the commit itself changes: against its parent, against all parents for a merge
    (``-c``: a change brought in from one side is not the merge's own), everything for a root."""
    return parse_raw_diff(where.run("diff-tree", "-r", "--root", "-c", "--no-commit-id", "-z", sha))


def blob_sizes(blobs: set[str], where: Where = HERE) -> dict[str, int]:
    if not blobs:
        return {}
    check = "--batch-check=%(objectname) %(objecttype) %(objectsize)"
    out = where.run("cat-file", check, input="".join(f"{blob}\n" for blob in blobs))
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes


def scan(shas: Sequence[str], where: Where = HERE) -> list[NewCommit]:
    raw = {sha: commit_changes(sha, where) for sha in shas}
    blobs = {
        blob
        for entries in raw.values()
        for _p, mode, blob in entries
        if not is_zero(blob) and mode != GITLINK
    }
    sizes = blob_sizes(blobs, where)
    return [
        NewCommit(
            sha,
            tuple(
                ChangedFile(path, None if is_zero(blob) else sizes.get(blob), mode)
                for path, mode, blob in entries
            ),
        )
        for sha, entries in raw.items()
    ]


def hidden_refs_config(values: Sequence[str]) -> dict[str, str]:
    """``uploadpack.hideRefs`` values as git's ``GIT_CONFIG_COUNT``/``KEY``/``VALUE`` environment."""
    env = {"GIT_CONFIG_COUNT": str(len(values))} if values else {}
    for index, value in enumerate(values):
        env[f"GIT_CONFIG_KEY_{index}"] = "uploadpack.hideRefs"
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def closed_ancestors(
    updates: Sequence[RefUpdate], hidden: Sequence[str], new: Sequence[str], where: Where = HERE
) -> dict[str, list[str]]:
    """Per updated ref, the commits it reaches that the repository held already and that no ref
    the pusher may fetch reaches (``hidden``: their ``uploadpack.hideRefs``); ``new`` are the
    push's own commits."""
    if not hidden:
        return {}
    fetchable = Where(where.repository, {**where.env, **hidden_refs_config(hidden)})
    brought = set(new)
    closed = {}
    for update in updates:
        if update.deleted:
            continue
        out = fetchable.run("rev-list", update.new, "--not", "--exclude-hidden=uploadpack", "--all")
        closed[update.ref] = [sha for sha in out.split() if sha not in brought]
    return closed


def pre_receive(where: Where, pusher: Pusher, lines: str, hidden: Sequence[str] = ()) -> list[Refusal]:
    """The push policy's refusals of the ref updates ``lines`` (as git gives them) by ``pusher``,
    who may fetch no ref ``hidden`` hides."""
    if not pusher.name:
        return [
            Refusal("no-pusher", "refusing the push: push through the Coopetition service (no pusher known)")
        ]
    updates = read_updates(lines, where)
    rules, why = load_rules(where)
    if rules is None:
        return unknown_spec_refusals(pusher, why)
    new = new_commits(updates, where)
    closed = closed_ancestors(updates, hidden, new, where)
    return check_push(Push(pusher, updates, scan(new, where), closed), rules)


def pre_receive_answer(
    where: Where, pusher: Pusher, lines: str, hidden: Sequence[str] = ()
) -> tuple[bool, list[str]]:
    """Whether the push gets in, and the lines the client shows (``remote: …``)."""
    try:
        refusals = pre_receive(where, pusher, lines, hidden)
    except GitError as exc:
        return False, [f"refusing the push: the server could not check it ({exc.user_message}); try again"]
    if not refusals:
        return True, []
    n = len(refusals)
    summary = f"push refused ({n} problem{'s' if n > 1 else ''}); nothing was changed"
    return False, [*(refusal.message for refusal in refusals), summary]
