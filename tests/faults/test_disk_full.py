"""The disk of ``COOP_HOME`` full under a real ``coop serve``: ``COOP_HOME`` is a tmpfs of its own
(a real ENOSPC, not a file-size limit), filled up while the service runs. A push then fails
with the reason in git's output, the ledger stays intact (SQLite's integrity check, what was
queued before still there), and once there is room again a push is queued once."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from scorer.facade import CoopAPI
from scorer.ports import hold
from tests.conftest import make_challenge, unavailable
from tests.service.test_git_http import Served, clone, commit, run_git
from tests.service.test_push_spool import TOKENS, coop_serve, submissions
from tests.service.test_push_to_score import QUEUED


@pytest.fixture
def small_home(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "challenge" / "home"  # where make_challenge puts the scorer's home
    home.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(home)], check=False)
    if mounted.returncode:
        unavailable("cannot mount a tmpfs for COOP_HOME (root is needed)")
    try:
        yield home
    finally:
        subprocess.run(["umount", "-l", str(home)], check=True)


def fill(folder: Path) -> Path:
    """Write zeros into ``folder`` until its disk is full."""
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * (1 << 20))
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_refuses_a_push_clearly_and_keeps_the_ledger(tmp_path: Path, small_home: Path) -> None:
    fixture = make_challenge(tmp_path / "challenge", edit={"phases.0.submissions": {}})
    assert Path(fixture.settings.home) == small_home
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(TOKENS)
    client_home = tmp_path / "client-home"
    client_home.mkdir()
    baseline = nbformat.writes(fixture.baseline)
    api = CoopAPI(fixture.settings, migrate=False)
    try:
        with (
            hold(1) as ports,
            coop_serve(small_home, ports.numbers[0], tokens, tmp_path / "serve.log"),
        ):
            served = Served(
                f"http://127.0.0.1:{ports.numbers[0]}",
                small_home / "git" / f"{fixture.challenge_id}.git",
                fixture.challenge_id,
                client_home,
            )
            work = clone(served, tmp_path / "alice", "alice", "alice-token")
            commit(work, served, "alice", {"solutions/alice/a.ipynb": baseline}, "first")
            out = run_git(work, "push", "origin", "HEAD:refs/heads/alice/a", home=client_home).stderr
            assert QUEUED.search(out), out
            filler = fill(small_home)
            second = commit(work, served, "alice", {"solutions/alice/b.ipynb": baseline + " " * 200_000}, "b")
            full = run_git(work, "push", "origin", "HEAD:refs/heads/alice/b", home=client_home, check=False)
            assert full.returncode != 0 and "No space left on device" in full.stderr, full.stderr
            ledger = sqlite3.connect(small_home / "coop.db")
            try:
                assert ledger.execute("PRAGMA integrity_check").fetchone() == ("ok",)
                assert ledger.execute("SELECT count(*) FROM submissions").fetchone() == (1,)
            finally:
                ledger.close()
            filler.unlink()
            out = run_git(work, "push", "origin", "HEAD:refs/heads/alice/b", home=client_home).stderr
            assert QUEUED.search(out), out
            assert len(submissions(api, fixture.challenge_id, second)) == 1
    finally:
        api.close()
