"""The root of every Coopetition error, shared by the scorer and the code in kernels."""

from __future__ import annotations


class CoopError(Exception):
    """Root of every error raised by Coopetition.

    ``user_message`` is what a participant or organiser sees (no paths of ours, no stack),
    ``log_message`` is what the log keeps.
    """

    def __init__(self, user_message: str, log_message: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.log_message = log_message or user_message


class GitError(CoopError):
    """A git command failed (:mod:`coop_client.git`): ``command`` is its argv, ``exit_code`` its
    exit status (``None`` when git could not run or did not finish), ``stderr`` what it said.
    ``user_message`` names the subcommand only; the rest goes to ``log_message``."""

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
