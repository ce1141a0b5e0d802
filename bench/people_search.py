"""People search at 5k people and 100k scored submissions (p50/p95), in-process and over HTTP.

The ledger (SQLite) holds the TrackML and Higgs demo specs (their tags: domains and skills) and
100k scored submissions from 5k people through the bulk importer, each with an executed notebook
drawn from a dozen import mixes (numpy, pandas, sklearn.cluster, scipy.optimize, torch, numba,
…), plus 2,000 `limited-hardware` grants (the measured skill "fast"). Measured:

- cold: the first search, which reads the ledger, parses every notebook's imports once and
  builds the skill index (kept until the ledger changes);
- rebuild: the first search after one new grant (the ledger changed: the index is rebuilt,
  the notebooks' imports come from memory);
- in-process: ``CoopAPI.search_people`` on the current index (the state check included);
- HTTP: ``GET /api/people?skill=clustering:2&skill=performance-optimisation&skill=rank:trackml``
  anonymous, with the standard library's ``http.client`` on a new connection per request, and
  with httpx on one kept-alive connection; next to them, httpx's ``GET /api/health``, the floor
  a kept-alive request pays here (on this machine a second request on a connection waits ~40 ms
  for a delayed ACK; a fresh connection does not).

Goal: p50 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import http.client
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import nbformat

from bench.common import ROOT
from bench.leaderboard_endpoint import percentiles, timed
from scorer.challenge.load import load_spec
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import store
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.ledger.rewards import Grant, record_grant
from scorer.profiles.search import Query
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.service.conftest import PREFIX, running

MIXES = (
    ["import numpy as np", "import pandas as pd", "np.zeros(3)"],
    ["import numpy as np", "from sklearn.cluster import DBSCAN", "DBSCAN(eps=0.1).fit(np.zeros((3, 2)))"],
    ["import numpy as np", "import scipy", "scipy.optimize.minimize(f, 0)"],
    ["import numba", "@numba.njit\ndef f(x):\n    return x", "import numpy as np"],
    ["import torch", "torch.nn.Linear(3, 1)", "%time import pandas as pd"],
    ["from sklearn.ensemble import RandomForestClassifier", "import pandas as pd"],
    ["import numpy as np", "!pip list", "np.linalg.norm([1, 2])"],
    ["import hdbscan", "import numpy as np", "hdbscan.HDBSCAN().fit(x)"],
    ["import pandas as pd", "import matplotlib.pyplot as plt", "plt.plot([1])"],
    ["import numpy as np", "from scipy.optimize import curve_fit", "curve_fit(f, x, y)"],
    ["import dask.array as da", "da.zeros(3).sum().compute()"],
    ["import json", "from pathlib import Path", "Path('x').read_text()"],
)
START = datetime(2026, 6, 2, tzinfo=UTC)
SEARCH = ["clustering:2", "performance-optimisation", "rank:trackml"]


def notebooks() -> list[bytes]:
    return [
        nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in mix])).encode()
        for mix in MIXES
    ]


def fill(api: CoopAPI, submissions: int, people: int, grants: int) -> tuple[str, str, int]:
    """The ledger filled; the last challenge, its phase and a submission of it."""
    rng = random.Random(11)
    shapes = notebooks()
    favourite = [rng.randrange(len(shapes)) for _ in range(people)]  # people mostly keep one mix
    specs = [load_spec(ROOT / "challenge_notebooks" / name) for name in ("trackml", "higgs")]
    for number, challenge in enumerate(specs):
        metrics = [m.key for m in challenge.metrics]
        records = (
            record(rng, shapes, favourite, metrics, f"{number:08x}{i:032x}", i)
            for i in range(submissions // len(specs))
        )
        with api.sessions.begin() as session:
            store.upsert_challenge(session, challenge, "bench")
            ids = import_scored(session, challenge.id, challenge.phases[-1].id, records)
    with api.sessions.begin() as session:  # the last challenge's grants
        for n, sid in enumerate(rng.sample(ids, min(grants, len(ids)))):
            record_grant(session, grant(challenge.id, challenge.phases[-1].id, sid, n, api))
    return challenge.id, challenge.phases[-1].id, ids[0]


def record(
    rng: random.Random, shapes: list[bytes], favourite: list[int], metrics: list[str], sha: str, i: int
) -> ScoredRecord:
    person = rng.randrange(len(favourite))
    mix = favourite[person] if rng.random() < 0.8 else rng.randrange(len(shapes))
    values = {key: rng.uniform(0.3, 0.95) for key in metrics}
    return ScoredRecord(
        username=f"person{person}",
        commit_sha=sha,
        submitted_at=START + timedelta(seconds=i),
        public=values,
        private=values,
        run_time=rng.uniform(1, 60),
        peak_memory=rng.uniform(100, 2000),
        executed_notebook=shapes[mix],
    )


def grant(challenge_id: str, phase_id: str, submission_id: int, n: int, api: CoopAPI) -> Grant:
    person = api.submission(submission_id)[0].username
    return Grant(
        challenge_id,
        phase_id,
        person,
        "limited-hardware",
        0,
        f"bench:{n}",
        Decimal(5),
        "points",
        {"rule": "run time ≤ 10 s"},
        submission_id=submission_id,
    )


def main(
    submissions: int = 100_000, people: int = 5_000, queries: int = 40, grants: int = 2_000
) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    api = CoopAPI(ScorerSettings(home=str(home)))
    figures: dict[str, float] = {}
    query = Query({"clustering": 2, "performance-optimisation": 1, "rank:trackml": 1})
    try:
        began = time.perf_counter()
        challenge_id, phase_id, submission_id = fill(api, submissions, people, grants)
        figures["fill_s"] = time.perf_counter() - began
        began = time.perf_counter()
        first = api.search_people(query)
        figures["cold_s"] = time.perf_counter() - began
        assert first.total > 0 and first.rows[0].terms[0].evidence, first
        figures["matched"] = first.total
        with api.sessions.begin() as session:
            record_grant(session, grant(challenge_id, phase_id, submission_id, grants + 1, api))
        began = time.perf_counter()
        api.search_people(query)
        figures["rebuild_s"] = time.perf_counter() - began
        figures["in_process_p50_ms"], figures["in_process_p95_ms"] = percentiles(
            timed(lambda: api.search_people(query), queries)
        )
        with (
            running(create_app(api, StaticTokens({}), prefix=PREFIX)) as url,
            httpx.Client(base_url=url) as client,
        ):
            path = f"{PREFIX}api/people"
            params = [("skill", s) for s in SEARCH]

            def get() -> None:
                client.get(path, params=params).raise_for_status()

            def health() -> None:
                client.get(f"{PREFIX}api/health").raise_for_status()

            get()
            figures["http_p50_ms"], figures["http_p95_ms"] = percentiles(timed(get, queries))
            figures["http_floor_p50_ms"], _ = percentiles(timed(health, queries))
            address = urlsplit(url)
            target = f"{path}?{urlencode(params)}"

            def get_plain() -> None:  # a connection per request: no delayed ACK to wait for
                plain = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port)
                try:
                    plain.request("GET", target)
                    answer = plain.getresponse()
                    answer.read()
                    assert answer.status == 200, answer.status
                finally:
                    plain.close()

            get_plain()
            figures["plain_p50_ms"], figures["plain_p95_ms"] = percentiles(timed(get_plain, queries))
    finally:
        api.close()
    return figures


def summary(figures: dict[str, float]) -> str:
    return (
        f"p50 {figures['plain_p50_ms']:.1f} ms over HTTP, a connection per request (p95 "
        f"{figures['plain_p95_ms']:.1f}); kept alive (httpx) {figures['http_p50_ms']:.1f} ms, where "
        f"GET /api/health alone takes {figures['http_floor_p50_ms']:.1f} ms here; "
        f"{figures['in_process_p50_ms']:.1f} ms in-process; {figures['matched']:.0f} people matched; "
        f"first search {figures['cold_s']:.1f} s (every notebook's imports parsed once), "
        f"after a ledger change {figures['rebuild_s']:.1f} s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    args = parser.parse_args()
    print(summary(main(args.submissions, args.people)))
