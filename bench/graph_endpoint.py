"""The contribution graph endpoint at 100k commits: ``GET …/graph`` over HTTP (p50/p95), goal
≤ 200 ms p50, and the credit table endpoint beside it.

A real git repository is written with ``git fast-import`` from ``bench.credit``'s synthetic
history (a main line with feature branches merged back, 500 people, each commit changing its
author's notebook ``solutions/<person>/fit.ipynb``); every commit is a scored submission in a
SQLite ledger (the bulk importer, the TrackML demo spec, the primary column's metric following
the history's random walk). `coop serve`'s app runs under uvicorn on loopback. The first
request reads the phase from the ledger and git and computes the ladder (the cold figure); the
timed ones read pages of it: the first page of 1,000 nodes, a page in the middle, the first
page of the ladder's steps, and the credit table.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nbformat

from bench.common import ROOT
from bench.credit import history
from bench.leaderboard_endpoint import percentiles, timed
from coop_client.git import run
from scorer.challenge.load import load_spec
from scorer.config import ScorerSettings
from scorer.credit.graph import Commit
from scorer.facade import CoopAPI
from scorer.ledger import store
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.service.conftest import PREFIX, running


def repository(path: Path, commits: list[Commit]) -> dict[str, str]:
    """A bare repository holding ``commits``; each commit's SHA by its synthetic name."""
    run(None, "init", "-q", "--bare", str(path))
    marks = {commit.sha: at + 1 for at, commit in enumerate(commits)}
    stream: list[str] = []
    for at, commit in enumerate(commits):
        person = commit.people[0]
        cells = [nbformat.v4.new_code_cell(f"# {person}'s model\nmodel = fit(train, step={at})")]
        data = nbformat.writes(nbformat.v4.new_notebook(cells=cells))
        stream += ["commit refs/heads/main", f"mark :{at + 1}"]
        stream += [f"committer {person} <{person}@example.org> {1_780_000_000 + at} +0000", "data 1", "c"]
        stream += [
            f"from :{marks[parent]}" if n == 0 else f"merge :{marks[parent]}"
            for n, parent in enumerate(commit.parents)
        ]
        stream += [f"M 100644 inline solutions/{person}/fit.ipynb", f"data {len(data.encode())}", data, ""]
    run(path, "fast-import", "--quiet", f"--export-marks={path / 'marks'}", input="\n".join(stream) + "\n")
    by_mark = dict(line.split() for line in (path / "marks").read_text().splitlines())
    return {commit.sha: by_mark[f":{marks[commit.sha]}"] for commit in commits}


def fill(api: CoopAPI, bare: Path, commits: list[Commit], shas: dict[str, str]) -> str:
    challenge = load_spec(ROOT / "challenge_notebooks" / "trackml")
    phase = challenge.phases[-1]
    rng = random.Random(5)
    start = datetime(2026, 6, 2, tzinfo=UTC)
    scored = [(commit, float(commit.score)) for commit in commits if commit.score is not None]
    records = (
        ScoredRecord(
            username=commit.people[0],
            commit_sha=shas[commit.sha],
            submitted_at=start + timedelta(seconds=at),
            public={
                "accuracy": score,
                "time_per_event": rng.uniform(0.01, 2),
                "efficiency": 0.5,
            },
            private={
                "accuracy": score,
                "time_per_event": rng.uniform(0.01, 2),
                "efficiency": 0.5,
            },
            run_time=rng.uniform(1, 60),
            peak_memory=rng.uniform(100, 2000),
            notebook_path=f"solutions/{commit.people[0]}/fit.ipynb",
        )
        for at, (commit, score) in enumerate(scored)
    )
    with api.sessions.begin() as session:
        store.upsert_challenge(session, challenge, str(bare))
        import_scored(session, challenge.id, phase.id, records)
    return phase.id


def single_authors(commits: int, merges: int, people: int) -> list[Commit]:
    """:func:`bench.credit.history` with each commit by its first author only (a submission is
    one person's push): the history the graph benches and the dashboards' render bench share."""
    return [Commit(c.sha, c.parents, c.people[:1], c.time, c.score) for c in history(commits, merges, people)]


def main(
    commits: int = 100_000, merges: int = 2_000, people: int = 500, queries: int = 40
) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    made = single_authors(commits, merges, people)
    begin = time.perf_counter()
    shas = repository(home / "challenge.git", made)
    figures = {"repository_s": time.perf_counter() - begin}
    api = CoopAPI(ScorerSettings(home=str(home / "coop")))
    try:
        begin = time.perf_counter()
        phase_id = fill(api, home / "challenge.git", made, shas)
        figures["ledger_s"] = time.perf_counter() - begin
        base_path = f"{PREFIX}api/challenges/trackml/phases/{phase_id}"
        with running(create_app(api, StaticTokens({}), prefix=PREFIX)) as base, httpx.Client() as http:
            url = f"{base}{base_path}"

            def get(path: str, params: dict[str, str | int]) -> dict:
                response = http.get(f"{url}/{path}", params=params, timeout=600)
                response.raise_for_status()
                return response.json()

            begin = time.perf_counter()
            first = get("graph", {"limit": 1000})
            figures["cold_s"] = time.perf_counter() - begin
            figures["nodes"] = first["total"]
            middle = first["total"] // 2
            reads = {
                "first_page": lambda: get("graph", {"limit": 1000}),
                "middle_page": lambda: get("graph", {"limit": 1000, "offset": middle}),
                "steps_page": lambda: get("graph", {"limit": 1000, "detail": "steps"}),
                "credit_table": lambda: get("credit", {}),
            }
            for name, read in reads.items():
                read()  # each level of detail and measure computed once
                p50, p95 = percentiles(timed(read, queries))
                figures[f"{name}_p50_ms"], figures[f"{name}_p95_ms"] = p50, p95
    finally:
        api.close()
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--merges", type=int, default=2_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    result = main(args.commits, args.merges, args.people, args.queries)
    print(
        f"{result['nodes']:.0f} scored versions ({args.commits} commits): repository written in "
        f"{result['repository_s']:.1f} s, ledger filled in {result['ledger_s']:.1f} s, first request "
        f"(ledger + git + ladder) {result['cold_s']:.1f} s"
    )
    for name in ("first_page", "middle_page", "steps_page", "credit_table"):
        p50 = result[f"{name}_p50_ms"]
        print(
            f"{name}: p50 {p50:.1f} ms ({p50 / 200:.2f} of the 200 ms goal), "
            f"p95 {result[name + '_p95_ms']:.1f} ms"
        )
