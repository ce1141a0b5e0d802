"""The challenge repositories the service serves, on disk: ``<home>/git/<id>.git``, bare clones
of the published repositories, with the settings and hooks that make them servable (the hooks
are :mod:`scorer.ingest.hook_script`'s, run by path with the standard library only). Serving
them over HTTP is :mod:`scorer.service.git_http`'s."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from coop_client.git import enable_nbdime, run
from scorer.challenge.spec import SLUG
from scorer.exceptions import RepositoryError
from scorer.ingest import hook_script

HOOK = """#!/bin/sh
# Installed by Coopetition (scorer.ingest.served.serve_repository): {what}.
exec {python} -I -S {script} {hook}
"""
#: The hooks of a served repository: the push policy, then push-to-score.
HOOKS = {"pre-receive": "the push policy", "post-receive": "push-to-score"}


def git_root(home: Path) -> Path:
    return Path(home) / "git"


def repository_path(home: Path, challenge_id: str) -> Path | None:
    """The served repository of ``challenge_id``; ``None`` when there is none (or the id is odd)."""
    if not re.fullmatch(SLUG, challenge_id):
        return None
    path = git_root(home) / f"{challenge_id}.git"
    return path if (path / "HEAD").is_file() else None


def serve_repository(home: Path, challenge_id: str, source: str | Path) -> Path:
    """Create (a bare clone of ``source``) or update ``<home>/git/<id>.git`` and install the hook.

    Updating fetches ``source``'s branches and tags without forcing: a published branch that
    no longer fast-forwards is refused rather than overwriting pushed work.
    """
    if not re.fullmatch(SLUG, challenge_id):
        raise RepositoryError(f"{challenge_id!r} is not a challenge id")
    target = git_root(home) / f"{challenge_id}.git"
    if not (target / "HEAD").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        run(None, "clone", "--bare", "--quiet", "--", str(source), str(target))
    else:
        refspecs = ("refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
        run(target, "fetch", "--quiet", "--", str(source), *refspecs, bare=True)
    settings = {
        "http.receivepack": "true",
        "receive.denyNonFastForwards": "false",  # the policy decides (organisers may force)
        "receive.denyDeletes": "false",
        "receive.fsckObjects": "true",
        "core.hooksPath": str((target / "hooks").resolve()),  # a global core.hooksPath never wins
    }
    for key, value in settings.items():
        run(target, "config", key, value, bare=True)
    enable_nbdime(target)
    (target / "hooks").mkdir(exist_ok=True)
    for name, what in HOOKS.items():
        hook = target / "hooks" / name
        script = shlex.quote(str(Path(hook_script.__file__).resolve()))
        hook.write_text(HOOK.format(what=what, python=shlex.quote(sys.executable), script=script, hook=name))
        hook.chmod(0o755)
    return target
