"""Hub load (like hubtraf): N simulated people log in, start servers, commit and push at once.

``python -m bench.hub_load --users 10 30`` starts ``coop up``'s hub (the shipped
``hub_config/jupyterhub_config.py``: proxy, scorer service, dashboards, real JupyterLab servers,
SQLite) on free loopback ports in a fresh temporary ``COOP_HOME``, publishes one small challenge
(``coop challenge new``'s template) and allows the simulated accounts ``load-000``, ``load-001``…
through ``COOP_DEMO_USERS``. Then, round by round, with fresh accounts each time:

1. one person alone as a warm-up (the hub's first spawn and the scorer's first Dask task pay
   cold starts; recorded, left out of the tables), then ``--alone`` people (3) one after
   another, each alone on the hub: the baseline every ratio is taken against;
2. for each N given: N people at once (:mod:`bench.hub_load_person`), each logging in, starting
   a server, waiting for its clone, Easy start, saving an edit, committing and pushing in a
   terminal of their server, and following the submission until it is scored.

Their servers are stopped after each round. The report (:mod:`bench.hub_load_report`) gives
p50/p90/max per phase, the p50 ratio to the lone person, and every failure with its reason; the
raw samples go to a JSON file. Ctrl-C or SIGTERM stops the hub, its servers, the scorer and the
proxy (and removes the temporary home unless ``--keep``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import signal
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from rich.console import Console

from bench.hub_load_hub import EmbeddedHub, HubError, publish_challenge
from bench.hub_load_person import Person
from bench.hub_load_report import (
    BASELINE,
    LOAD,
    WARM_UP,
    PersonResult,
    Round,
    failures_table,
    raw,
    round_table,
)

ROOT = Path(__file__).resolve().parents[1]
console = Console()


async def run_rounds(
    hub: EmbeddedHub, challenge_id: str, counts: list[int], alone: int, rounds: list[Round]
) -> None:
    """A warm-up person, then ``alone`` people one after another (the baseline), then each count
    of people at once; each finished round is appended to ``rounds`` (an interrupted run reports
    what it finished)."""
    names = iter(hub.users)
    peak = 0
    plan = [(WARM_UP, 1, 1), (BASELINE, 1, alone), *((LOAD, count, count) for count in counts)]

    async def remember() -> None:
        nonlocal peak
        while True:
            hub.remember_processes()
            peak = max(peak, hub.memory())
            await asyncio.sleep(2.0)

    keeper = asyncio.create_task(remember())
    try:
        for kind, at_once, total in plan:
            people = [Person(hub.url, next(names), hub.password, challenge_id) for _ in range(total)]
            console.rule(f"{kind}: {total} {'at once' if at_once > 1 else 'alone'}")
            groups = [people[start : start + at_once] for start in range(0, total, at_once)]
            results: list[PersonResult] = []
            wall, peak = 0.0, 0
            for group in groups:
                begin = time.monotonic()
                results += await asyncio.gather(*(log_result(person) for person in group))
                wall += time.monotonic() - begin
                if group is not groups[-1]:  # the next group has the hub to itself
                    await asyncio.gather(*(person.stop() for person in group))
            rounds.append(Round(kind, at_once, results, wall, os.getloadavg()[0], peak / 2**20))
            await asyncio.gather(*(person.stop() for person in groups[-1]))
    finally:
        keeper.cancel()


async def log_result(person: Person) -> PersonResult:
    result = await person.run()
    if result.failure:
        console.print(
            f"{result.name}: failed at {result.failure.phase}: {result.failure.reason}", markup=False
        )
    else:
        console.print(
            f"{result.name}: scored {result.times['push→scored']:.1f} s after the push", markup=False
        )
    return result


def report(rounds: list[Round], path: Path, context: dict[str, object]) -> None:
    baseline = next((measured for measured in rounds if measured.kind == BASELINE), None)
    for measured in rounds:
        if measured.kind != WARM_UP:
            console.print(round_table(measured, None if measured is baseline else baseline))
    failures = failures_table(rounds)
    console.print(failures if failures is not None else "no failures")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw(rounds, context), indent=1, ensure_ascii=False))
    console.print(f"raw samples: {path}", highlight=False)


def positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 200:
        raise argparse.ArgumentTypeError(f"{value} people: use 1 to 200")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=positive, nargs="+", default=[10], help="people at once, per round")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    parser.add_argument(
        "--json", type=Path, default=ROOT / ".coop" / "bench" / f"hub_load-{stamp}.json", help="raw samples"
    )
    parser.add_argument(
        "--alone", type=positive, default=3, help="people alone, one after another, for the baseline"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary COOP_HOME (logs, homes)")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="coop-hub-load-"))
    names = [f"load-{n:03d}" for n in range(1 + args.alone + sum(args.users))]
    hub = EmbeddedHub(home, names, secrets.token_urlsafe(12))
    context = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "loads": args.users,
        "alone": args.alone,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "python": platform.python_version(),
        "jupyterhub": version("jupyterhub"),
        "jupyter_server": version("jupyter_server"),
    }
    rounds: list[Round] = []
    code = 0
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C: clean up
    try:
        console.print(f"COOP_HOME {home}", highlight=False)
        challenge_id = publish_challenge(home)
        console.print(f"starting the hub at {hub.url}/ …", highlight=False)
        hub.start()
        asyncio.run(run_rounds(hub, challenge_id, args.users, args.alone, rounds))
    except KeyboardInterrupt:
        console.print("interrupted")
        code = 130
    except HubError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
        code = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # cleaning up is not to be interrupted
            signal.signal(sig, signal.SIG_IGN)
        console.print("stopping the hub, its servers, the scorer and the proxy …")
        hub.stop()
        if args.keep:
            console.print(f"kept {home}", highlight=False)
        else:
            shutil.rmtree(home, ignore_errors=True)
    if rounds:
        report(rounds, args.json, context)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
