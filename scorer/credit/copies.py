"""Copies git cannot see: a notebook whose sources mostly come from an earlier notebook.

Winnowing (Schleimer, Wilkerson and Aiken, 2003): the sources of a notebook's cells, without
whitespace, are cut into k-grams; of each window of ``WINDOW`` consecutive k-gram hashes the
smallest is kept. Two texts that share a run of at least ``K + WINDOW - 1`` characters share at
least one kept hash, whatever was edited around it, so the share of a notebook's hashes found in
another says how much of it was copied from there. Pure functions.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Characters per k-gram, and k-grams per window.
K, WINDOW = 24, 16
#: A notebook is a copy of another when at least this share of its fingerprints is found there.
COPY_SHARE = 0.5


def notebook_text(data: bytes) -> str:
    """A notebook's cell sources without whitespace (empty when it is not a notebook)."""
    try:
        cells = json.loads(data)["cells"]
    except (ValueError, KeyError, TypeError):
        return ""
    parts = []
    for cell in cells if isinstance(cells, list) else []:
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        parts.append("".join(source) if isinstance(source, list) else str(source))
    return "".join("".join(parts).split())


def winnow(text: str) -> frozenset[int]:
    """The fingerprints of ``text``: the smallest k-gram hash of each window."""
    data = text.encode()
    hashes = [zlib.crc32(data[at : at + K]) for at in range(len(data) - K + 1)]
    if len(hashes) <= WINDOW:
        return frozenset(hashes[:1] and [min(hashes)])
    return frozenset(min(hashes[at : at + WINDOW]) for at in range(len(hashes) - WINDOW + 1))


@dataclass(frozen=True)
class Candidate:
    """A notebook version a later one may have been copied from."""

    key: str
    path: str
    prints: frozenset[int]


def find_copies(
    orphans: Mapping[str, tuple[str, frozenset[int]]],
    candidates: Sequence[Candidate],
    before: Mapping[str, int],
) -> dict[str, str]:
    """For each orphan (key → its path and fingerprints), the candidate it was copied from: of
    those listed before it (``before``: how many candidates precede it) at another path, the one
    holding the largest share of its fingerprints, at least :data:`COPY_SHARE` (ties: the earliest,
    the original rather than an earlier copy)."""
    index: dict[int, list[int]] = {}
    for at, candidate in enumerate(candidates):
        for value in candidate.prints:
            index.setdefault(value, []).append(at)
    found: dict[str, str] = {}
    for key, (path, prints) in orphans.items():
        if not prints:
            continue
        shared: dict[int, int] = {}
        limit = before[key]
        for value in prints:
            for at in index.get(value, ()):
                if at < limit and candidates[at].path != path:
                    shared[at] = shared.get(at, 0) + 1
        if shared:
            best = min(shared, key=lambda at: (-shared[at], at))
            if shared[best] >= COPY_SHARE * len(prints):
                found[key] = candidates[best].key
    return found
