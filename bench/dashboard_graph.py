"""The contribution graph page at 100k commits, in the kernel: the credit table and the
service's overview of the whole phase read through the typed client (over HTTP: the versions
grouped by person and time bucket), the page built (the figure's traces and the credit table), then
a click on a group that zooms into it (one more overview, each version drawn); goal: the page
ready in ≤ 2 s.

The phase is :mod:`bench.graph_endpoint`'s (a real repository written by ``git fast-import``, its
scored versions in SQLite, ``coop serve``'s app under uvicorn on loopback). The first read
computes the ladder on the service (the cold figure, reported apart); the timed ones read the
kept ladder, as a viewer's kernel does after the first.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.graph_endpoint import fill, repository, single_authors
from bench.leaderboard_endpoint import percentiles, timed
from coop_client.client import CoopClient
from coop_client.models import CreditTableOut, GraphOverviewOut
from coop_widgets.dashboards import graph
from coop_widgets.dashboards.challenge import chosen_phase
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.service.conftest import PREFIX, running

GOAL_S = 2.0


def main(commits: int = 100_000, merges: int = 2_000, people: int = 500, runs: int = 5) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    made = single_authors(commits, merges, people)
    shas = repository(home / "challenge.git", made)
    api = CoopAPI(ScorerSettings(home=str(home / "coop")))
    figures: dict[str, float] = {}
    try:
        phase_id = fill(api, home / "challenge.git", made, shas)
        with running(create_app(api, StaticTokens({}), prefix=PREFIX)) as base:
            client = CoopClient(base + PREFIX, timeout=3600)
            challenge = client.challenge("trackml")
            phase = chosen_phase(challenge, phase_id, datetime.now(UTC))

            def read() -> tuple[CreditTableOut, GraphOverviewOut]:
                return client.credit("trackml", phase_id), client.graph_overview("trackml", phase_id)

            def window(start: datetime, end: datetime) -> GraphOverviewOut:
                return client.graph_overview("trackml", phase_id, start=start, end=end)

            begin = time.perf_counter()
            table, first = read()
            figures["cold_s"] = time.perf_counter() - begin
            figures["nodes"] = first.phase_total
            built: list[graph.GraphPage] = []
            reads = timed(read, runs)
            builds = timed(
                lambda: built.append(graph.GraphPage(challenge, phase, table, first, window)), runs
            )
            shown = built[-1]
            assert shown.shown.groups
            figures["groups"] = len(shown.shown.groups)
            group = shown.shown.groups[0]

            def whole() -> None:  # back to the whole phase, as a double-click does
                shown.zoom(None)

            zooms = timed(lambda: shown.select(group), runs, before=whole)
            figures["zoomed_nodes"] = shown.shown.total
            levels = 1
            while shown.shown.groups:  # click the first group again until each version is drawn
                shown.select(shown.shown.groups[0])
                levels += 1
            figures["levels"] = levels
            for name, samples in (("read", reads), ("build", builds), ("zoom", zooms)):
                figures[f"{name}_p50_ms"], figures[f"{name}_p95_ms"] = percentiles(samples)
            figures["page_p50_s"] = (figures["read_p50_ms"] + figures["build_p50_ms"]) / 1000
            client.close()
    finally:
        api.close()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--merges", type=int, default=2_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    result = main(args.commits, args.merges, args.people, args.runs)
    print(
        f"{result['nodes']:.0f} scored versions ({args.commits} commits, {args.people} people); "
        f"first read (the service computes the ladder) {result['cold_s']:.1f} s"
    )
    print(
        f"read the credit table and the overview: p50 {result['read_p50_ms']:.0f} ms "
        f"(p95 {result['read_p95_ms']:.0f})"
    )
    print(
        f"build the page ({result['groups']:.0f} groups drawn): p50 {result['build_p50_ms']:.0f} ms "
        f"(p95 {result['build_p95_ms']:.0f})"
    )
    print(
        f"zoom into a group (its {result['zoomed_nodes']:.0f} versions): p50 {result['zoom_p50_ms']:.0f} ms; "
        f"{result['levels']:.0f} click(s) on a group until each version is drawn"
    )
    print(
        f"page ready: {result['page_p50_s']:.2f} s p50 "
        f"({result['page_p50_s'] / GOAL_S:.2f} of the {GOAL_S:g} s goal)"
    )
