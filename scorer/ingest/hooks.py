"""Hooks of the served challenge repositories: ``python -m scorer.ingest.hooks pre-receive``
(the push policy) and ``post-receive`` (push-to-score, :mod:`scorer.ingest.push`).

git runs the hook in the repository with the pushed objects visible (quarantined) through its
environment, so plain ``git`` in the working folder sees them. The pusher comes from the service
(``COOP_PUSHER``, ``COOP_ORGANISER=1|0``), never from the commits. The challenge spec is read from
the repository's organiser ref (the repository's ``HEAD``, or ``organiser.ref`` of that spec).
Each refusal is printed to stderr (the git client shows it as ``remote: …``) and exit status 1
refuses the whole push; 0 lets it in. post-receive runs once the refs are updated; it needs the
service's ``COOP_HOME`` (and ``COOP_DB_URL``) and prints the queued submissions to stdout, with
``COOP_STATUS_URL`` as the base of their status URLs. It never fails the push.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from coop_client.errors import GitError
from coop_client.git import HEADS, call, is_zero, run
from scorer.challenge.load import SPEC_FILE, parse_spec
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


def git_ok(*args: str) -> bool:
    return call(None, *args).ok


def read_updates(stream: TextIO) -> list[RefUpdate]:
    """The ``<old> <new> <ref>`` lines git gives pre-receive, with fast-forwardness worked out."""
    updates = []
    for line in stream:
        parts = line.split()
        if len(parts) != 3:
            continue
        old, new, ref = parts
        forward = True
        if not is_zero(old) and not is_zero(new):
            forward = git_ok("merge-base", "--is-ancestor", old, new)
        updates.append(RefUpdate(old, new, ref, forward))
    return updates


def load_rules() -> tuple[Rules | None, str]:
    """The policy's rules from the spec on the organiser ref; ``(None, why)`` when unreadable."""
    if not git_ok("rev-parse", "--verify", "--quiet", "HEAD^{commit}"):
        return None, "the challenge is not published yet (the organiser ref does not exist)"
    try:
        spec = parse_spec(run(None, "show", f"HEAD:{SPEC_FILE}"), f"HEAD:{SPEC_FILE}")
        ref = HEADS + spec.organiser.ref
        if git_ok("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") and run(
            None, "rev-parse", f"{ref}^{{commit}}"
        ) != run(None, "rev-parse", "HEAD^{commit}"):
            spec = parse_spec(run(None, "show", f"{ref}:{SPEC_FILE}"), f"{ref}:{SPEC_FILE}")
    except GitError:
        return None, f"the organiser ref has no readable {SPEC_FILE}"
    except SpecError:
        return None, f"the {SPEC_FILE} on the organiser ref is not valid"
    return (
        Rules(
            organiser_ref=spec.organiser.ref,
            organiser_paths=tuple(spec.organiser.paths),
            solutions_path=spec.solutions.path,
            solutions_per_user=spec.solutions.per_user,
            max_file_size=int(spec.solutions.max_file_size),
        ),
        "",
    )


def new_commits(updates: Sequence[RefUpdate]) -> list[str]:
    """Commits the push brings that no ref of the repository reaches yet (each once)."""
    tips = [u.new for u in updates if not is_zero(u.new)]
    if not tips:
        return []
    out = run(None, "rev-list", *tips, "--not", "--all")
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


def commit_changes(sha: str) -> list[tuple[str, str, str]]:
    """What the commit itself changes: against its parent, against all parents for a merge
    (``-c``: a change brought in from one side is not the merge's own), everything for a root."""
    return parse_raw_diff(run(None, "diff-tree", "-r", "--root", "-c", "--no-commit-id", "-z", sha))


def blob_sizes(blobs: set[str]) -> dict[str, int]:
    if not blobs:
        return {}
    check = "--batch-check=%(objectname) %(objecttype) %(objectsize)"
    out = run(None, "cat-file", check, input="".join(f"{blob}\n" for blob in blobs))
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "blob":
            sizes[parts[0]] = int(parts[2])
    return sizes


def scan(shas: Sequence[str]) -> list[NewCommit]:
    raw = {sha: commit_changes(sha) for sha in shas}
    blobs = {
        blob
        for entries in raw.values()
        for _p, mode, blob in entries
        if not is_zero(blob) and mode != GITLINK
    }
    sizes = blob_sizes(blobs)
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


def pre_receive(stdin: TextIO, env: dict[str, str]) -> list[Refusal]:
    pusher = Pusher(env.get("COOP_PUSHER", ""), env.get("COOP_ORGANISER", "0") == "1")
    if not pusher.name:
        return [
            Refusal("no-pusher", "refusing the push: push through the Coopetition service (no pusher known)")
        ]
    updates = read_updates(stdin)
    rules, why = load_rules()
    if rules is None:
        return unknown_spec_refusals(pusher, why)
    return check_push(Push(pusher, updates, scan(new_commits(updates))), rules)


#: Variables git sets for a hook that would point the scorer's own git commands elsewhere.
GIT_LOCATION = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_PREFIX",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_QUARANTINE_PATH",
    "GIT_COMMON_DIR",
)


def post_receive(stdin: TextIO, env: dict[str, str]) -> list[str]:
    """Push-to-score: record the new commits and queue their notebooks; the lines to print."""
    pusher, home = env.get("COOP_PUSHER", ""), env.get("COOP_HOME", "")
    if not pusher or not home:
        return ["push accepted, but not through the Coopetition service: nothing was queued"]
    updates = [(p[0], p[1], p[2]) for p in (line.split() for line in stdin) if len(p) == 3]
    repo = Path(env.get("GIT_DIR", ".")).resolve()
    for name in GIT_LOCATION:  # the scorer's own git commands name their repository
        os.environ.pop(name, None)
    from scorer.config import ScorerSettings
    from scorer.facade import CoopAPI  # heavy: only here, never on pre-receive's path
    from scorer.ingest.push import on_push

    database = {"db_url": env["COOP_DB_URL"]} if env.get("COOP_DB_URL") else {}
    api = CoopAPI(ScorerSettings(home=home, **database), migrate=False)  # the service migrated it
    try:
        lines = on_push(api, repo, pusher, updates, status_url=env.get("COOP_STATUS_URL", ""))
    finally:
        api.close()
    return [str(line) for line in lines]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["post-receive"]:
        try:
            for line in post_receive(sys.stdin, dict(os.environ)):
                print(line, flush=True)
        except Exception as exc:  # the push is in; say why nothing was queued, never crash
            print(
                f"push accepted, but the scorer could not queue it ({type(exc).__name__}: {exc})", flush=True
            )
            print("your commits are in the repository; ask the organisers to requeue them", flush=True)
        return 0
    if args != ["pre-receive"]:
        print("usage: python -m scorer.ingest.hooks pre-receive|post-receive", file=sys.stderr)
        return 2
    try:
        refusals = pre_receive(sys.stdin, dict(os.environ))
    except GitError as exc:
        print(
            f"refusing the push: the server could not check it ({exc.user_message}); try again",
            file=sys.stderr,
        )
        return 1
    for refusal in refusals:
        print(refusal.message, file=sys.stderr)
    if refusals:
        n = len(refusals)
        print(f"push refused ({n} problem{'s' if n > 1 else ''}); nothing was changed", file=sys.stderr)
    return 1 if refusals else 0


if __name__ == "__main__":
    sys.exit(main())
