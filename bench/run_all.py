"""Run every benchmark once and print the figures as a Markdown table (for the README)."""

from __future__ import annotations

from bench import (
    credit,
    dashboard_graph,
    dashboard_render,
    environment_build,
    environment_overhead,
    graph_endpoint,
    leaderboard_endpoint,
    leaderboard_query,
    overhead,
    people_search,
    push_to_queued,
    rewards,
    scaling,
)


def main() -> None:
    cost = overhead.main(repeats=5)
    speed = scaling.main(count=20)
    query = leaderboard_query.main()
    push = push_to_queued.main(repeats=10)
    endpoint = leaderboard_endpoint.main()
    ladder = credit.main()
    graph = graph_endpoint.main()
    graph_page = dashboard_graph.main()
    render = dashboard_render.main()
    live = rewards.main(rounds=5)
    people = people_search.main()
    environment = environment_overhead.main(repeats=10)
    built = environment_build.main()
    rows = [
        (
            "credit, 100k commits / 2k merges / 500 people (goals: full ≤ 3 s, one new score ≤ 5 ms p50)",
            f"full {ladder['full_s']:.2f} s; one new score {ladder['add_p50_ms']:.3f} ms; "
            f"a recent commit rescored {ladder['rescore_p50_ms']:.2f} ms",
        ),
        (
            "contribution graph endpoint, 100k commits, a page of 1,000 nodes over HTTP (goal p50 ≤ 200 ms)",
            f"first page {graph['first_page_p50_ms']:.0f} ms, "
            f"middle page {graph['middle_page_p50_ms']:.0f} ms, "
            f"steps {graph['steps_page_p50_ms']:.0f} ms, credit table {graph['credit_table_p50_ms']:.0f} ms; "
            f"first request (ledger + git + ladder) {graph['cold_s']:.0f} s",
        ),
        (
            "contribution graph page in the kernel, 100k commits, over HTTP (goal ≤ 2 s)",
            f"page ready {graph_page['page_p50_s']:.2f} s p50 (read {graph_page['read_p50_ms']:.0f} ms, "
            f"build {graph_page['build_p50_ms']:.0f} ms); one zoom {graph_page['zoom_p50_ms']:.0f} ms",
        ),
        (
            "dashboards in Chromium, Voila as the hub runs it: the first leaderboard row at 100k "
            "submissions and 5k people, preheated vs a cold kernel (goal ≤ 1 s p50 preheated); the graph "
            "page at 100k commits (goal ≤ 2 s); 20 viewers at once",
            dashboard_render.summary(render, 20).replace("\n", "; "),
        ),
        (
            "live rewards added to a submission's scoring, Higgs demo phase (goal ≤ 10 %)",
            rewards.summary(live),
        ),
        (
            "people search, 5k people / 100k scored notebooks, 3 weighted skills (goal p50 ≤ 50 ms)",
            people_search.summary(people),
        ),
        (
            "`coop score` of a trivial notebook vs bare `papermill` (goal ≤ 1.3×)",
            f"cold CLI {cost['cold_ratio']:.2f}×; warm platform {cost['warm_ratio']:.2f}× "
            f"({cost['unmasked_ratio']:.2f}× without hiding rfc3987_syntax). papermill "
            f"{cost['papermill_s']:.1f} s, CLI {cost['coop_score_s']:.1f} s, warm {cost['warm_s']:.1f} s",
        ),
        (
            "a sandboxed run from a challenge environment vs the platform's own (goal: no measurable change)",
            environment_overhead.summary(environment),
        ),
        (
            "building a small challenge environment (one package over the platform's kernel side), offline "
            "from the wheelhouse: cold, rebuilt, cached (goal: cached < 1 s)",
            environment_build.summary(built),
        ),
        (
            "20 trivial submissions, 1 vs 2 Dask workers (goal ≥ 1.7×)",
            f"{speed['speedup']:.2f}× ({speed['one_worker_s']:.1f} s vs {speed['two_workers_s']:.1f} s)",
        ),
        (
            "leaderboard query, 100k submissions, 5k people, SQLite (goal p50 ≤ 50 ms)",
            f"best board with a computed column: {query['p50_ms_throughput']:.1f} ms cached, "
            f"{query['p50_ms_throughput_fresh']:.1f} ms after a new score, "
            f"{query['p50_ms_throughput_uncached']:.0f} ms from scratch; last board: "
            f"{query['p50_ms_latest-accuracy']:.1f} ms cached, "
            f"{query['p50_ms_latest-accuracy_fresh']:.1f} ms after a new score, "
            f"{query['p50_ms_latest-accuracy_uncached']:.0f} ms from scratch",
        ),
        (
            "`git push` to `submission N queued` through the service vs a plain push to a bare repository",
            f"{push['ratio']:.0f}× ({push['served_s'] * 1000:.0f} ms vs {push['bare_s'] * 1000:.0f} ms, "
            "medians)",
        ),
        *(
            (
                f"leaderboard endpoint, 100k submissions, 5k people, {board} board: HTTP vs in-process",
                leaderboard_endpoint.summary(endpoint, board),
            )
            for board in leaderboard_endpoint.BOARDS
        ),
    ]
    print("| benchmark | measured |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
