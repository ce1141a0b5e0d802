"""A phase's public inputs as a download: the files a scoring run sees read-only, for JupyterLab.

Only ``<data>/<challenge>/<phase>/inputs/`` is ever archived: the answer key and ``meta.json``
(with the secret seed) sit beside it and never leave the scorer. Whoever may read the challenge
may download the inputs of a phase that has started; before its start only organisers may.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
import threading
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Response

from coop_client.models import ErrorOut
from scorer.challenge.phase_data import load_phase_data
from scorer.exceptions import PhaseNotStarted
from scorer.ledger import queries
from scorer.service.deps import Api, Viewer

router = APIRouter(tags=["data"], responses={403: {"model": ErrorOut}, 404: {"model": ErrorOut}})

ARCHIVE_TYPE = "application/gzip"
_ARCHIVE_DOC = {"content": {ARCHIVE_TYPE: {"schema": {"type": "string", "format": "binary"}}}}
_building = threading.Lock()


@router.get(
    "/api/challenges/{challenge_id}/phases/{phase_id}/inputs",
    response_class=Response,
    responses={200: {**_ARCHIVE_DOC, "description": "a tar.gz of the phase's inputs folder"}},
)
def get_phase_inputs(api: Api, who: Viewer, challenge_id: str, phase_id: str) -> Response:
    """The phase's inputs (what ``inputs_dir`` holds when the scorer runs a notebook) as a
    gzipped tar, members in path order, relative paths, regular files and folders only."""
    phase = queries.phase_of(api.challenge(challenge_id), phase_id)
    if datetime.now(UTC) < phase.start and not (who is not None and who.organiser):
        raise PhaseNotStarted(
            f"the inputs of phase {phase_id!r} are published when it starts ({phase.start.isoformat()})"
        )
    data = load_phase_data(api.settings.data_root, challenge_id, phase_id)
    return Response(
        inputs_archive(data.inputs, data.input_hash),
        media_type=ARCHIVE_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{challenge_id}-{phase_id}-inputs.tar.gz"'},
    )


def inputs_archive(folder: Path, inputs_hash: str) -> bytes:
    """``folder`` as a gzipped tar, the same bytes for the same files, built once per hash (new
    data of a phase has a new hash): many participants starting at once wait for one build."""
    with _building:
        return _archive(folder, inputs_hash)


@lru_cache(maxsize=8)
def _archive(folder: Path, inputs_hash: str) -> bytes:
    """Links and special files are left out, never followed."""
    del inputs_hash  # part of the cache key only
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=buffer, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            info = path.lstat()
            if stat.S_ISDIR(info.st_mode):
                tar.addfile(_member(name, tarfile.DIRTYPE, 0o755, 0, info.st_mtime))
            elif stat.S_ISREG(info.st_mode):
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
                with os.fdopen(fd, "rb") as handle:
                    size = os.fstat(handle.fileno()).st_size
                    tar.addfile(_member(name, tarfile.REGTYPE, 0o644, size, info.st_mtime), handle)
    return buffer.getvalue()


def _member(name: str, kind: bytes, mode: int, size: int, mtime: float) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.mode, member.size, member.mtime = kind, mode, size, int(mtime)
    member.uid = member.gid = 0
    member.uname = member.gname = ""
    return member
