"""``GET /api/challenges/{id}/phases/{phase}/inputs``: a phase's inputs as a tar.gz, nothing more.

One challenge for the module, served by uvicorn on loopback: ``phase-1`` (open, prepared),
``later`` (prepared, starts in 2999) and ``unprepared`` (open, no data yet).
"""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from coop_client.client import AsyncCoopClient, CoopClient, CoopClientError, Routes
from scorer.challenge.phase_data import phase_root
from scorer.challenge.publish import publish
from scorer.service.app import create_app
from scorer.service.routes.data import inputs_archive
from tests.conftest import make_challenge
from tests.service.conftest import PREFIX, TOKENS, running


@dataclass
class Served:
    url: str  # the service's base URL, prefix included
    data_root: Path  # <home>/data
    challenge_id: str

    def inputs_url(self, phase_id: str, challenge_id: str | None = None) -> str:
        return f"{self.url}/api/challenges/{challenge_id or self.challenge_id}/phases/{phase_id}/inputs"

    def inputs(self, phase_id: str) -> Path:
        return phase_root(self.data_root, self.challenge_id, phase_id) / "inputs"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    fixture = make_challenge(tmp_path_factory.mktemp("inputs"))
    spec_file = fixture.folder / "challenge.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    first = spec["phases"][0]
    spec["phases"] += [
        {**first, "id": "later", "title": "Later", "start": "2999-01-01T00:00:00Z"},
        {**first, "id": "unprepared", "title": "Not prepared"},
    ]
    spec_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    publish(fixture.folder, fixture.bare, message="more phases", author="Organiser", email="o@example.org")
    api = fixture.api()
    try:
        api.prepare(str(fixture.bare), phases=["later"], seed=7)
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            yield Served(url + PREFIX.rstrip("/"), fixture.settings.data_root, fixture.challenge_id)
    finally:
        api.close()


def members(archive: bytes) -> dict[str, bytes | None]:
    """Each member's name and content (``None`` for a folder); fails on anything else."""
    found: dict[str, bytes | None] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            assert member.isfile() or member.isdir(), member.name
            assert not member.name.startswith("/") and ".." not in member.name.split("/"), member.name
            handle = tar.extractfile(member) if member.isfile() else None
            found[member.name] = handle.read() if handle else None
    return found


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_anyone_downloads_exactly_the_inputs_folder_of_a_started_phase(served: Served):
    response = httpx.get(served.inputs_url("phase-1"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/gzip"
    assert 'filename="curve-phase-1-inputs.tar.gz"' in response.headers["content-disposition"]
    found = members(response.content)
    assert list(found) == sorted(found)  # path order
    assert {name: data for name, data in found.items() if data is not None} == files_of(
        served.inputs("phase-1")
    )
    assert sorted(found) == ["test.csv", "train.csv"]  # no answers/, no meta.json (the seed)
    answers = (served.inputs("phase-1").parent / "answers" / "answers.csv").read_bytes()
    assert all(answers not in data for data in found.values() if data)
    assert httpx.get(served.inputs_url("phase-1")).content == response.content  # the same bytes


def test_both_clients_download_the_archive(served: Served):
    expected = httpx.get(served.inputs_url("phase-1")).content
    with CoopClient(served.url, token="alice-token") as client:
        assert client.phase_inputs(served.challenge_id, "phase-1") == expected

    async def download() -> bytes:
        async with AsyncCoopClient(served.url) as client:
            return await client.send(Routes.phase_inputs(served.challenge_id, "phase-1"))

    assert asyncio.run(download()) == expected


@pytest.mark.parametrize(
    ("challenge_id", "phase_id", "message"),
    [
        ("nope", "phase-1", "no challenge 'nope'"),
        (None, "nope", "challenge 'curve' has no phase 'nope'"),
        (None, "unprepared", "the data of phase 'unprepared' of 'curve' is not prepared yet"),
    ],
)
def test_unknown_or_unprepared_phases_are_404_with_a_reason(
    served: Served, challenge_id: str | None, phase_id: str, message: str
):
    organiser = {"Authorization": "token org-token"}
    response = httpx.get(served.inputs_url(phase_id, challenge_id), headers=organiser)
    assert response.status_code == 404
    assert message in response.json()["error"]


def test_before_its_start_only_organisers_download_a_phase(served: Served):
    for headers in ({}, {"Authorization": "token alice-token"}):
        refused = httpx.get(served.inputs_url("later"), headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"] == (
            "the inputs of phase 'later' are published when it starts (2999-01-01T00:00:00+00:00)"
        )
    with CoopClient(served.url, token="alice-token") as alice, pytest.raises(CoopClientError) as caught:
        alice.phase_inputs(served.challenge_id, "later")
    assert caught.value.status == 403
    with CoopClient(served.url, token="org-token") as olga:
        archive = olga.phase_inputs(served.challenge_id, "later")
    assert {n: d for n, d in members(archive).items() if d is not None} == files_of(served.inputs("later"))


def test_a_bad_token_is_refused_even_for_public_inputs(served: Served):
    response = httpx.get(served.inputs_url("phase-1"), headers={"Authorization": "token wrong"})
    assert response.status_code == 401
    assert "not valid" in response.json()["error"]


def test_the_archive_holds_folders_and_regular_files_never_links(tmp_path: Path):
    folder = tmp_path / "inputs"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.csv").write_text("b\n")
    (folder / "sub" / "a.txt").write_text("a\n")
    (tmp_path / "answers.csv").write_text("secret\n")
    (folder / "link.csv").symlink_to(tmp_path / "answers.csv")
    (folder / "linked-folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(folder / "pipe")
    archive = inputs_archive(folder, "a hash of this test's own")
    assert members(archive) == {"b.csv": b"b\n", "sub": None, "sub/a.txt": b"a\n"}
    assert inputs_archive(folder, "a hash of this test's own") is archive  # built once per hash
