"""Run every benchmark once and print the figures as a Markdown table (for the README)."""

from __future__ import annotations

from bench import leaderboard_query, overhead, scaling


def main() -> None:
    rows = []
    cost = overhead.main(repeats=5)
    rows.append(
        (
            "`coop score` of a trivial notebook vs bare `papermill` (≤ 1.3×)",
            f"cold CLI {cost['cold_ratio']:.2f}×, warm platform {cost['warm_ratio']:.2f}× "
            f"(papermill {cost['papermill_s']:.1f} s, CLI {cost['coop_score_s']:.1f} s, "
            f"warm {cost['warm_s']:.1f} s)",
        )
    )
    speed = scaling.main(count=20)
    rows.append(
        (
            "20 trivial submissions, 1 vs 2 Dask workers (≥ 1.7×)",
            f"{speed['speedup']:.2f}× ({speed['one_worker_s']:.1f} s vs {speed['two_workers_s']:.1f} s)",
        )
    )
    query = leaderboard_query.main()
    rows.append(
        (
            "leaderboard query, 100k submissions, 5k people, SQLite (p50 ≤ 50 ms)",
            f"{query['p50_ms_throughput']:.1f} ms (best, computed column); "
            f"{query['p50_ms_latest-accuracy']:.1f} ms (last)",
        )
    )
    print("| benchmark | measured |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
