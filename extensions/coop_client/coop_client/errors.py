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
