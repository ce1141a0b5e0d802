"""Push-to-queued: `git push` through the service until it prints `submission N queued` (ratio).

Two measures, medians over ``--repeats`` rounds in one session, the same kind of commit each
time (a sibling of the organiser's branch that changes the pusher's solution notebook):
- served: `git push` over smart HTTP to the service (uvicorn on loopback binding its own socket,
  as `coop serve` does, static tokens); it returns once the hooks have had the service check the
  push (pre-receive) and record the commit and queue the notebook (post-receive, through the
  spool), and its output names the queued submission;
- bare: `git push` of the same commit to a bare copy of the repository on disk (a file path
  remote, no hooks): what git itself costs;
- transport: the same push over smart HTTP through the service to a copy of the served
  repository without hooks: what git's HTTP transport and `git http-backend` add.
Rounds alternate which one goes first, so that a slow moment hits both alike.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import uvicorn
from fastapi import FastAPI

from bench.common import make_challenge
from scorer.ingest.served import serve_repository
from scorer.service.app import create_app
from scorer.service.auth import SUBMIT, Identity, StaticTokens
from tests.service.conftest import PREFIX

QUEUED = re.compile(r"remote: submission (\d+) queued")
USER = "alice"
TOKENS = StaticTokens({"alice-token": Identity(USER, frozenset({SUBMIT}))})


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on a loopback port it binds itself, as ``coop serve`` does: its
    connections get TCP_NODELAY (the tests' ``running`` hands uvicorn a socket made without
    ``IPPROTO_TCP``, so asyncio leaves Nagle on and each streamed response waits ~40 ms)."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive(), "uvicorn did not start"
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def git(cwd: Path, *args: str, home: Path) -> str:
    """Run git as the participant (no system or user config); its stderr, where pushes report."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": USER,
        "GIT_AUTHOR_EMAIL": f"{USER}@example.org",
        "GIT_COMMITTER_NAME": USER,
        "GIT_COMMITTER_EMAIL": f"{USER}@example.org",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip() or done.stderr


def commits(work: Path, baseline: nbformat.NotebookNode, count: int, home: Path) -> list[str]:
    """``count`` sibling commits on ``origin/main``, each changing the participant's notebook."""
    shas = []
    for n in range(count):
        git(work, "checkout", "-q", "--detach", "origin/main", home=home)
        notebook = copy.deepcopy(baseline)
        notebook.cells[3].source += f"\n# try {n}"
        path = work / "solutions" / USER / "fit.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, path)
        git(work, "add", "--all", home=home)
        git(work, "commit", "-q", "-m", f"try {n}", home=home)
        shas.append(git(work, "rev-parse", "HEAD", home=home))
    return shas


def timed_push(work: Path, remote: str, sha: str, branch: str, home: Path) -> tuple[float, str]:
    begin = time.perf_counter()
    out = git(work, "push", remote, f"{sha}:refs/heads/{USER}/{branch}", home=home)
    return time.perf_counter() - begin, out


def main(repeats: int = 10) -> dict[str, float]:
    scratch = Path(tempfile.mkdtemp(prefix="coop-bench-"))
    fixture = make_challenge(scratch, name="Bench", edit={"phases.0.submissions": {}})  # no limits
    served = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    bare = scratch / "plain.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(fixture.bare), str(bare)], check=True)
    unhooked = served.with_name("unhooked.git")  # served too, but not a challenge: no hooks
    shutil.copytree(served, unhooked)
    subprocess.run(["git", "--git-dir", str(unhooked), "config", "--unset", "core.hooksPath"], check=True)
    shutil.rmtree(unhooked / "hooks")
    home = scratch / "client-home"
    home.mkdir()
    api = fixture.api()
    try:
        with serving(create_app(api, TOKENS, prefix=PREFIX)) as base:
            url = f"{base}{PREFIX}git/{fixture.challenge_id}.git".replace(
                "http://", f"http://{USER}:alice-token@"
            )
            work = scratch / "work"
            git(scratch, "clone", "-q", url, str(work), home=home)
            shas = commits(work, fixture.baseline, repeats + 1, home)
            timed_push(work, url, shas[0], "warm-up", home)  # registers the served path once
            remotes = {"served": url, "transport": url.replace(served.name, unhooked.name), "bare": str(bare)}
            times: dict[str, list[float]] = {name: [] for name in remotes}
            for n, sha in enumerate(shas[1:]):
                order = list(remotes.items())
                for name, remote in order if n % 2 == 0 else order[::-1]:
                    seconds, out = timed_push(work, remote, sha, f"try-{n}", home)
                    assert name != "served" or QUEUED.search(out), out
                    times[name].append(seconds)
    finally:
        api.close()
    medians = {f"{name}_s": statistics.median(values) for name, values in times.items()}
    return {**medians, "ratio": medians["served_s"] / medians["bare_s"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    result = main(parser.parse_args().repeats)
    print(
        f"push to queued {result['served_s'] * 1000:.0f} ms vs plain push to a bare repository "
        f"{result['bare_s'] * 1000:.0f} ms (medians): {result['ratio']:.1f}×; the same push over "
        f"HTTP without hooks {result['transport_s'] * 1000:.0f} ms"
    )
