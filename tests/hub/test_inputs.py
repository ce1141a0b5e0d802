"""Easy start's phase inputs without a hub: a real clone, the real service on loopback.

(With the hub, ``test_hub.py`` checks the same through ``/coop/start/<id>``.)
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from coop_widgets.attach import Participant
from coop_widgets.easystart import easy_start
from coop_widgets.inputs import InputsError, provide_inputs, string_parameters, unpack
from scorer.challenge.phase_data import phase_root
from scorer.service.app import create_app
from tests.conftest import ChallengeFixture, make_challenge
from tests.service.conftest import PREFIX, TOKENS, running

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = PurePosixPath("solutions/alice/phase-1.ipynb")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChallengeFixture, str]]:
    fixture = make_challenge(tmp_path_factory.mktemp("inputs"))
    api = fixture.api()
    try:
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            yield fixture, url + PREFIX
    finally:
        api.close()


@pytest.fixture
def clone(service: tuple[ChallengeFixture, str], tmp_path: Path) -> Path:
    fixture, _url = service
    subprocess.run(["git", "clone", "-q", str(fixture.bare), str(tmp_path / "curve")], check=True)
    return tmp_path / "curve"


def alice(service: tuple[ChallengeFixture, str]) -> Participant:
    return Participant("alice", service[1], "alice-token")


def status(clone: Path) -> list[str]:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def everything(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its content (``None``: a folder)."""
    return {str(p): None if p.is_dir() else p.read_bytes() for p in folder.rglob("*")}


def set_parameters(clone: Path, source: str) -> None:
    notebook = json.loads((clone / NOTEBOOK).read_text())
    [cell] = [c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", [])]
    cell["source"] = source
    (clone / NOTEBOOK).write_text(json.dumps(notebook))


@pytest.mark.parametrize(
    ("baseline", "inputs_dir"),
    [
        ("scorer/challenge/templates/challenge/baselines/phase-1.ipynb", "data"),
        ("challenge_notebooks/higgs/baselines/toy.ipynb", "data/toy"),
        ("challenge_notebooks/trackml/baselines/realistic.ipynb", "data/realistic"),
    ],
)
def test_the_shipped_baselines_name_their_inputs_and_predictions(baseline: str, inputs_dir: str):
    defaults = string_parameters((ROOT / baseline).read_bytes())
    assert (defaults["inputs_dir"], defaults["predictions_path"]) == (inputs_dir, "predictions.csv")


def test_inputs_land_where_the_notebook_reads_them_and_stay_out_of_git(service, clone: Path):
    fixture, _url = service
    assert easy_start(clone, "alice") == NOTEBOOK
    done = provide_inputs(clone, NOTEBOOK, alice(service), fixture.challenge_id, "phase-1")
    assert (done.state, done.folder, done.message) == ("unpacked", "solutions/alice/data", "")
    served = phase_root(fixture.settings.data_root, fixture.challenge_id, "phase-1") / "inputs"
    data = clone / "solutions" / "alice" / "data"
    assert sorted(p.name for p in served.iterdir()) == ["test.csv", "train.csv"]
    assert {p.name: p.read_bytes() for p in data.iterdir()} == {
        p.name: p.read_bytes() for p in served.iterdir()
    }
    (clone / "solutions" / "alice" / "predictions.csv").write_text("id,y\n")
    assert status(clone) == ["?? solutions/alice/phase-1.ipynb"]  # data and predictions excluded
    exclude = (clone / ".git" / "info" / "exclude").read_text().splitlines()
    assert exclude[-2:] == ["/solutions/alice/data/", "/solutions/alice/predictions.csv"]
    assert not list((clone / ".git").glob("coop-inputs-*"))  # no staging folder left behind

    (data / "train.csv").write_text("id,x,y\n0,0.5,1.0\n")  # the participant's own edit
    again = provide_inputs(clone, NOTEBOOK, alice(service), fixture.challenge_id, "phase-1")
    assert again.state == "present"
    assert (data / "train.csv").read_text() == "id,x,y\n0,0.5,1.0\n"
    assert (clone / ".git" / "info" / "exclude").read_text().splitlines() == exclude  # listed once


def test_an_empty_folder_is_filled(service, clone: Path):
    fixture, _url = service
    easy_start(clone, "alice")
    (clone / "solutions" / "alice" / "data").mkdir()
    done = provide_inputs(clone, NOTEBOOK, alice(service), fixture.challenge_id, "phase-1")
    assert done.state == "unpacked"
    assert (clone / "solutions" / "alice" / "data" / "train.csv").is_file()


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ('inputs_dir = "../../../outside"', "inputs_dir = '../../../outside' points outside the clone's"),
        ('inputs_dir = "/tmp/elsewhere"', "inputs_dir = '/tmp/elsewhere' is an absolute path"),
        ('inputs_dir = "."', "inputs_dir = '.' points outside the clone's folders"),  # the notebook's own
        ('inputs_dir = "../../.git/x"', "points outside the clone's folders"),
    ],
)
def test_folders_outside_the_clone_are_refused_and_nothing_is_written(
    service, clone: Path, parameters: str, message: str
):
    fixture, _url = service
    easy_start(clone, "alice")
    set_parameters(clone, parameters)
    before = everything(clone.parent)
    done = provide_inputs(clone, NOTEBOOK, alice(service), fixture.challenge_id, "phase-1")
    assert done.state == "failed" and message in done.message, done
    assert everything(clone.parent) == before  # .git/info/exclude included


def test_without_the_data_the_notebook_is_left_as_it_is_and_the_reason_given(service, clone: Path):
    fixture, _url = service
    easy_start(clone, "alice")
    notebook = (clone / NOTEBOOK).read_bytes()
    unprepared = provide_inputs(clone, NOTEBOOK, alice(service), fixture.challenge_id, "nope")
    assert unprepared.state == "failed"
    assert unprepared.message == (
        "the inputs of phase 'nope' cannot be downloaded: challenge 'curve' has no phase 'nope'"
    )
    nowhere = Participant("alice", "http://127.0.0.1:9/services/coop/", "alice-token")
    unreachable = provide_inputs(clone, NOTEBOOK, nowhere, fixture.challenge_id, "phase-1")
    assert unreachable.state == "failed" and "cannot be reached" in unreachable.message
    no_service = provide_inputs(clone, NOTEBOOK, None, fixture.challenge_id, "phase-1")
    assert "COOP_SERVICE_URL is not set" in no_service.message
    assert (clone / NOTEBOOK).read_bytes() == notebook
    assert not (clone / "solutions" / "alice" / "data").exists()
    set_parameters(clone, "degree = 3")
    skipped = provide_inputs(clone, NOTEBOOK, alice(service), fixture.challenge_id, "phase-1")
    assert skipped.state == "skipped"
    assert skipped.message == "its parameters cell gives inputs_dir no string default"


def archive_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "archive",
    [
        archive_of({"ok.csv": b"1\n", "../escaped.csv": b"2\n"}),
        archive_of({"ok.csv": os.urandom(50_000)})[:20_000],  # truncated
    ],
    ids=["dot-dot", "truncated"],
)
def test_a_hostile_or_broken_archive_leaves_nothing_behind(tmp_path: Path, archive: bytes):
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    with pytest.raises(InputsError, match="the inputs archive cannot be unpacked"):
        unpack(archive, clone / "solutions" / "data", scratch=clone / ".git")
    assert not (clone / "solutions" / "data").exists()
    assert not list((clone / ".git").iterdir())  # the staging folder is gone too
    assert sorted(p.name for p in tmp_path.rglob("*")) == [".git", "clone", "solutions"]


def test_an_absolute_member_lands_inside_the_folder(tmp_path: Path):
    clone = tmp_path / "clone"
    (clone / ".git").mkdir(parents=True)
    outside = tmp_path / "outside.csv"
    assert unpack(archive_of({str(outside): b"3\n"}), clone / "data", scratch=clone / ".git")
    assert not outside.exists()
    assert (clone / "data" / str(outside).lstrip("/")).read_bytes() == b"3\n"
