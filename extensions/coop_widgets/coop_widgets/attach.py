"""Attach a participant to the challenges: one clone of every active challenge in ``<root>/<id>``.

A new clone gets the local branch ``work`` whose upstream is ``refs/heads/<user>/work`` on the
scorer (so a plain ``git push`` submits), the hub user as git identity, nbdime's notebook diff
and merge, and :mod:`coop_widgets.credential` as its only credential helper. An existing clone
is fetched and its settings refreshed; its branches, index and files are never touched.

Used at server start by :mod:`coop_widgets.server` and by ``coop attach`` (Kubernetes'
initContainer). The list of challenges comes from the scorer's API (:class:`CoopClient`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from coop_client.client import CoopClient
from coop_client.errors import CoopError, GitError
from coop_client.git import call, enable_nbdime, run
from coop_client.models import SLUG

#: Where clones live under the server's root folder (its home).
CLONES = "challenges"
BRANCH = "work"
EMAIL_DOMAIN = "users.coopetition.local"
GIT_TIMEOUT = 300.0


class AttachError(CoopError):
    """A challenge could not be cloned or fetched (the clone, if any, is left as it was)."""


@dataclass(frozen=True)
class Participant:
    """Whose server this is, and how it reaches the scorer (base URL ending in ``/``)."""

    name: str
    service_url: str
    token: str = ""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Participant | None:
        """From ``JUPYTERHUB_USER``, ``COOP_SERVICE_URL`` and ``JUPYTERHUB_API_TOKEN``; ``None``
        outside a hub-spawned server (no user or no scorer to attach to)."""
        name, url = environ.get("JUPYTERHUB_USER", ""), environ.get("COOP_SERVICE_URL", "")
        if not name or not url:
            return None
        return cls(name, url.rstrip("/") + "/", environ.get("JUPYTERHUB_API_TOKEN", ""))

    def clone_url(self, challenge_id: str) -> str:
        return f"{self.service_url}git/{challenge_id}.git"

    @property
    def upstream(self) -> str:
        return f"refs/heads/{self.name}/{BRANCH}"

    def environment(self) -> dict[str, str]:
        """What git (and so the credential helper) runs with: never a prompt."""
        return {
            **os.environ,
            "JUPYTERHUB_USER": self.name,
            "JUPYTERHUB_API_TOKEN": self.token,
            "COOP_SERVICE_URL": self.service_url,
            "GIT_TERMINAL_PROMPT": "0",
        }


@dataclass(frozen=True)
class Attached:
    """What happened to one challenge: ``cloned``, ``fetched`` or ``failed`` (with the reason)."""

    challenge: str
    action: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.action != "failed"


def credential_helper() -> str:
    """The ``credential.helper`` value: this interpreter, isolated (``-I``: no module from the
    clone's folder can shadow ours), running :mod:`coop_widgets.credential`."""
    return f"!{shlex.quote(sys.executable)} -I -m coop_widgets.credential"


def active_challenges(participant: Participant) -> list[str]:
    """The ids of the challenges the scorer publishes (:class:`CoopClientError` when it cannot say)."""
    with CoopClient(participant.service_url, participant.token or None, timeout=15.0) as client:
        return [challenge.id for challenge in client.challenges()]


def attach_all(root: Path, participant: Participant) -> list[Attached]:
    """Clone or fetch every active challenge under ``root``; one result per challenge."""
    return [attach(root, participant, challenge_id) for challenge_id in active_challenges(participant)]


def attach(root: Path, participant: Participant, challenge_id: str) -> Attached:
    """Clone ``challenge_id`` into ``root/<id>``, or fetch it when the clone exists."""
    try:
        if not re.fullmatch(SLUG, challenge_id):
            raise AttachError(f"{challenge_id!r} is not a challenge id")
        target = root / challenge_id
        if (target / ".git").is_dir():
            _configure(target, participant, challenge_id)
            _git(target, participant, "fetch", "--quiet", "origin")
            return Attached(challenge_id, "fetched")
        if target.exists():
            raise AttachError(f"{target} exists and is not a git clone: it was left as it is")
        _clone(root, participant, challenge_id)
        return Attached(challenge_id, "cloned")
    except AttachError as exc:
        return Attached(challenge_id, "failed", exc.user_message)
    except GitError as exc:  # the participant's own server: git's words help them
        return Attached(challenge_id, "failed", f"{exc.user_message}: {exc.stderr}")


def _clone(root: Path, participant: Participant, challenge_id: str) -> None:
    """Clone beside the target and rename, so an interrupted clone never looks like a clone."""
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".{challenge_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    # the clone has no config of its own yet: give git the helper for this command only
    helper = {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "credential.helper",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": "credential.helper",
        "GIT_CONFIG_VALUE_1": credential_helper(),
    }
    try:
        url = participant.clone_url(challenge_id)
        _git(root, participant, "clone", "--quiet", "--", url, partial.name, env=helper)
        _configure(partial, participant, challenge_id)
        own = f"refs/remotes/origin/{participant.name}/{BRANCH}"
        pushed_before = _optional(partial, participant, "rev-parse", "--verify", "--quiet", own)
        start = own if pushed_before else "origin/HEAD"
        _git(partial, participant, "checkout", "--quiet", "--no-track", "-B", BRANCH, start)
        _git(partial, participant, "config", f"branch.{BRANCH}.remote", "origin")
        _git(partial, participant, "config", f"branch.{BRANCH}.merge", participant.upstream)
        partial.rename(root / challenge_id)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _configure(clone: Path, participant: Participant, challenge_id: str) -> None:
    """The settings attach owns: credential helper, remote URL; identity, push mode and nbdime
    only where the participant has not set them."""
    expected = participant.clone_url(challenge_id)
    origin = _optional(clone, participant, "config", "--get", "remote.origin.url")
    if origin != expected:
        if not origin.endswith(f"/git/{challenge_id}.git"):
            raise AttachError(f"{clone} is a clone of {origin or 'nothing'}, not of {expected}: left as is")
        _git(clone, participant, "remote", "set-url", "origin", expected)  # the scorer moved
    _optional(clone, participant, "config", "--local", "--unset-all", "credential.helper")
    _git(clone, participant, "config", "--local", "--add", "credential.helper", "")  # drop global helpers
    _git(clone, participant, "config", "--local", "--add", "credential.helper", credential_helper())
    defaults = {
        "user.name": participant.name,
        "user.email": f"{participant.name}@{EMAIL_DOMAIN}",
        "push.default": "upstream",
    }
    for key, value in defaults.items():
        if not _local_setting(clone, participant, key):
            _git(clone, participant, "config", "--local", key, value)
    if not _local_setting(clone, participant, "diff.jupyternotebook.command"):
        try:
            enable_nbdime(clone)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise AttachError(f"nbdime's git integration could not be enabled in {clone}: {exc}") from None


def _git(cwd: Path, participant: Participant, *args: str, env: Mapping[str, str] | None = None) -> str:
    """git as the participant (their token for the credential helper); :class:`GitError` when it fails."""
    return run(cwd, *args, env={**participant.environment(), **(env or {})}, timeout=GIT_TIMEOUT).strip()


def _optional(cwd: Path, participant: Participant, *args: str) -> str:
    """git whose failure is an answer: what it prints, ``""`` when it fails (a setting or ref
    that is not there, nothing to unset)."""
    return call(cwd, *args, env=participant.environment(), timeout=GIT_TIMEOUT).out.strip()


def _local_setting(clone: Path, participant: Participant, key: str) -> str:
    return _optional(clone, participant, "config", "--local", "--get", key)
