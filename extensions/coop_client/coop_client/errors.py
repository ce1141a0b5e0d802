"""The root of every Coopetition error, shared by the scorer and the code in kernels."""

from __future__ import annotations

import re
from typing import ClassVar


class CoopError(Exception):
    """Root of every error raised by Coopetition.

    ``user_message`` is what a participant or organiser sees (no paths of ours, no stack),
    ``log_message`` is what the log keeps. ``code`` is a short reason code for programs (the
    class's name in kebab case unless an error sets its own). ``http_status`` is the status the
    scorer's service answers with when a request ends in this error: every subclass sets its own,
    the root's 500 says "our fault" for an error nobody classified.
    """

    http_status: ClassVar[int] = 500

    def __init__(self, user_message: str, log_message: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.log_message = log_message or user_message
        self.code = _kebab(type(self).__name__)


def _kebab(name: str) -> str:
    """``UnknownChallenge`` → ``unknown-challenge``; ``HTTPError`` → ``http-error``."""
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|[A-Z]+|\d+", name)
    return "-".join(word.lower() for word in words)


class GitError(CoopError):
    """A git command failed (:mod:`coop_client.git`): ``command`` is its argv, ``exit_code`` its
    exit status (``None`` when git could not run or did not finish), ``stderr`` what it said.
    ``user_message`` names the subcommand only; the rest goes to ``log_message``."""

    http_status = 500  # our own git failed: never the caller's doing

    def __init__(
        self,
        user_message: str,
        log_message: str | None = None,
        *,
        command: tuple[str, ...] = (),
        exit_code: int | None = None,
        stderr: str = "",
    ) -> None:
        super().__init__(user_message, log_message)
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr
