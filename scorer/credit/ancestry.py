"""Walks below a merge: its merge bases, and the commits it brings that its base does not have.

Both paint the graph from the merge's parents, newest generation first (git's own way of finding
merge bases), so they stop as soon as what is left is known, instead of walking the whole history.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from scorer.credit.graph import CommitGraph


def merge_bases(graph: CommitGraph, parents: Sequence[str]) -> tuple[list[str], dict[str, int]]:
    """The merge bases of ``parents`` (common ancestors of all of them that no other common
    ancestor descends from: a criss-cross merge has several), and the commits walked that are not
    common ancestors, each with the bit set of the parents (by position) it is reachable from:
    with a single merge base b, exactly the commits the merge brings that b does not have."""
    full = (1 << len(parents)) - 1
    masks: dict[str, int] = {}
    for bit, parent in enumerate(parents):
        masks[parent] = masks.get(parent, 0) | 1 << bit
    heap = [(-graph.generation[sha], sha) for sha in masks]
    heapq.heapify(heap)
    open_count = sum(1 for mask in masks.values() if mask != full)
    bases: list[str] = []
    stale: set[str] = set()  # common ancestors below another one
    region: dict[str, int] = {}
    commits, generation = graph.commits, graph.generation
    push, pop = heapq.heappush, heapq.heappop  # the hot loop of every merge
    while heap and open_count:
        _, sha = pop(heap)
        mask = masks[sha]
        if mask == full:
            if sha not in stale:
                bases.append(sha)
            stale.update(commits[sha].all_parents)
        else:
            open_count -= 1
            region[sha] = mask
        for parent in commits[sha].all_parents:
            old = masks.get(parent)
            if old is None:
                masks[parent] = mask
                push(heap, (-generation[parent], parent))
                open_count += mask != full
            elif old | mask != old:
                masks[parent] = old | mask
                open_count -= old | mask == full  # it was queued open, and is closed now
    bases.extend(sha for _, sha in heap if masks[sha] == full and sha not in stale)
    return bases, region


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
