"""The participant's clone, read with :func:`coop_client.git.acall` (asyncio subprocesses: the
kernel never blocks), and what a push's output says."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from coop_client.git import GitResult, acall

#: The served repository's URL ends with ``/git/<challenge>.git`` (scorer.service.git_http).
SERVED = re.compile(r"/git/([a-z0-9][a-z0-9_-]{0,62})\.git/?$")
#: The ``remote:`` lines of push-to-score (scorer.ingest.push): a queued or a rejected submission.
QUEUED = re.compile(r"^submission (\d+) queued: (.+) \(phase ([\w-]+)\)")
REJECTED = re.compile(r"^submission (\d+) not scored: (.+)$")
#: What git prints when the service cannot be reached (or a proxy in front of it is down).
UNREACHABLE = (
    "Failed to connect",
    "Could not resolve host",
    "Connection refused",
    "Connection reset",
    "Empty reply from server",
    "Recv failure",
    "Operation timed out",
    "returned error: 502",
    "returned error: 503",
    "returned error: 504",
)
REFUSED_LOGIN = ("Authentication failed", "returned error: 401", "returned error: 403")


async def toplevel(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    found = await acall(folder, "rev-parse", "--show-toplevel")
    return Path(found.out.strip()) if found.ok else None


async def challenge_of(repo: Path) -> str | None:
    """The challenge a clone belongs to, from its ``origin`` URL."""
    url = await acall(repo, "remote", "get-url", "origin")
    match = SERVED.search(url.out.strip()) if url.ok else None
    return match.group(1) if match else None


async def head(repo: Path, short: bool = False) -> str:
    found = await acall(repo, "rev-parse", *(["--short"] if short else []), "HEAD")
    return found.out.strip()


def unreachable(result: GitResult) -> bool:
    return any(sign in result.stderr for sign in UNREACHABLE)


def refused_login(result: GitResult) -> bool:
    return any(sign in result.stderr for sign in REFUSED_LOGIN)


def diverged(result: GitResult) -> bool:
    """The push was refused by git itself because the remote branch has commits we lack."""
    said = result.stderr
    return "[rejected]" in said and ("non-fast-forward" in said or "fetch first" in said)


def declined(result: GitResult) -> bool:
    """The server's policy refused the push (its reasons are in the ``remote:`` lines)."""
    return "pre-receive hook declined" in result.stderr or "[remote rejected]" in result.stderr


@dataclass(frozen=True)
class Queued:
    submission: int
    notebook: str | None  # None: rejected at once (over a limit)
    message: str


def submissions_of(lines: list[str]) -> list[Queued]:
    """The submissions a push created, from push-to-score's ``remote:`` lines."""
    found = []
    for line in lines:
        if match := QUEUED.match(line):
            found.append(Queued(int(match[1]), match[2], line))
        elif match := REJECTED.match(line):
            found.append(Queued(int(match[1]), None, match[2]))
    return found
