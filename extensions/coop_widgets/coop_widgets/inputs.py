"""A phase's inputs beside a participant's notebook, where its parameters cell reads them.

The scorer injects its own ``inputs_dir`` when it runs a notebook; in JupyterLab the notebook
uses the default of its ``parameters`` cell (``inputs_dir = "data"``), relative to its folder.
Easy start downloads the phase's public inputs (the files scoring runs see read-only, from
:class:`coop_client.client.CoopClient`) and unpacks them there, so that Run All works before the
first Submit. A folder that exists and is not empty is never touched (the participant may
have changed it), nothing is written outside the clone, and the data folder and the
predictions file go to the clone's ``.git/info/exclude``: local, never committed or pushed.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import posixpath
import re
import shutil
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from coop_client.client import CoopClient, CoopClientError
from coop_client.errors import CoopError
from coop_client.models import PARAMETERS_TAG
from coop_widgets.attach import Participant

INPUTS_PARAMETER = "inputs_dir"
PREDICTIONS_PARAMETER = "predictions_path"
DOWNLOAD_TIMEOUT = 120.0


class InputsError(CoopError):
    """The inputs cannot be put beside the notebook (the notebook still opens)."""


@dataclass(frozen=True)
class Inputs:
    """What Easy start did about a notebook's inputs: ``unpacked``, ``present`` (a folder with
    files already: left as it is), ``skipped`` (nothing to do) or ``failed`` (``message`` says why)."""

    challenge: str
    notebook: str  # paths in the clone
    folder: str
    state: str
    message: str = ""


def provide_inputs(
    clone: Path, notebook: PurePosixPath, participant: Participant | None, challenge_id: str, phase_id: str
) -> Inputs:
    """Unpack the phase's inputs where ``notebook`` (a path in ``clone``) reads them, unless that
    folder has files already; list the folder and the predictions file as excluded. Never raises."""
    folder: PurePosixPath | None = None

    def outcome(state: str, message: str = "") -> Inputs:
        return Inputs(challenge_id, str(notebook), str(folder) if folder else "", state, message)

    try:
        defaults = string_parameters((clone / notebook).read_bytes())
        if INPUTS_PARAMETER not in defaults:
            return outcome("skipped", f"its parameters cell gives {INPUTS_PARAMETER} no string default")
        folder = in_clone(clone, notebook, defaults[INPUTS_PARAMETER], INPUTS_PARAMETER)
        excluded = {folder: True}
        with contextlib.suppress(InputsError, KeyError):  # predictions outside the clone: not git's
            predictions = defaults[PREDICTIONS_PARAMETER]
            excluded[in_clone(clone, notebook, predictions, PREDICTIONS_PARAMETER)] = False
        exclude(clone, excluded)
        if has_files(clone / folder):
            return outcome("present", "the folder has files: left as it is")
        if not unpack(download(participant, challenge_id, phase_id), clone / folder, scratch=clone / ".git"):
            return outcome("present", "files appeared there meanwhile: left as they are")
        return outcome("unpacked")
    except InputsError as exc:
        return outcome("failed", exc.user_message)
    except OSError as exc:
        return outcome("failed", f"{type(exc).__name__}: {exc}")


def download(participant: Participant | None, challenge_id: str, phase_id: str) -> bytes:
    """The phase's inputs archive from the scorer, as the participant."""
    if participant is None:
        raise InputsError("there is no scorer to download them from (COOP_SERVICE_URL is not set)")
    token = participant.token or None
    try:
        with CoopClient(participant.service_url, token, timeout=DOWNLOAD_TIMEOUT) as client:
            return client.phase_inputs(challenge_id, phase_id)
    except CoopClientError as exc:
        message = f"the inputs of phase {phase_id!r} cannot be downloaded: {exc.user_message}"
        raise InputsError(message) from None


def string_parameters(notebook: bytes) -> dict[str, str]:
    """Names given a string literal at the top level of the notebook's ``parameters`` cell."""
    try:
        body = ast.parse(_parameters_source(notebook)).body
    except SyntaxError as exc:
        raise InputsError(f"the parameters cell is not plain Python (line {exc.lineno})") from None
    found: dict[str, str] = {}
    for node in body:
        targets: list[ast.expr]
        value: ast.expr | None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.update((target.id, value.value) for target in targets if isinstance(target, ast.Name))
    return found


def _parameters_source(notebook: bytes) -> str:
    try:
        for cell in json.loads(notebook)["cells"]:
            if cell["cell_type"] == "code" and PARAMETERS_TAG in cell["metadata"].get("tags", []):
                source = cell["source"]
                return "".join(source) if isinstance(source, list) else str(source)
    except (ValueError, LookupError, AttributeError, TypeError) as exc:
        raise InputsError(f"the notebook is not nbformat 4 JSON ({type(exc).__name__}: {exc})") from None
    raise InputsError(f"the notebook has no cell tagged {PARAMETERS_TAG!r}")


def in_clone(clone: Path, notebook: PurePosixPath, value: str, name: str) -> PurePosixPath:
    """``value`` (relative to the notebook's folder) as a path in the clone; refused when it is
    absolute, leaves the clone (``..``, a link), is the clone or its ``.git``, or holds the notebook."""
    given = PurePosixPath(value)
    if given.is_absolute():
        raise InputsError(f"{name} = {value!r} is an absolute path: only folders inside the clone are filled")
    path = PurePosixPath(posixpath.normpath(notebook.parent / given))
    outside = path.parts[:1] in {("..",), (".",), (".git",)} or notebook.is_relative_to(path)
    if outside or not (clone / path).resolve().is_relative_to(clone.resolve()):
        raise InputsError(f"{name} = {value!r} points outside the clone's folders: left alone")
    return path


def exclude(clone: Path, paths: dict[PurePosixPath, bool]) -> None:
    """List ``paths`` (``True``: a folder) in the clone's ``.git/info/exclude``, once each."""
    exclude_file = clone / ".git" / "info" / "exclude"
    text = exclude_file.read_text() if exclude_file.is_file() else ""
    known = set(text.splitlines())
    patterns = [f"/{_escaped(p)}{'/' if folder else ''}" for p, folder in paths.items()]
    new = [pattern for pattern in patterns if pattern not in known]
    if new:
        exclude_file.parent.mkdir(exist_ok=True)
        with open(exclude_file, "a", encoding="utf-8") as handle:
            handle.write(("\n" if text and not text.endswith("\n") else "") + "".join(f"{p}\n" for p in new))


def has_files(folder: Path) -> bool:
    if folder.exists() and not folder.is_dir():
        raise InputsError(f"{folder.name} exists and is not a folder: left as it is")
    return folder.is_dir() and any(folder.iterdir())


def unpack(archive: bytes, folder: Path, *, scratch: Path) -> bool:
    """Unpack the gzipped tar into ``folder`` if it is missing or empty (staged in ``scratch``,
    then renamed into place); ``False`` when files appeared there meanwhile."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="coop-inputs-", dir=scratch))
    try:
        try:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
                tar.extractall(staging, filter="data")  # no absolute paths, no links out, no devices
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise InputsError(f"the inputs archive cannot be unpacked: {exc}") from None
        os.chmod(staging, 0o755)  # mkdtemp made it private
        try:
            staging.rename(folder)  # replaces an empty folder, never one with files
        except OSError:
            if has_files(folder):
                return False
            raise
        return True
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _escaped(path: PurePosixPath) -> str:
    """A path as a gitignore pattern that matches only itself."""
    return re.sub(r"([\\*?\[])", r"\\\1", str(path))
