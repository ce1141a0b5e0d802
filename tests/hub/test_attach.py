"""Attach, Easy start and the credential helper without a hub: real git, real repositories.

(With the hub, ``test_hub.py`` checks the same pieces end to end.)
"""

from __future__ import annotations

import io
import logging
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from coop_widgets import credential, server
from coop_widgets.attach import Participant, attach, credential_helper
from coop_widgets.easystart import EasyStartError, easy_start
from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.cli import app
from tests.conftest import git

SERVICE = "http://127.0.0.1:8000/services/coop/"
SERVER_ENV = {"JUPYTERHUB_USER": "alice", "JUPYTERHUB_API_TOKEN": "secret-token", "COOP_SERVICE_URL": SERVICE}


# --- the credential helper ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_lines", "expected"),
    [
        (["protocol=http", "host=127.0.0.1:8000"], {"username": "alice", "password": "secret-token"}),
        (["protocol=http", "host=127.0.0.1:8000", "path=services/coop/git/x.git"], {"username": "alice"}),
        (["protocol=https", "host=127.0.0.1:8000"], {}),  # another scheme
        (["protocol=http", "host=github.com"], {}),  # another host never sees the token
        (["protocol=http", "host=127.0.0.1:8001"], {}),
    ],
)
def test_the_helper_answers_only_for_the_scorer(request_lines, expected):
    answer = credential.answer(credential.parse(line + "\n" for line in request_lines), SERVER_ENV)
    assert answer.items() >= expected.items() and (bool(answer) == bool(expected))


def test_the_helper_says_nothing_without_a_token_and_ignores_store_and_erase():
    request = {"protocol": "http", "host": "127.0.0.1:8000"}
    assert credential.answer(request, {**SERVER_ENV, "JUPYTERHUB_API_TOKEN": ""}) == {}
    for action in ("store", "erase"):
        out = io.StringIO()
        assert (
            credential.run(action, io.StringIO("protocol=http\nhost=127.0.0.1:8000\npassword=x\n\n"), out)
            == 0
        )
        assert out.getvalue() == ""


def test_git_gets_the_token_from_the_helper_as_configured(tmp_path: Path):
    fill = [
        "git",
        "-c",
        "credential.helper=",
        "-c",
        f"credential.helper={credential_helper()}",
        "credential",
        "fill",
    ]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GIT_TERMINAL_PROMPT": "0", **SERVER_ENV}
    done = subprocess.run(
        fill,
        input="url=http://127.0.0.1:8000/services/coop/git/x.git\n\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "username=alice\n" in done.stdout and "password=secret-token\n" in done.stdout
    elsewhere = subprocess.run(
        fill,
        input="url=http://example.org/x.git\n\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert elsewhere.returncode != 0 and "secret-token" not in elsewhere.stdout


def test_coop_credential_is_the_same_helper(monkeypatch):
    for name, value in SERVER_ENV.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["credential", "get"], input="protocol=http\nhost=127.0.0.1:8000\n\n")
    assert result.exit_code == 0 and result.output == "username=alice\npassword=secret-token\n"


# --- attach: what it refuses to touch -----------------------------------------------------------

ALICE = Participant("alice", SERVICE, "secret-token")


def test_a_folder_that_is_not_a_clone_is_left_alone(tmp_path: Path):
    (tmp_path / "higgs").mkdir()
    (tmp_path / "higgs" / "mine.ipynb").write_text("{}")
    result = attach(tmp_path, ALICE, "higgs")
    assert not result.ok and "is not a git clone" in result.error
    assert [p.name for p in (tmp_path / "higgs").iterdir()] == ["mine.ipynb"]


def test_a_clone_of_something_else_is_left_alone(tmp_path: Path):
    clone = tmp_path / "higgs"
    clone.mkdir()
    git(clone, "init", "-q")
    git(clone, "remote", "add", "origin", "https://github.com/someone/else.git")
    result = attach(tmp_path, ALICE, "higgs")
    assert not result.ok and "is a clone of https://github.com/someone/else.git" in result.error
    assert "credential" not in (clone / ".git" / "config").read_text()  # nothing configured either


def test_an_unreachable_scorer_fails_the_clone_cleanly(tmp_path: Path):
    nowhere = Participant("alice", "http://127.0.0.1:9/services/coop/", "secret-token")
    result = attach(tmp_path, nowhere, "higgs")
    assert not result.ok and result.error.startswith("git clone failed")
    assert list(tmp_path.iterdir()) == []  # no half-made clone left behind
    assert not attach(tmp_path, nowhere, "../etc").ok


def test_coop_attach_explains_what_it_needs(tmp_path: Path, monkeypatch):
    for name in SERVER_ENV:
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    missing = runner.invoke(app, ["attach", "--root", str(tmp_path)])
    assert missing.exit_code == 2 and "--user and --service-url" in missing.output
    down = runner.invoke(
        app, ["attach", "--root", str(tmp_path), "--user", "alice", "--service-url", "http://127.0.0.1:9/x/"]
    )
    assert down.exit_code == 1 and "cannot be reached" in down.output


def test_outside_a_hub_there_is_nobody_to_attach():
    assert Participant.from_environment({"JUPYTERHUB_USER": "alice"}) is None
    assert Participant.from_environment(SERVER_ENV).service_url == SERVICE


# --- Easy start on a real clone ----------------------------------------------------------------


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A participant's clone of a freshly published two-phase challenge."""
    folder = scaffold("Curve", tmp_path / "organiser")
    spec = yaml.safe_load((folder / "challenge.yaml").read_text())
    first = spec["phases"][0]
    first.update(start="2026-01-01T00:00:00Z", end="2026-03-01T00:00:00Z")
    later = {**first, "id": "phase-2", "start": "2026-04-01T00:00:00Z", "end": "2026-05-01T00:00:00Z"}
    spec["phases"].append(later)
    (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    bare = tmp_path / "curve.git"
    publish(folder, bare, message="publish", author="Organiser", email="organiser@example.org")
    git(tmp_path, "clone", "-q", str(bare), "clone")
    return tmp_path / "clone"


def test_easy_start_copies_the_organisers_baseline_not_a_local_edit(clone: Path):
    baseline = (clone / "baselines" / "phase-1.ipynb").read_bytes()
    (clone / "baselines" / "phase-1.ipynb").write_text("edited locally")
    during = datetime(2026, 2, 1, tzinfo=UTC)
    relative = easy_start(clone, "alice", now=during)
    assert str(relative) == "solutions/alice/phase-1.ipynb"
    assert (clone / relative).read_bytes() == baseline


def test_between_phases_easy_start_opens_the_last_phase_that_started(clone: Path):
    between = datetime(2026, 3, 15, tzinfo=UTC)
    assert easy_start(clone, "alice", now=between).name == "phase-1.ipynb"
    assert easy_start(clone, "alice", now=datetime(2026, 6, 1, tzinfo=UTC)).name == "phase-2.ipynb"
    assert easy_start(clone, "alice", phase_id="phase-2", now=between).name == "phase-2.ipynb"


def test_easy_start_never_overwrites_and_says_what_is_wrong(clone: Path):
    notebook = clone / easy_start(clone, "alice", now=datetime(2026, 2, 1, tzinfo=UTC))
    notebook.write_text("my work")
    easy_start(clone, "alice", now=datetime(2026, 2, 1, tzinfo=UTC))
    assert notebook.read_text() == "my work"
    with pytest.raises(EasyStartError, match="unknown phase 'nope'") as unknown:
        easy_start(clone, "alice", phase_id="nope")
    assert unknown.value.http_status == 404
    with pytest.raises(EasyStartError, match="no clone"):
        easy_start(clone.parent / "missing", "alice")


def test_the_server_extension_retries_an_unreachable_scorer_then_says_so(tmp_path, caplog):
    nowhere = Participant("alice", "http://127.0.0.1:9/services/coop/", "secret-token")
    attacher = server.Attacher(tmp_path, nowhere, logging.getLogger("coop-test"), retry_delays=(0.01, 0.01))
    with caplog.at_level(logging.WARNING, "coop-test"):
        attacher.run()  # in the server: a background thread; it never raises
    status = attacher.status()
    assert status["state"] == "failed" and "cannot be reached" in status["error"]
    assert sum("retrying in" in record.getMessage() for record in caplog.records) == 2
    assert list(tmp_path.iterdir()) == []
