"""Choosing the sandbox a challenge's notebooks run in.

The ``sandbox`` setting is a :class:`~scorer.scoring.sandbox.runner.Runner` class, an import
string, or a name in the ``coop.sandboxes`` entry points: ``bwrap`` (:class:`BwrapRunner`),
``none`` (:class:`UnsandboxedRunner`) or ``auto`` (:class:`AutoRunner`).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.exceptions import SandboxUnavailable
from scorer.registry import Registry
from scorer.scoring.sandbox.bwrap import BWRAP, BwrapRunner
from scorer.scoring.sandbox.runner import Runner, UnsandboxedRunner

SANDBOXES = "coop.sandboxes"


class AutoRunner(Runner):
    """The ``auto`` sandbox: stands for :class:`BwrapRunner` when bubblewrap is installed, else
    for :class:`UnsandboxedRunner` (refused unless allowed). :func:`make_runner` replaces it."""


def make_runner(
    kind: type[Runner] | str,
    *,
    allow_unsandboxed: bool,
    bwrap: str = BWRAP,
    hidden_packages: Sequence[str] = (),
) -> Runner:
    """A runner of class ``kind`` (or named so in ``coop.sandboxes``); other runner classes than
    bubblewrap's are built without arguments."""
    if isinstance(kind, str):
        kind = Registry("sandbox", SANDBOXES).get(kind)
    why = "the scorer's sandbox setting is `none`"
    if issubclass(kind, AutoRunner):
        kind = BwrapRunner if shutil.which(bwrap) else UnsandboxedRunner
        why = "bubblewrap is not installed"
    if not kind.sandboxed and not allow_unsandboxed:
        raise SandboxUnavailable(
            f"refusing to run untrusted notebooks without a sandbox: {why}; install "
            "`bubblewrap`, or allow unsandboxed runs in challenge.yaml (allow_unsandboxed: true) "
            "or with --allow-unsandboxed"
        )
    if issubclass(kind, BwrapRunner):
        return kind(bwrap, hidden_packages)
    return kind()


def runner_for(settings: ScorerSettings, challenge: Challenge) -> Runner:
    """The sandbox this challenge's notebooks run in; :class:`SandboxUnavailable` when none
    is available and unsandboxed runs were not explicitly allowed."""
    return make_runner(
        settings.sandbox,
        allow_unsandboxed=settings.allow_unsandboxed or challenge.allow_unsandboxed,
        bwrap=settings.bwrap,
        hidden_packages=settings.hidden_packages,
    )
