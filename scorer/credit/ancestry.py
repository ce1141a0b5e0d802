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
    # Integers only in the loop (every merge walks it): a commit is its position, a heap entry
    # its generation and position in one negated number.
    full = (1 << len(parents)) - 1
    generations, above = graph.generations, graph.parent_positions
    shift = max(len(generations), 1).bit_length()
    low = (1 << shift) - 1
    masks: dict[int, int] = {}
    for bit, sha in enumerate(parents):
        at = graph.order[sha]
        masks[at] = masks.get(at, 0) | 1 << bit
    heap = [-(generations[at] << shift | at) for at in masks]
    heapq.heapify(heap)
    open_count = sum(1 for mask in masks.values() if mask != full)
    bases: list[int] = []
    stale: set[int] = set()  # common ancestors below another one
    region: dict[int, int] = {}
    push, pop = heapq.heappush, heapq.heappop
    while heap and open_count:
        at = -pop(heap) & low
        mask = masks[at]
        if mask == full:
            if at not in stale:
                bases.append(at)
            stale.update(above[at])
        else:
            open_count -= 1
            region[at] = mask
        for up in above[at]:
            old = masks.get(up)
            if old is None:
                masks[up] = mask
                push(heap, -(generations[up] << shift | up))
                open_count += mask != full
            elif old | mask != old:
                masks[up] = old | mask
                open_count -= old | mask == full  # it was queued open, and is closed now
    bases.extend(-entry & low for entry in heap if masks[-entry & low] == full and -entry & low not in stale)
    shas = graph.shas
    return [shas[at] for at in bases], {shas[at]: mask for at, mask in region.items()}


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
