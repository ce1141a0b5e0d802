"""Who wrote what: the facts about a pushed commit that credit is computed from.

Pure functions over git's plain output. The pusher comes from the token that pushed, never
from the commit: author and committer lines (and a repository's ``.mailmap``) are forgeable,
so they are recorded as claims only; ``Co-authored-by:`` trailers name co-authors who share
the pusher's credit once a server-side alias maps their email to a person.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

#: ``git log`` fields, NUL-separated; records end with a 0x1e.
LOG_FORMAT = "%H%x00%P%x00%an%x00%ae%x00%cn%x00%ce%x00%ct%x00%B%x1e"
TRAILER = re.compile(r"^co-authored-by:\s*(?P<name>[^<]*?)\s*<(?P<email>[^<>\s]+)>\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class CommitFacts:
    sha: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    committed_at: int  # seconds since the epoch, as the committer claims
    message: str
    co_authors: tuple[Person, ...] = ()
    notebooks: dict[str, str] = field(default_factory=dict)  # path -> fingerprint of its sources


def parse_log(output: str) -> list[CommitFacts]:
    """Parse ``git log --format=LOG_FORMAT`` output."""
    commits = []
    for record in output.split("\x1e"):
        record = record.lstrip("\n")
        if not record:
            continue
        sha, parents, an, ae, cn, ce, ct, message = record.split("\x00", 7)
        commits.append(
            CommitFacts(
                sha=sha,
                parents=tuple(parents.split()),
                author=Person(an, ae.lower()),
                committer=Person(cn, ce.lower()),
                committed_at=int(ct),
                message=message,
                co_authors=co_authors(message),
            )
        )
    return commits


def co_authors(message: str) -> tuple[Person, ...]:
    """``Co-authored-by:`` trailers of the message's last paragraph, in order, without repeats."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if len(paragraphs) < 2:  # a subject line alone has no trailers
        return ()
    found: dict[str, Person] = {}
    for line in paragraphs[-1].splitlines():
        match = TRAILER.match(line.strip())
        if match:
            email = match["email"].lower()
            found.setdefault(email, Person(match["name"], email))
    return tuple(found.values())


def notebook_fingerprint(data: bytes) -> str | None:
    """SHA-256 over a notebook's cell types and sources: equal for copies whatever their outputs,
    metadata or formatting; ``None`` when the file is not a notebook."""
    try:
        cells = json.loads(data)["cells"]
    except (ValueError, KeyError, TypeError):
        return None
    digest = hashlib.sha256()
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        digest.update(f"{cell.get('cell_type', '')}\0{text.strip()}\0".encode())
    return digest.hexdigest()
