"""Choosing the sandbox a challenge's notebooks run in."""

from __future__ import annotations

import shutil
from collections.abc import Sequence

from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.exceptions import SandboxUnavailable
from scorer.scoring.sandbox.bwrap import BWRAP, BwrapRunner
from scorer.scoring.sandbox.runner import Runner, UnsandboxedRunner


def make_runner(
    mode: str, *, allow_unsandboxed: bool, bwrap: str = BWRAP, hidden_packages: Sequence[str] = ()
) -> Runner:
    """``mode`` is "bwrap", "none" or "auto" (bwrap when installed)."""
    if mode == "none" or (mode == "auto" and shutil.which(bwrap) is None):
        if not allow_unsandboxed:
            why = (
                "the scorer's sandbox setting is `none`" if mode == "none" else "bubblewrap is not installed"
            )
            raise SandboxUnavailable(
                f"refusing to run untrusted notebooks without a sandbox: {why}; install "
                "`bubblewrap`, or allow unsandboxed runs in challenge.yaml (allow_unsandboxed: true) "
                "or with --allow-unsandboxed"
            )
        return UnsandboxedRunner()
    return BwrapRunner(bwrap, hidden_packages)


def runner_for(settings: ScorerSettings, challenge: Challenge) -> Runner:
    """The sandbox this challenge's notebooks run in; :class:`SandboxUnavailable` when none
    is available and unsandboxed runs were not explicitly allowed."""
    return make_runner(
        settings.sandbox,
        allow_unsandboxed=settings.allow_unsandboxed or challenge.allow_unsandboxed,
        bwrap=settings.bwrap,
        hidden_packages=settings.hidden_packages,
    )
