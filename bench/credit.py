"""Credit on the commit graph: a full recompute at 100k commits, 2k merges and 500 people, and
the incremental update for one new score (p50), against the goals (3 s, 5 ms).

The synthetic history is a main line with feature branches (a few open at once, ~40 commits each)
forked from it and merged back; 70 % of the commits are scored, scores drift like a random walk
(most changes are noise, some are real gains), 5 % of the commits have a co-author. Pure Python,
no I/O: :mod:`scorer.credit.ladder` on a :class:`~scorer.credit.graph.CommitGraph`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass

from scorer.credit.graph import Commit, CommitGraph
from scorer.credit.ladder import Metric, add, compute, rescore


@dataclass
class Branch:
    tip: str
    owner: str
    size: int = 0


def history(commits: int, merges: int, people: int, seed: int = 7) -> list[Commit]:
    """A main line with ``merges`` feature branches merged back, ``commits`` in all."""
    rng = random.Random(seed)
    names = [f"person{i}" for i in range(people)]
    scores: dict[str, float] = {"c0": 0.5}
    made = [Commit("c0", (), (names[0],), 0, 0.5)]
    main, started = "c0", 0
    branches: list[Branch] = []
    branch_commits = commits - merges - commits // 5
    length = max(1, branch_commits // merges)

    def new(parents: tuple[str, ...], person: str) -> str:
        sha = f"c{len(made)}"
        base = max(scores[parent] for parent in parents)
        scores[sha] = base + rng.gauss(0.0005, 0.002)
        crew = (person, rng.choice(names)) if rng.random() < 0.05 else (person,)
        made.append(Commit(sha, parents, crew, len(made), scores[sha] if rng.random() < 0.7 else None))
        return sha

    while len(made) < commits:
        if started < merges and len(branches) < 12 and rng.random() < 0.3:
            branches.append(Branch(main, rng.choice(names)))
            started += 1
        if branches and rng.random() < 0.8:
            branch = rng.choice(branches)
            branch.tip = new((branch.tip,), branch.owner)
            branch.size += 1
            if branch.size >= length:
                main = new((main, branch.tip), rng.choice(names))
                branches.remove(branch)
        else:
            main = new((main,), rng.choice(names))
    return made[:commits]


def main(
    commits: int = 100_000, merges: int = 2_000, people: int = 500, updates: int = 200
) -> dict[str, float]:
    made = history(commits, merges, people)
    start = time.perf_counter()
    graph = CommitGraph.build(made)
    built = time.perf_counter() - start
    metric = Metric("maximize", 0.001)
    start = time.perf_counter()
    ladder = compute(graph, metric)
    full = time.perf_counter() - start
    rng = random.Random(11)
    recent = [commit.sha for commit in made[-2000:]]
    added, rescored = [], []
    for at in range(updates):
        parent = rng.choice(recent)
        commit = Commit(f"new{at}", (parent,), (f"person{at % people}",), commits + at, 0.5 + rng.random())
        begin = time.perf_counter()
        add(ladder, commit)
        added.append(time.perf_counter() - begin)
        target = rng.choice(made[-100:]).sha
        begin = time.perf_counter()
        rescore(ladder, target, rng.choice([None, 0.5 + rng.random()]))
        rescored.append(time.perf_counter() - begin)
    return {
        "merges": sum(1 for commit in made if len(commit.parents) > 1),
        "people": len({person for commit in made for person in commit.people}),
        "build_s": built,
        "full_s": full,
        "add_p50_ms": statistics.median(added) * 1000,
        "rescore_p50_ms": statistics.median(rescored) * 1000,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--merges", type=int, default=2_000)
    parser.add_argument("--people", type=int, default=500)
    args = parser.parse_args()
    result = main(args.commits, args.merges, args.people)
    print(
        f"{args.commits} commits, {result['merges']:.0f} merges, {result['people']:.0f} people: "
        f"graph built in {result['build_s']:.2f} s; full recompute {result['full_s']:.2f} s "
        f"({result['full_s'] / 3:.2f} of the 3 s goal); one new scored commit p50 "
        f"{result['add_p50_ms']:.3f} ms ({result['add_p50_ms'] / 5:.3f} of the 5 ms goal); "
        f"a recent commit rescored (its descendants recomputed) p50 {result['rescore_p50_ms']:.3f} ms"
    )
