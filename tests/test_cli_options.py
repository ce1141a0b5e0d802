"""The command line's global options, end to end: ``--db-url`` names the ledger and
``--scheduler`` the Dask cluster a run goes to (a real `dask scheduler` with two workers), and
``coop leaderboard`` takes ``--phase`` and ``--board``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from tests.test_cli import coop
from tests.test_dispatch import _queue, scheduler  # noqa: F401  (the fixture)

pytestmark = pytest.mark.needs("bwrap")


def test_the_ledger_and_the_scheduler_come_from_the_global_options(challenge, scheduler, tmp_path):  # noqa: F811
    [queued] = _queue(challenge, ["frank"])
    home = Path(challenge.settings.home)
    elsewhere = tmp_path / "elsewhere.db"
    shutil.copy(home / "coop.db", elsewhere)  # the same ledger, in another file
    url = f"sqlite:///{elsewhere}"
    done = coop("--home", str(home), "--db-url", url, "--scheduler", scheduler, "recover")
    assert done.returncode == 0 and "recovered 1 submission(s)" in done.stdout, done.stderr
    default, named = CoopAPI(challenge.settings), CoopAPI(ScorerSettings(home=str(home), db_url=url))
    try:
        assert default.submission(queued)[0].status == "queued"  # the default ledger is untouched
        row = named.submission(queued)[0]
        assert row.status == "scored" and "tcp://127.0.0.1:" in (row.worker or ""), row  # a dask worker
    finally:
        default.close()
        named.close()

    options = [
        "--home",
        str(home),
        "--db-url",
        url,
        "leaderboard",
        challenge.challenge_id,
        "--phase",
        "phase-1",
    ]
    board = coop(*options, "--board", "main", "--json")
    assert board.returncode == 0, board.stderr
    shown = json.loads(board.stdout)
    assert (shown["phase"], shown["leaderboard"]) == ("phase-1", "main")
    assert [row["person"] for row in shown["rows"]] == ["frank"]
    wrong = coop(*options, "--board", "nope")
    assert wrong.returncode == 1 and "nope" in wrong.stderr, wrong.stderr
