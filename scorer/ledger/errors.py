"""Errors raised by the ledger, under :class:`scorer.exceptions.CoopError`.

Candidates for :mod:`scorer.exceptions`; they live here until they are moved there.
"""

from __future__ import annotations

from datetime import datetime

from scorer.exceptions import CoopError


class LedgerError(CoopError):
    """Root of the ledger's errors."""


class UnknownChallenge(LedgerError):
    def __init__(self, challenge_id: str) -> None:
        self.challenge_id = challenge_id
        super().__init__(f"no challenge {challenge_id!r}")


class UnknownPhase(LedgerError):
    def __init__(self, challenge_id: str, phase_id: str) -> None:
        self.challenge_id = challenge_id
        self.phase_id = phase_id
        super().__init__(f"challenge {challenge_id!r} has no phase {phase_id!r}")


class UnknownLeaderboard(LedgerError):
    def __init__(self, phase_id: str, board_key: str) -> None:
        self.phase_id = phase_id
        self.board_key = board_key
        super().__init__(f"phase {phase_id!r} shows no leaderboard {board_key!r}")


class UnknownSubmission(LedgerError):
    def __init__(self, submission_id: int) -> None:
        self.submission_id = submission_id
        super().__init__(f"no submission {submission_id}")


class InvalidCommit(LedgerError):
    def __init__(self, commit_sha: str) -> None:
        self.commit_sha = commit_sha
        super().__init__(f"{commit_sha!r} is not a full commit SHA (40 hexadecimal digits)")


class AppendOnlyViolation(LedgerError):
    """Something tried to change or remove a row of an append-only (audit) table."""

    def __init__(self, table: str, operation: str) -> None:
        self.table = table
        self.operation = operation
        super().__init__(
            "the audit log cannot be changed",
            f"refused {operation} on append-only table {table!r}",
        )


class PrivateScoresHidden(LedgerError):
    """Private scores were asked for before the phase lets anyone but organisers see them."""

    def __init__(self, phase_id: str, visible_at: datetime | None, never: bool) -> None:
        self.phase_id = phase_id
        self.visible_at = visible_at
        if never:
            when = "are only shown to the organisers"
        elif visible_at is None:
            when = "become visible when the phase ends (no end date is set yet)"
        else:
            when = f"become visible on {visible_at.isoformat(timespec='minutes')}"
        super().__init__(f"private scores of phase {phase_id!r} {when}")


class CodeHidden(LedgerError):
    """A solution's notebook was asked for while the phase keeps code closed."""

    def __init__(self, phase_id: str, open_at: datetime | None) -> None:
        self.phase_id = phase_id
        self.open_at = open_at
        when = (
            f"until {open_at.isoformat(timespec='minutes')}" if open_at is not None else "during this phase"
        )
        super().__init__(f"solutions of phase {phase_id!r} are visible only to their authors {when}")
