"""Push-to-score through the spool, with a real ``coop serve`` and real pushes: the hooks hand the
push over on loopback, and a push whose service is killed (``kill -9``) after the post-receive
hook spooled it, before it was recorded, is queued exactly once when the service is back; one
whose post-receive never ran is taken from the policy's intent.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import nbformat

from scorer.facade import CoopAPI
from scorer.ingest import spool
from scorer.ingest.spool import spool_dir
from scorer.ledger import queries
from tests.conftest import make_challenge
from tests.service.test_git_http import Served, clone, commit, run_git
from tests.service.test_push_to_score import QUEUED

TOKENS = "tokens:\n  alice-token: {name: alice, organiser: false}\n"
WAIT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check: object, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


#: A scheduler address nothing listens on: queued submissions stay queued.
NO_SCHEDULER = {"COOP_SCHEDULER": "tcp://127.0.0.1:9", "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}


@contextmanager
def coop_serve(
    home: Path, port: int, tokens: Path, log: Path, env: Mapping[str, str] = NO_SCHEDULER
) -> Iterator[subprocess.Popen]:
    """``coop serve`` in its own process on ``home``'s ledger unless ``env`` names another
    (``COOP_DB_URL``), with ``env`` (``COOP_SCHEDULER``...; by default no scheduler)."""
    environment = {**os.environ, "COOP_HOME": str(home)}
    environment.pop("COOP_DB_URL", None)
    environment.update(env)
    command = [sys.executable, "-c", "from scorer.cli import main; main()", "serve", "--port", str(port)]
    with log.open("a") as out:
        service = subprocess.Popen(
            [*command, "--tokens-file", str(tokens)], env=environment, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for("coop serve", lambda: answers(base + "/api/health") or service.poll() is not None)
        assert service.poll() is None, log.read_text()
        yield service
    finally:
        if service.poll() is None:
            service.terminate()
            service.wait(30)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_a_push_spooled_when_the_service_dies_is_queued_once_when_it_is_back(tmp_path: Path) -> None:
    fixture = make_challenge(tmp_path / "challenge", edit={"phases.0.submissions": {}})
    home = Path(fixture.settings.home)
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(TOKENS)
    port, log = free_port(), tmp_path / "serve.log"
    client_home = tmp_path / "client-home"
    client_home.mkdir()
    served = Served(
        f"http://127.0.0.1:{port}",
        home / "git" / f"{fixture.challenge_id}.git",
        fixture.challenge_id,
        client_home,
    )
    baseline = nbformat.writes(fixture.baseline)
    api = CoopAPI(fixture.settings, migrate=False)
    try:
        with coop_serve(home, port, tokens, log) as service:
            work = clone(served, tmp_path / "alice", "alice", "alice-token")
            # the hooks do not import the platform: a push is checked and queued by the service
            commit(work, served, "alice", {"solutions/alice/a.ipynb": baseline}, "first")
            out = run_git(work, "push", "origin", "HEAD:refs/heads/alice/a", home=client_home).stderr
            assert QUEUED.search(out), out
            assert not any(spool_dir(home).glob("*.json"))
            refused = run_git(
                work, "push", "origin", "HEAD:refs/heads/bob/a", home=client_home, check=False
            ).stderr
            assert "remote: push refused" in refused, refused

            second = commit(work, served, "alice", {"solutions/alice/b.ipynb": baseline}, "second")
            ledger = sqlite3.connect(home / "coop.db", timeout=30, isolation_level=None)
            ledger.execute("BEGIN IMMEDIATE")  # the record waits on the ledger
            pushing = subprocess.Popen(
                ["git", "push", "origin", "HEAD:refs/heads/alice/b"],
                cwd=work,
                env={"PATH": os.environ["PATH"], "HOME": str(client_home), "GIT_TERMINAL_PROMPT": "0"},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            wait_for("the spooled push", lambda: any(spool_dir(home).glob("*.json")))
            service.kill()  # between the spool write and the record
            service.wait(30)
            ledger.execute("ROLLBACK")
            ledger.close()
            told = pushing.communicate(timeout=60)[0]
        git_dir = ("--git-dir", str(served.repo))
        assert (
            run_git(tmp_path, *git_dir, "rev-parse", "refs/heads/alice/b", home=client_home).stdout.strip()
            == second
        ), told
        [entry] = spool_dir(home).glob("*.json")
        spooled = entry.read_bytes()
        assert submissions(api, fixture.challenge_id, second) == []
        with coop_serve(home, port, tokens, log):
            wait_for("the spool to drain", lambda: not entry.exists())
            [view] = submissions(api, fixture.challenge_id, second)
            assert (view.username, view.status, view.notebook_path) == (
                "alice",
                "queued",
                "solutions/alice/b.ipynb",
            )
            entry.write_bytes(spooled)  # processed again: nothing twice
            wait_for("the spool to drain again", lambda: not entry.exists())
            assert [v.id for v in submissions(api, fixture.challenge_id, second)] == [view.id]
            # killed after the refs moved, before post-receive ran: the policy's intent remains
            hook = served.repo / "hooks" / "post-receive"
            installed = hook.read_text()
            hook.write_text("#!/bin/sh\nexit 0\n")
            third = commit(work, served, "alice", {"solutions/alice/c.ipynb": baseline}, "third")
            run_git(work, "push", "origin", "HEAD:refs/heads/alice/c", home=client_home)
            hook.write_text(installed)
            [intent] = (spool_dir(home) / "intents").glob("*.json")
            assert submissions(api, fixture.challenge_id, third) == []
            assert spool.drain(api, older_than=0, intent_age=0) == 1 and not intent.exists()
            [view] = submissions(api, fixture.challenge_id, third)
            assert (view.username, view.status) == ("alice", "queued")
            assert not any((spool_dir(home) / "intents").glob("*.json"))  # the others were cleared
    finally:
        api.close()


def submissions(api: CoopAPI, challenge_id: str, sha: str) -> list[queries.SubmissionView]:
    with api.sessions() as session:
        return queries.submissions(session, challenge_id=challenge_id, commit=sha)
