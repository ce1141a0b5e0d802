"""Walks below a merge: its merge bases, and the commits it brings that its base does not have.

Both paint the graph from the merge's parents, newest generation first (git's own way of finding
merge bases), so they stop as soon as what is left is known, instead of walking the whole history.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from scorer.credit.graph import CommitGraph


def merge_bases(graph: CommitGraph, parents: Sequence[str]) -> list[str]:
    """The common ancestors of all ``parents`` that the walk meets first: the merge bases (a
    criss-cross merge has several), and possibly some of their ancestors."""
    full = (1 << len(parents)) - 1
    masks: dict[str, int] = {}
    for bit, parent in enumerate(parents):
        masks[parent] = masks.get(parent, 0) | 1 << bit
    heap = [(-graph.generation[sha], sha) for sha in masks]
    heapq.heapify(heap)
    open_count = sum(1 for mask in masks.values() if mask != full)
    bases: list[str] = []
    while heap and open_count:
        _, sha = heapq.heappop(heap)
        mask = masks[sha]
        if mask == full:
            bases.append(sha)
            continue
        open_count -= 1
        for parent in graph.commits[sha].all_parents:
            old = masks.get(parent)
            new = (old or 0) | mask
            if old is None:
                masks[parent] = new
                heapq.heappush(heap, (-graph.generation[parent], parent))
                open_count += new != full
            elif new != old:
                masks[parent] = new
                open_count -= new == full  # it was queued open, and is closed now
    bases.extend(sha for _, sha in heap if masks[sha] == full)
    return bases


def brought(graph: CommitGraph, parents: Sequence[str], base: str | None) -> dict[str, int]:
    """The commits reachable from ``parents`` that are not ``base`` or its ancestors, each with
    the bit set of the parents (by position) it is reachable from."""
    base_bit = 1 << len(parents)
    masks: dict[str, int] = {}
    for bit, parent in enumerate(parents):
        masks[parent] = masks.get(parent, 0) | 1 << bit
    if base is not None:
        masks[base] = masks.get(base, 0) | base_bit
    heap = [(-graph.generation[sha], sha) for sha in masks]
    heapq.heapify(heap)
    open_count = sum(1 for mask in masks.values() if not mask & base_bit)
    region: dict[str, int] = {}
    while heap and open_count:
        _, sha = heapq.heappop(heap)
        mask = masks[sha]
        if not mask & base_bit:
            open_count -= 1
            region[sha] = mask
        for parent in graph.commits[sha].all_parents:
            old = masks.get(parent)
            new = (old or 0) | mask
            if old is None:
                masks[parent] = new
                heapq.heappush(heap, (-graph.generation[parent], parent))
                open_count += not new & base_bit
            elif new != old:
                masks[parent] = new
                open_count -= bool(new & base_bit and not old & base_bit)
    return region
