"""Publishing a new challenge from a folder an organiser sends (a gzipped tar of it).

The archive is unpacked with tarfile's ``data`` filter (no links, devices, absolute paths or
paths leaving the folder) within limits on its size and file count, and validated as
``coop challenge validate`` would. A dry run stops there and says what would be published.
Otherwise the folder becomes the first commit of the organiser ref
(:func:`scorer.challenge.publish.publish`), is served at ``<home>/git/<id>.git`` with its hooks,
registered, its phases' data prepared, and the publication audited. An id already known here
is refused: a published challenge changes through the organiser's edits or pushes.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scorer.challenge.load import load_spec
from scorer.challenge.publish import publish
from scorer.exceptions import OrganiseError, UnknownChallenge
from scorer.facade import CoopAPI
from scorer.ingest.served import repository_path, serve_repository
from scorer.ledger.audit import record_audit_event

PUBLISH = "publish"
MAX_FILES = 2_000
MAX_UNPACKED = 200 * 1024**2


@dataclass(frozen=True)
class Published:
    """A challenge published from a folder, or (``applied`` false) what would be."""

    challenge: str
    title: str
    phases: list[str]
    files: list[str]
    applied: bool
    commit: str | None
    audit: int | None


def publish_folder(api: CoopAPI, archive: bytes, actor: str, *, dry_run: bool = False) -> Published:
    """Publish the challenge folder in ``archive`` (a gzipped tar whose root holds
    challenge.yaml) as a new challenge served here."""
    with tempfile.TemporaryDirectory(prefix="coop-new-challenge-") as scratch:
        folder = Path(scratch) / "challenge"
        files = _unpack(archive, folder)
        challenge = load_spec(folder)
        _refuse_known(api, challenge.id)
        if challenge.forge is not None:
            raise OrganiseError(
                f"{challenge.id} is hosted on {challenge.forge.kind}: publish it there and register "
                "it with `coop challenge prepare`"
            )
        phases = [p.id for p in challenge.phases]
        if dry_run:
            return Published(challenge.id, challenge.title, phases, files, False, None, None)
        bare = Path(scratch) / "published.git"
        email = f"{actor}@users.coopetition.local"
        commit = publish(folder, bare, message=f"Publish {challenge.title}", author=actor, email=email)
        served = serve_repository(api.settings.home_path, challenge.id, bare)
    api.prepare(str(served.resolve()))
    detail = {"commit": commit, "title": challenge.title, "phases": phases}
    with api.sessions.begin() as session:
        audit = record_audit_event(session, actor, challenge.id, PUBLISH, detail)
    return Published(challenge.id, challenge.title, phases, files, True, commit, audit)


def _refuse_known(api: CoopAPI, challenge_id: str) -> None:
    try:
        api.challenge(challenge_id)
    except UnknownChallenge:
        known = False
    else:
        known = True
    if known or repository_path(api.settings.home_path, challenge_id) is not None:
        raise OrganiseError(
            f"a challenge {challenge_id!r} exists here already: change it with the organiser panel's "
            "edits or push to its organiser branch (or give the new one another id)"
        )


def _unpack(archive: bytes, folder: Path) -> list[str]:
    """Unpack the archive into ``folder``; the files in it, sorted."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            members = tar.getmembers()
            if len(members) > MAX_FILES:
                raise OrganiseError(f"the folder holds more than {MAX_FILES} files: is it the right one?")
            size = sum(m.size for m in members if m.isfile())
            if size > MAX_UNPACKED:
                raise OrganiseError(
                    f"the folder's files take {size / 1024**2:.0f} MiB, more than "
                    f"{MAX_UNPACKED // 1024**2} MiB: leave large data to the generator"
                )
            links = [m.name for m in members if not (m.isfile() or m.isdir())]
            if links:
                raise OrganiseError(f"only files and folders can be published, not {links[0]!r}")
            tar.extractall(folder, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise OrganiseError(f"the folder could not be unpacked: {exc}") from None
    return sorted(m.name for m in members if m.isfile())
