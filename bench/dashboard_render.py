"""The dashboards' first meaningful render in Chromium, with Voila as the hub runs it: preheated
kernels vs a cold kernel, and 20 viewers at once; goals: the leaderboard page ≤ 1 s p50
preheated, the contribution graph page ≤ 2 s.

Voila is started with the dashboards service's command and environment read from
``hub_config/jupyterhub_config.py`` (:mod:`tests.e2e.dashboards.served`: preheated kernels, one
per page and ``COOP_DASHBOARDS_BOARD_POOL`` for the leaderboards, the ``coop`` template through
``JUPYTER_PATH``, which sets the ``_xsrf`` cookie a leaving page's kernel shutdown needs, the base
URL ``/services/dashboards/``), ``COOP_SERVICE_URL`` pointing at a ledger served by ``coop
serve``'s app under uvicorn on loopback; the cold Voila is the same command without the
preheating options. Debian's ``/usr/bin/chromium`` (headless,
Playwright) opens each page in a new browser context (a first visit: nothing cached), and the
page itself records when the first leaderboard row (or the graph's first drawn mark) has a box on
screen, in ``performance.now()`` from its navigation's start: the **first meaningful render**,
whatever draws it (the pages' first render, HTML in the served page that the browser draws
before Voila's front end starts, :mod:`coop_widgets.dashboards.first_render`: the board's first
rows, the graph's overview as a static SVG; or the live widget), and separately the **live**
board's first row (the widget one can sort, filter and page) or the live graph's first mark
(plotly.js's, which one can click and zoom).

- **challenge page**: ``challenge.ipynb?id=trackml&phase=…&board=throughput`` on
  :mod:`bench.leaderboard_query`'s ledger (100k submissions, 5k people), ``--runs`` viewers one
  after another on the preheated Voila, then on the cold one; between two viewers the previous one
  leaves (its kernel shut down as Voila does on ``beforeunload``) and, preheated, every page's
  kernel is back waiting for a request (its websocket to Voila's ``voila/query`` open);
- **20 viewers at once** on the preheated Voila: each one's time to its first row and to the
  live board's (p50, p95),
  failures (no row within the timeout, or an error page), the RSS of Voila's kernel processes
  (psutil) once every row is shown, per viewer, and of Voila's server process;
- **contribution graph page**: ``graph.ipynb?id=trackml&phase=…`` on :mod:`bench.graph_endpoint`'s
  phase (100k commits in git, 70k scored versions, 500 people) in its own ledger and Voila,
  preheated and cold, after the service computed the phase's ladder once (as after its first
  viewer).

``--pages graph`` (or ``board``, ``crowd``, comma-separated) measures only those.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PageTimeout

from bench import graph_endpoint, leaderboard_query
from bench.leaderboard_endpoint import percentiles
from coop_client.client import CoopClient
from coop_widgets.dashboards import challenge
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.dashboards.conftest import TRACEBACKS
from tests.e2e.dashboards.served import Voila, dashboards_service, voila
from tests.hub.conftest import hold_hub_ports, hub_environment
from tests.service.conftest import PREFIX, running

GOALS_S = {"board": 1.0, "graph": 2.0}
PAGES = ("board", "crowd", "graph")
#: What each page shows first that matters: a leaderboard row (its first render's, drawn from the
#: served HTML before Voila's front end starts, or the live board's), a mark of the graph.
ROW = ".coop-board tbody tr"
FIRST_ROW = f".coop-first-render .coop-first-row, {ROW}"
MARK = ".js-plotly-plot .scatterlayer .trace path.point"
#: Per page, what is timed: ``first`` the first meaningful render (whatever draws it), ``live``
#: the live widgets' (the board the viewer can sort, filter and page; the graph one can click).
#: The graph page's first render draws the whole-phase overview as a static SVG (its marks).
FIRST_MARK = f".coop-first-render .coop-first-marks > *, {MARK}"
WATCHED = {"board": {"first": FIRST_ROW, "live": ROW}, "graph": {"first": FIRST_MARK, "live": MARK}}
#: What the live widgets are, per page.
LIVE = {"board": "the board one can sort and page", "graph": "the plotly.js graph one can click and zoom"}
#: Seconds: a viewer's page (20 kernels start at once on a small machine).
PAGE_TIMEOUT_S = 300.0

#: Run in every document before its own scripts: for each name of SELECTORS, the time (from the
#: navigation's start) when an element matching its selector first has a box and is not hidden;
#: or when an error page shows.
WATCH = """
(() => {
  const selectors = SELECTORS;
  window.coopTimes = {};
  const look = () => {
    if (window.coopFailed !== undefined) return true;
    if (document.querySelector('.coop-problem')) {
      window.coopFailed = performance.now();
      return true;
    }
    for (const [name, selector] of Object.entries(selectors)) {
      if (window.coopTimes[name] !== undefined) continue;
      for (const element of document.querySelectorAll(selector)) {
        if (element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden') {
          window.coopTimes[name] = performance.now();
          break;
        }
      }
    }
    return Object.keys(selectors).every((name) => window.coopTimes[name] !== undefined);
  };
  const observer = new MutationObserver(() => look() && observer.disconnect());
  observer.observe(document, {childList: true, subtree: true, attributes: true});
  const frame = () => look() || requestAnimationFrame(frame);
  requestAnimationFrame(frame);
})();
"""
#: True once a page has shown everything watched, or its error page.
DONE = "() => window.coopFailed !== undefined || Object.keys(window.coopTimes ?? {}).length === NAMES"

#: A viewer's seconds to each watched name, or ``None`` for a failure.
Times = dict[str, float] | None


@dataclass
class Viewers:
    """``count`` anonymous viewers, each in a new browser context, all navigating at once."""

    pages: list[Page]

    watched: dict[str, str]

    @classmethod
    def open(cls, browser: Browser, count: int, watched: dict[str, str]) -> Viewers:
        pages = []
        for _ in range(count):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(WATCH.replace("SELECTORS", json.dumps(watched)))
            pages.append(context.new_page())
        return cls(pages, watched)

    def visit(self, url: str) -> list[Times]:
        """Seconds from each page's navigation until each watched element; ``None`` for a failure
        (an error page, a traceback, not everything within :data:`PAGE_TIMEOUT_S`)."""
        for page in self.pages:  # started without waiting for any answer: all at once
            page.evaluate("url => { window.location.href = url; }", url)
        times: list[Times] = []
        deadline = time.monotonic() + PAGE_TIMEOUT_S
        done = DONE.replace("NAMES", str(len(self.watched)))
        for page in self.pages:
            left = max(1.0, deadline - time.monotonic()) * 1000
            try:
                page.wait_for_url(lambda u: u.startswith("http"), wait_until="commit", timeout=left)
                page.wait_for_function(done, timeout=left)
            except PageTimeout:
                times.append(None)
                continue
            shown = page.evaluate("() => window.coopFailed === undefined ? window.coopTimes : null")
            text = page.locator("body").inner_text()
            broken = shown is None or any(sign in text for sign in TRACEBACKS)
            times.append(None if broken else {name: shown[name] / 1000 for name in self.watched})
        return times

    def leave(self) -> None:
        """Each viewer leaves (``beforeunload``: Voila shuts their kernel down), then closes."""
        for page in self.pages:
            page.goto("about:blank")
            page.context.close()


def first_renders(
    browser: Browser, server: Voila, url: str, watched: dict[str, str], runs: int
) -> list[dict[str, float]]:
    """``runs`` viewers one after another (after one not counted: Voila's templates, the OS's
    caches), Voila idle again before each."""
    times = []
    for run in range(runs + 1):
        viewers = Viewers.open(browser, 1, watched)
        [shown] = viewers.visit(url)
        viewers.leave()
        if shown is None:
            raise RuntimeError(f"{url}: not all of {watched} shown; see {server.log}")
        if run:
            times.append(shown)
        server.wait_idle()
    return times


#: Starts a Voila (preheated or not) for a ``with`` block.
Starter = Callable[[bool], contextlib.AbstractContextManager[Voila]]
#: A :data:`Starter` reading the service at the given URL.
Serving = Callable[[str], Starter]


def compare(
    browser: Browser, start: Starter, page: str, params: dict[str, str], runs: int, name: str
) -> dict[str, float]:
    """Preheated vs cold: p50 and slowest of the first meaningful render and of the live widgets'
    (:data:`WATCHED`), and the ratio cold / preheated of each."""
    figures = {}
    for preheated, state in ((True, "preheated"), (False, "cold")):
        with start(preheated) as server:
            times = first_renders(browser, server, server.url(page, **params), WATCHED[name], runs)
        for kind, suffix in (("first", ""), ("live", "_live")):
            figures[f"{name}_{state}{suffix}_p50_s"] = statistics.median(t[kind] for t in times)
            figures[f"{name}_{state}{suffix}_max_s"] = max(t[kind] for t in times)
    for suffix in ("", "_live"):
        cold, preheated = figures[f"{name}_cold{suffix}_p50_s"], figures[f"{name}_preheated{suffix}_p50_s"]
        figures[f"{name}{suffix}_ratio"] = cold / preheated
    return figures


def crowd(browser: Browser, server: Voila, url: str, count: int) -> dict[str, float]:
    """``count`` viewers of ``url`` at once: time to the first row and to the live board's,
    failures, memory."""
    kernels_idle, server_idle = server.memory()
    viewers = Viewers.open(browser, count, WATCHED["board"])
    try:
        times = viewers.visit(url)
        kernels_busy, server_busy = server.memory()
    finally:
        viewers.leave()
    figures: dict[str, float] = {}
    for kind, suffix in (("first", ""), ("live", "_live")):
        shown = [t[kind] for t in times if t is not None] or [math.nan]
        p50, p95 = percentiles(shown if len(shown) > 1 else shown * 2)
        figures |= {
            f"crowd{suffix}_p50_s": p50 / 1000,
            f"crowd{suffix}_p95_s": p95 / 1000,
            f"crowd{suffix}_max_s": max(shown),
        }
    return figures | {
        "crowd_failures": sum(t is None for t in times),
        "kernels_idle_mib": kernels_idle,
        "kernels_crowd_mib": kernels_busy,
        "per_viewer_mib": kernels_busy / count,
        "per_viewer_added_mib": (kernels_busy - kernels_idle) / count,
        "voila_idle_mib": server_idle,
        "voila_crowd_mib": server_busy,
    }


def board_pages(
    browser: Browser,
    start: Serving,
    home: Path,
    size: tuple[int, int],
    runs: int,
    viewers: int,
    pages: set[str],
) -> dict[str, float]:
    """The challenge page, one viewer after another and ``viewers`` at once (as ``pages`` asks),
    on a ledger of ``size`` (submissions, people) in ``home``."""
    figures: dict[str, float] = {}
    api = CoopAPI(ScorerSettings(home=str(home / "board")))
    try:
        phase_id = leaderboard_query.fill(api, *size)
        with running(create_app(api, StaticTokens({}), prefix=PREFIX)) as base:
            with CoopClient(base + PREFIX, timeout=600) as client:  # the board ranked once, kept
                challenge.read(client, "trackml", phase_id, None, datetime.now(UTC))
            params = {"id": "trackml", "phase": phase_id, "board": "throughput"}
            served = start(base + PREFIX)
            if "board" in pages:
                figures |= compare(browser, served, "challenge", params, runs, "board")
                print(f"so far: {figures}", file=sys.stderr)  # a long run: what it measured
            if "crowd" in pages:
                with served(True) as server:
                    figures |= crowd(browser, server, server.url("challenge", **params), viewers)
    finally:
        api.close()
    return figures


def graph_page(
    browser: Browser, start: Serving, home: Path, size: tuple[int, int, int], runs: int
) -> dict[str, float]:
    """The contribution graph page on a phase of ``size`` (commits, merges, people) in ``home``."""
    commits, merges, people = size
    made = graph_endpoint.single_authors(commits, merges, people)
    shas = graph_endpoint.repository(home / "challenge.git", made)
    api = CoopAPI(ScorerSettings(home=str(home / "graph")))
    try:
        phase_id = graph_endpoint.fill(api, home / "challenge.git", made, shas)
        with running(create_app(api, StaticTokens({}), prefix=PREFIX)) as base:
            with CoopClient(base + PREFIX, timeout=3600) as client:  # the ladder computed once, kept
                client.credit("trackml", phase_id)
                overview = client.graph_overview("trackml", phase_id)
            params = {"id": "trackml", "phase": phase_id}
            figures = compare(browser, start(base + PREFIX), "graph", params, runs, "graph")
    finally:
        api.close()
    return {"graph_nodes": overview.phase_total, **figures}


def main(
    submissions: int = 100_000,
    people: int = 5_000,
    commits: int = 100_000,
    merges: int = 2_000,
    graph_people: int = 500,
    runs: int = 5,
    viewers: int = 20,
    pages: tuple[str, ...] = PAGES,
) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    figures: dict[str, float] = {}
    with hold_hub_ports() as ports, sync_playwright() as playwright:
        environ = hub_environment(home / "hub", "not-used", ports)
        service = dashboards_service(environ)
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)

        def starter(service_url: str) -> Starter:
            def start(preheated: bool) -> contextlib.AbstractContextManager[Voila]:
                log = home / f"voila-{'preheated' if preheated else 'cold'}.log"
                return voila(service, environ, service_url, preheated=preheated, log=log)

            return start

        if {"board", "crowd"} & set(pages):
            size = (submissions, people)
            figures |= board_pages(browser, starter, home, size, runs, viewers, set(pages))
        if "graph" in pages:
            figures |= graph_page(browser, starter, home, (commits, merges, graph_people), runs)
        browser.close()
    shutil.rmtree(home)  # kept after a failure: Voila's logs
    return figures


def summary(figures: dict[str, float], viewers: int) -> str:
    """The figures measured, in a few lines."""
    lines = []
    for name, page in (
        ("board", "challenge page (first leaderboard row)"),
        ("graph", "graph page (first mark)"),
    ):
        if f"{name}_ratio" not in figures:
            continue
        preheated, cold = figures[f"{name}_preheated_p50_s"], figures[f"{name}_cold_p50_s"]
        lines.append(
            f"{page}: preheated {preheated:.2f} s p50 (slowest {figures[f'{name}_preheated_max_s']:.2f}; "
            f"{preheated / GOALS_S[name]:.2f} of the {GOALS_S[name]:g} s goal), cold kernel {cold:.2f} s p50 "
            f"(slowest {figures[f'{name}_cold_max_s']:.2f}): cold / preheated {figures[f'{name}_ratio']:.1f}×"
        )
        if WATCHED[name]["live"] != WATCHED[name]["first"]:
            live, live_cold = figures[f"{name}_preheated_live_p50_s"], figures[f"{name}_cold_live_p50_s"]
            lines.append(
                f"  live widgets ({LIVE[name]}): preheated {live:.2f} s p50 (slowest "
                f"{figures[f'{name}_preheated_live_max_s']:.2f}), cold kernel {live_cold:.2f} s p50: "
                f"cold / preheated {figures[f'{name}_live_ratio']:.1f}×"
            )
    if "crowd_p50_s" not in figures:
        return "\n".join(lines)
    lines.append(
        f"{viewers} viewers at once: first row p50 {figures['crowd_p50_s']:.1f} s, "
        f"p95 {figures['crowd_p95_s']:.1f} s, slowest {figures['crowd_max_s']:.1f} s; live board p50 "
        f"{figures['crowd_live_p50_s']:.1f} s, p95 {figures['crowd_live_p95_s']:.1f} s; "
        f"{figures['crowd_failures']:.0f} failed"
    )
    lines.append(
        f"memory (RSS): kernels {figures['kernels_crowd_mib']:.0f} MiB with {viewers} viewers "
        f"({figures['per_viewer_mib']:.0f} MiB per viewer; {figures['per_viewer_added_mib']:.0f} MiB each "
        f"above the idle pool's {figures['kernels_idle_mib']:.0f} MiB); Voila's server "
        f"{figures['voila_crowd_mib']:.0f} MiB (idle {figures['voila_idle_mib']:.0f})"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--merges", type=int, default=2_000)
    parser.add_argument("--graph-people", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5, help="viewers one after another, per page and Voila")
    parser.add_argument("--viewers", type=int, default=20, help="viewers at once")
    parser.add_argument("--pages", default=",".join(PAGES), help=f"what to measure, of {', '.join(PAGES)}")
    args = parser.parse_args()
    chosen = tuple(name.strip() for name in args.pages.split(",") if name.strip())
    loaded = os.getloadavg()  # the machine is shared: figures are read with its load
    if unknown := set(chosen) - set(PAGES):
        parser.error(f"--pages: {', '.join(sorted(unknown))}: not one of {', '.join(PAGES)}")
    result = main(
        args.submissions,
        args.people,
        args.commits,
        args.merges,
        args.graph_people,
        args.runs,
        args.viewers,
        chosen,
    )
    graph = ""
    if "graph_nodes" in result:
        graph = f"; graph: {result['graph_nodes']:.0f} scored versions ({args.commits} commits, "
        graph += f"{args.graph_people} people)"
    print(f"{args.submissions} submissions / {args.people} people{graph}")
    print(summary(result, args.viewers))
    start, end = (", ".join(f"{n:.1f}" for n in load) for load in (loaded, os.getloadavg()))
    print(f"load average (1, 5, 15 min) at the start: {start}; at the end: {end}")
