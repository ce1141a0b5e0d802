"""The bad-input corpus (tests/notebooks/): every hostile or broken notebook ends in the right
failure class with a reason that says what happened, and leaves the host fine.

All cases share one challenge (module-scoped, small limits) and run one after the other; after
each test no process of the sandbox's uid may remain, and the last test scores a good notebook
in the same challenge. A hostile run costs 3-10 s.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell

import scorer.scoring.sandbox.choose
from scorer.ledger import queries
from scorer.scoring.safe_read import printable
from scorer.scoring.sandbox.bwrap import SANDBOX_UID_RANGE
from tests.conftest import ChallengeFixture, Scored, make_challenge
from tests.notebooks import corpus

pytestmark = pytest.mark.needs("bwrap")

#: Small limits keep the hostile runs short: a cell may run 20 s (room for a loaded machine:
#: a memory bomb must reach the memory limit before the cell limit), the run may write 50 MB.
LIMITS = {
    "wall_time": 90,
    "cell_time": 20,
    "memory": "1GiB",
    "disk": "50MB",
    "output": "100KB",
    "processes": 64,
}
USER = "mallory"
GOOD_RMSE = 0.3

Run = Callable[[str, nbformat.NotebookNode | bytes], Scored]


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChallengeFixture]:
    """One challenge for the whole corpus.

    Its root (and so the scorer's home, answer keys and database) is made outside /tmp when
    possible: inside the sandbox /tmp is a private tmpfs, which would hide a path under the
    host's /tmp for a reason that has nothing to do with the sandbox's binds.
    """
    try:
        root = Path(tempfile.mkdtemp(prefix="coop-hostile-", dir="/var/tmp"))
    except OSError:
        root = tmp_path_factory.mktemp("hostile")
    try:
        yield make_challenge(root, edit={"phases.0.limits": LIMITS, "phases.0.submissions": {}})
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def runner_uids() -> Iterator[list[int]]:
    """The uid of every sandbox runner the scorer makes (each picks a random one)."""
    uids: list[int] = []
    original = scorer.scoring.sandbox.choose.make_runner

    def recording(*args, **kwargs):
        runner = original(*args, **kwargs)
        uid = getattr(runner, "uid", None)
        if uid is not None:
            uids.append(uid)
        return runner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scorer.scoring.sandbox.choose, "make_runner", recording)
        yield uids


def processes_of(uids: set[int]) -> list[str]:
    found = []
    for process in psutil.process_iter(["pid", "uids", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if process.info["uids"] and process.info["uids"].real in uids:
                found.append(f"{process.info['pid']} {' '.join(process.info['cmdline'] or [])[:100]}")
    return found


@pytest.fixture(autouse=True)
def host_is_clean_afterwards(runner_uids: list[int]) -> Iterator[None]:
    """After each test, no process of the sandboxes it ran remains (a short grace allowed)."""
    before = len(runner_uids)
    yield
    mine = set(runner_uids[before:])
    assert all(SANDBOX_UID_RANGE[0] <= uid < SANDBOX_UID_RANGE[1] for uid in mine)
    deadline = time.monotonic() + 5
    while (left := processes_of(mine)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes of the sandbox outlived the run: {left}"


@pytest.fixture(scope="module")
def run(hostile: ChallengeFixture, runner_uids: list[int]) -> Run:
    """Commit one notebook as mallory and score it; each name runs once per module."""
    done: dict[str, Scored] = {}

    def run(name: str, notebook: nbformat.NotebookNode | bytes) -> Scored:
        if name not in done:
            sha = hostile.commit(USER, {f"solutions/{USER}/{name}.ipynb": notebook})
            [done[name]] = hostile.score(sha)
        return done[name]

    return run


def executed(challenge: ChallengeFixture, result: Scored) -> bytes:
    """The executed notebook as its author reads it from the ledger."""
    api = challenge.api()
    try:
        with api.sessions() as session:
            data = queries.executed_notebook(session, result.view.id, viewer=result.view.username)
    finally:
        api.close()
    assert data is not None
    return data


def assert_outcome(result: Scored, expected: str, words: tuple[str | tuple[str, ...], ...] = ()) -> None:
    if expected == "scored":
        assert result.outcome == "scored", result.reason
        assert result.view.failure_class is None
        return
    assert (result.outcome, result.view.failure_class) == (expected, expected), result.reason
    reason = result.reason.lower()
    for word in words:
        options = (word,) if isinstance(word, str) else word
        assert any(o.lower() in reason for o in options), f"{word!r} not in {result.reason!r}"


# --- refused before running ------------------------------------------------------------------


@pytest.mark.parametrize("filename", sorted(corpus.INVALID))
def test_broken_notebook_is_refused_before_it_runs(hostile, filename):
    _attack, words = corpus.INVALID[filename]
    path = f"solutions/{USER}/{corpus.committed_name(filename)}"
    [result] = hostile.score(hostile.commit(USER, {path: corpus.static(filename)}))
    assert_outcome(result, "invalid_notebook", words)
    assert result.reason.startswith(path)  # names the file
    assert result.view.provenance in (None, {})  # nothing ran


# --- runtime cases with a plain expectation --------------------------------------------------


@pytest.mark.parametrize("name", list(corpus.CASES))
def test_runtime_case(hostile, run, name):
    case = corpus.CASES[name]
    result = run(name, case.build(hostile.baseline))
    assert_outcome(result, case.expected, case.words)
    if case.expected == "scored":
        assert 0 < result.scores.public["rmse"] < GOOD_RMSE
    assert hostile.settings.home not in result.reason  # no path of the scorer's in a reason


def test_limits_are_named_in_reasons(hostile, run):
    assert (
        f"{LIMITS['cell_time']} s"
        in run("infinite_loop", corpus.CASES["infinite_loop"].build(hostile.baseline)).reason
    )
    assert "gib" in run("memory_bomb", corpus.CASES["memory_bomb"].build(hostile.baseline)).reason.lower()
    disk = run("many_files", corpus.CASES["many_files"].build(hostile.baseline)).reason
    assert re.search(r"more than the \d+(\.\d+)? M(i)?B of files", disk), disk


@pytest.mark.parametrize(
    "name",
    ["sys_exit", "infinite_loop", "kill_parent"],
)
def test_reason_names_the_participants_cell(hostile, run, name):
    """The model is cell 4 of the participant's notebook (markdown, parameters, load, model).

    Only deterministic cases: after a watchdog kill (memory, disk) the cell is named only if the
    kill did not race papermill rewriting the executed notebook (see the report).
    """
    result = run(name, corpus.CASES[name].build(hostile.baseline))
    first_line = corpus.CASES[name].build(hostile.baseline).cells[corpus.MODEL_CELL].source.splitlines()[0]
    assert f'(in cell 4: "{first_line.strip()}")' in result.reason, result.reason


# --- cases with their own checks -------------------------------------------------------------


def test_fork_bomb_is_contained(hostile, run):
    result = run("fork_bomb", corpus.fork_bomb(hostile.baseline))
    # Observed: timeout (the kernel is stuck among its copies) or memory_exceeded (64 copies of a
    # kernel, each touching its pages); never a score, never a process left behind.
    phrases = {
        "timeout": ("per-cell limit", "took longer"),
        "memory_exceeded": ("memory",),
        "exception": ("blockingioerror", "resource temporarily unavailable", "kernel died"),
    }
    assert result.view.failure_class in phrases, result.reason
    assert any(p in result.reason.lower() for p in phrases[result.view.failure_class]), result.reason
    assert subprocess.run(["true"], check=False).returncode == 0  # the host can still fork


def test_output_flood_is_truncated_and_the_run_scores(hostile, run):
    result = run("print_flood", corpus.print_flood(hostile.baseline, megabytes=100))
    assert_outcome(result, "scored")
    notebook = executed(hostile, result)
    text = notebook.decode()
    assert "before the flood" in text
    assert "[output truncated: this run reached its limit of 100000 bytes of cell output]" in text
    assert len(notebook) < 200_000, len(notebook)
    nbformat.validate(nbformat.reads(text, as_version=4))


def test_answer_key_and_database_are_out_of_reach(hostile, run, monkeypatch):
    secret = f"coop-secret-{secrets.token_hex(8)}"
    monkeypatch.setenv("COOP_SECRET_TOKEN", secret)
    home = Path(hostile.settings.home)
    answers = home / "data" / hostile.challenge_id / "phase-1" / "answers" / "answers.csv"
    candidates = [
        answers,
        answers.parent,
        home / "data",
        home / "coop.db",
        home / "coop.db-wal",
        home,
        home / "runs",
        Path(__file__),  # the host's checkout (only the venv is bound)
        Path(__file__).parents[1] / "scorer" / "scoring" / "sandbox" / "bwrap.py",
        Path("/work/shared"),
        Path("/etc/shadow"),
        Path("/run/postgresql"),
        Path("/var/run/postgresql"),
    ]
    host_paths = [str(p) for p in candidates if os.path.lexists(p)]
    assert str(answers) in host_paths and str(home / "coop.db") in host_paths
    result = run("probe_host", corpus.probe_host(hostile.baseline, host_paths, secret))
    assert_outcome(result, "scored")
    report = corpus.probe_report(executed(hostile, result))
    assert report["control"] is True  # it can read its inputs: the probe works
    assert report["pids"] >= 2  # it saw the process tree of the sandbox (at least itself and papermill)
    assert report["checked"] >= len(host_paths) * (3 + 2 * report["pids"])
    assert report["walked"] > 100  # it walked the visible file system
    assert report["leaks"] == []


def test_environment_holds_no_secrets(hostile, run, monkeypatch):
    secret = f"coop-secret-{secrets.token_hex(8)}"
    for name in ("COOP_SECRET_TOKEN", "DATABASE_URL", "JUPYTERHUB_API_TOKEN", "PGPASSWORD", "AWS_SECRET_KEY"):
        monkeypatch.setenv(name, secret)
    result = run("environment", corpus.environment(hostile.baseline, secret))
    assert_outcome(result, "scored")
    report = corpus.probe_report(executed(hostile, result))
    assert report["found"] == []
    assert {"HOME", "PATH"} <= set(report["keys"])  # the probe read the real environment


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("postgres", ("ConnectionRefusedError", "Connection refused")),
        ("listener", ("ConnectionRefusedError", "Connection refused")),
        ("outside", ("OSError", "Network is unreachable")),
    ],
)
def test_network_is_unreachable(hostile, run, listener, target, words):
    host, port = {
        "postgres": ("127.0.0.1", 5432),  # PostgreSQL listens here on the host
        "listener": listener.getsockname(),
        "outside": ("192.0.2.1", 80),  # TEST-NET-1: any route out would try it
    }[target]
    result = run(f"connect_{target}", corpus.connect(hostile.baseline, host, port))
    assert_outcome(result, "exception", words)
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing came through


def test_predictions_linked_to_the_answer_key_do_not_score(hostile, run):
    home = Path(hostile.settings.home)
    answers = home / "data" / hostile.challenge_id / "phase-1" / "answers" / "answers.csv"
    result = run("link_answers", corpus.symlink_predictions(hostile.baseline, str(answers)))
    assert result.outcome != "scored", result.scores.public
    assert result.view.failure_class in {"predictions_invalid", "predictions_missing"}


def test_predictions_linked_to_a_host_file_leak_nothing(hostile, run, tmp_path):
    secret = f"TOPSECRET-{secrets.token_hex(8)}"
    host_file = tmp_path / "host-secret.txt"
    host_file.write_text(f"{secret},more\nsecond,line\n")
    result = run("link_host_file", corpus.symlink_predictions(hostile.baseline, str(host_file)))
    assert result.outcome != "scored"
    assert secret not in result.reason


def test_executed_notebook_linked_to_a_host_file_leaks_nothing(hostile, run, tmp_path):
    # Under the host's /tmp, so that the same path is writable inside (the sandbox's own /tmp).
    secret = f"TOPSECRET-{secrets.token_hex(8)}"
    host_file = tmp_path / "secret.json"
    host_file.write_text('{"cells": [], "secret": "%s"}' % secret)  # noqa: UP031
    result = run("link_executed", corpus.symlink_executed_notebook(hostile.baseline, str(host_file)))
    assert_outcome(result, "scored")  # its predictions are fine; the link is never followed
    stored = executed(hostile, result)
    assert stored == b"" and secret.encode() not in stored


def test_executed_notebook_that_is_not_json_is_recorded_not_crashed(hostile, run, tmp_path):
    host_file = tmp_path / "notes.txt"  # under the host's /tmp, so writable inside as well
    host_file.write_text("not a notebook\n")
    result = run("link_not_json", corpus.symlink_executed_notebook(hostile.baseline, str(host_file)))
    assert_outcome(result, "scored")
    assert result.view.status == "scored" and executed(hostile, result) == b""


def test_predictions_flipping_to_a_link_never_score_the_answer_key(hostile, run):
    """A detached process swaps the predictions for a link to the answer key and back until the
    sandbox ends (it dies with it): what is read is the last state, never the key."""
    home = Path(hostile.settings.home)
    answers = home / "data" / hostile.challenge_id / "phase-1" / "answers" / "answers.csv"
    result = run("flip_predictions", corpus.flip_predictions(hostile.baseline, str(answers)))
    if result.outcome == "scored":
        assert 0 < result.scores.public["rmse"] < GOOD_RMSE  # the honest file, read as a file
    else:
        assert_outcome(result, "predictions_invalid", ("predictions.csv is not a regular file",))


def test_other_runs_folders_are_out_of_reach(hostile, run):
    """Another run's folder on the host (as one in progress holds it): not visible by its host
    path, through /proc, or by walking the tree."""
    other = Path(hostile.settings.home) / "runs" / "another-run"
    (other / "output").mkdir(parents=True)
    (other / "work").mkdir()
    (other / "output" / "predictions.csv").write_text("id,y\n0,1.5\n")
    (other / "work" / "answers.csv").write_text("id,y\n0,1.5\n")
    try:
        paths = [str(p) for p in (other.parent, other, other / "output", other / "work" / "answers.csv")]
        result = run("other_runs", corpus.probe_host(hostile.baseline, paths, "no-secret-here"))
    finally:
        shutil.rmtree(other)
    assert_outcome(result, "scored")
    report = corpus.probe_report(executed(hostile, result))
    assert report["leaks"] == [] and report["walked"] > 100


def test_a_launcher_beside_the_notebook_does_not_replace_the_kernel(hostile, run):
    """``python -m ipykernel_launcher`` in the notebook's folder would run the participant's
    ipykernel_launcher.py, a kernel that never answers; the scorer starts the launcher's file."""
    launcher = hostile.clone / "solutions" / USER / "ipykernel_launcher.py"
    try:
        sha = hostile.commit(
            USER,
            {
                f"solutions/{USER}/shadow_launcher.ipynb": hostile.baseline,
                f"solutions/{USER}/ipykernel_launcher.py": corpus.SHADOW_LAUNCHER,
            },
        )
    finally:
        launcher.unlink()
    [result] = hostile.score(sha)
    assert_outcome(result, "scored")


def test_a_notebook_that_rewrites_itself_changes_nothing_scored(hostile, run):
    result = run("self_rewrite", corpus.CASES["self_rewrite"].build(hostile.baseline))
    assert_outcome(result, "scored")  # the organiser's cell ran as restored: the honest RMSE
    assert 0 < result.scores.public["rmse"] < GOOD_RMSE
    stored = json.loads(executed(hostile, result))  # papermill's own save replaced the fake
    assert "marker" not in stored["metadata"] and len(stored["cells"]) >= 5


def test_text_from_the_run_is_quoted_printable(hostile, run):
    result = run("unicode_tricks", corpus.CASES["unicode_tricks"].build(hostile.baseline))
    assert not [c for c in result.reason if unicodedata.category(c) == "Cc" or c == "\u202e"], result.reason
    assert printable("a\x1b[31mb\u202ec\x00d\ne\tf") == "ab\ufffdc\ufffdd\ne\tf"


# --- what a participant is told: widget cells, cell numbers, IPython's own words ------------

WIDGET_CELLS = (
    "from coop_widgets import Leaderboard, MySubmissions, PhaseBanner",
    "PhaseBanner()",
    "Leaderboard()",
    "MySubmissions()",
)


def with_submit_and_widgets(baseline: nbformat.NotebookNode, *after: str) -> nbformat.NotebookNode:
    """The baseline as Easy start copies it (its Submit cell last, cell 6 of 6 in the template's),
    then the platform's widgets in cells 7-10 as the README invites, then ``after``."""
    notebook = copy.deepcopy(baseline)
    assert "coop-submit" in notebook.cells[-1].metadata.get("tags", [])
    notebook.cells.extend(new_code_cell(source) for source in (*WIDGET_CELLS, *after))
    return notebook


def test_widget_cells_are_left_out_and_the_notebook_scores(hostile, run):
    result = run("widget_cells", with_submit_and_widgets(hostile.baseline, "print('after the widgets')"))
    assert_outcome(result, "scored")
    text = executed(hostile, result).decode()
    assert "after the widgets" in text and "coop_widgets" not in text and "Leaderboard" not in text


def test_a_failure_names_the_cell_as_jupyterlab_numbers_it_and_quotes_it(hostile, run):
    notebook = with_submit_and_widgets(hostile.baseline, "# a mistake\nraise ValueError('after the widgets')")
    result = run("fails_after_widgets", notebook)
    assert_outcome(result, "exception")
    assert result.reason == 'ValueError: after the widgets (in cell 11: "# a mistake")', result.reason


def test_a_cell_mixing_widgets_with_code_says_how_to_fix_it(hostile, run):
    result = run(
        "mixed_widget_cell",
        with_submit_and_widgets(hostile.baseline, "from coop_widgets import Submit\nx = 1"),
    )
    assert_outcome(
        result, "exception", ("No module named 'coop_widgets'", "in cell 11", "cells of their own")
    )


def test_an_unknown_magic_is_reported_in_ipythons_words(hostile, run):
    result = run("unknown_magic", corpus.with_model(hostile.baseline, "%undefined_magic\nprint(1)"))
    assert_outcome(result, "exception")
    assert result.reason == (
        'UsageError: Line magic function `%undefined_magic` not found. (in cell 4: "%undefined_magic")'
    ), result.reason


def test_a_downloaded_failed_notebook_committed_again_names_the_cell_it_shows(hostile, run):
    """The executed notebook holds papermill's cells (its parameters, its error banners): the
    participant sees them in JupyterLab, so the cell numbers count them; the run leaves them out."""
    first = run("download_first", corpus.with_model(hostile.baseline, "raise ValueError('try again')"))
    assert_outcome(first, "exception")
    downloaded = nbformat.reads(executed(hostile, first).decode(), as_version=4)
    papermill = [
        c
        for c in downloaded.cells
        if {"injected-parameters", "papermill-error-cell-tag"} & set(c.metadata.get("tags", []))
    ]
    assert len(papermill) >= 2  # the parameters and at least one error banner
    shown = 1 + next(i for i, c in enumerate(downloaded.cells) if "try again" in c.source)
    again = run("download_again", downloaded)
    assert_outcome(again, "exception")
    assert again.reason == f"ValueError: try again (in cell {shown}: \"raise ValueError('try again')\")"
    rerun = nbformat.reads(executed(hostile, again).decode(), as_version=4)
    tags = [t for c in rerun.cells for t in c.metadata.get("tags", [])]
    assert tags.count("injected-parameters") == 1  # papermill's own, once: the old one went


def test_nbformat_4_2_with_cell_ids_runs(hostile, run):
    data = json.loads(nbformat.writes(hostile.baseline))
    data["nbformat_minor"] = 2
    result = run("nbformat_4_2_ids", json.dumps(data).encode())
    assert_outcome(result, "scored")


def test_a_run_that_fails_after_its_last_cell_keeps_its_executed_notebook(hostile, run):
    """Predictions refused: the notebook ran to its end, and its author can read what it did."""
    result = run(
        "nan_after_the_last_cell",
        corpus.with_model(hostile.baseline, "test['y'] = float('nan')\nprint('wrote nan')"),
    )
    assert_outcome(result, "predictions_invalid")
    assert "wrote nan" in executed(hostile, result).decode()


def test_a_link_out_of_the_repository_is_the_participants_error(hostile):
    """A commit that never met the push policy (a forge webhook's): the checkout refuses the
    link, and the participant is told which and what to do; no retry, never infrastructure."""
    link = hostile.clone / "solutions" / USER / "mydata"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("/home/jovyan/data")
    try:
        sha = hostile.commit(USER, {f"solutions/{USER}/with_link.ipynb": hostile.baseline})
    finally:
        link.unlink()
    [result] = hostile.score(sha)
    assert_outcome(result, "policy", (f"solutions/{USER}/mydata is a link to /home/jovyan/data", "git rm"))
    assert result.view.status == "failed"


# --- keep last: the host is still fine -------------------------------------------------------


def test_a_good_notebook_still_scores_after_the_corpus(hostile, run, runner_uids):
    result = run("good_after_corpus", hostile.baseline)
    assert runner_uids, "no sandbox uid was recorded: the leftover-process checks saw nothing"
    assert_outcome(result, "scored")
    assert 0 < result.scores.public["rmse"] < GOOD_RMSE
    runs = Path(hostile.settings.home) / "runs"
    assert not runs.exists() or list(runs.iterdir()) == []  # every run folder was removed
