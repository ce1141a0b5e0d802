"""Every error the scorer raises, under one root.

Each error carries two messages: ``user_message`` is what a participant or organiser
sees (no paths of ours, no stack), ``log_message`` is what the log keeps.
Failures of a submission carry a ``failure_class`` from :class:`FailureClass`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from coop_client.errors import CoopError as CoopError  # the root, shared with kernels


class FailureClass(StrEnum):
    """Why a submission did not score, in words a participant understands."""

    TIMEOUT = "timeout"
    EXCEPTION = "exception"
    MEMORY_EXCEEDED = "memory_exceeded"
    PREDICTIONS_MISSING = "predictions_missing"
    PREDICTIONS_INVALID = "predictions_invalid"
    SCORING_ERROR = "scoring_error"
    INFRASTRUCTURE = "infrastructure"
    INVALID_NOTEBOOK = "invalid_notebook"
    POLICY = "policy"


@dataclass(frozen=True)
class SpecProblem:
    """One problem found in a challenge specification."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


class SpecError(CoopError):
    """A challenge specification is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        text = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the challenge:\n{text}")


class ExpressionError(CoopError):
    """A leaderboard expression does not parse or names something unknown."""

    def __init__(self, message: str, expression: str, position: int | None = None) -> None:
        self.expression = expression
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where} in expression {expression!r}")


class RepositoryError(CoopError):
    """A repository, commit or path cannot be read."""


class SandboxUnavailable(CoopError):
    """No sandbox is available and unsandboxed runs were not explicitly allowed."""


class SubmissionFailure(CoopError):
    """A submission ended without a score; ``failure_class`` says why."""

    failure_class: FailureClass = FailureClass.EXCEPTION
    #: Infrastructure failures are retried and never blamed on the participant.
    retryable: bool = False

    def __init__(
        self,
        user_message: str,
        log_message: str | None = None,
        *,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(user_message, log_message)
        self.details = details or {}


class InvalidNotebook(SubmissionFailure):
    failure_class = FailureClass.INVALID_NOTEBOOK


class ExecutionTimeout(SubmissionFailure):
    failure_class = FailureClass.TIMEOUT


class NotebookException(SubmissionFailure):
    failure_class = FailureClass.EXCEPTION


class MemoryExceeded(SubmissionFailure):
    failure_class = FailureClass.MEMORY_EXCEEDED


class PredictionsMissing(SubmissionFailure):
    failure_class = FailureClass.PREDICTIONS_MISSING


class PredictionsInvalid(SubmissionFailure):
    failure_class = FailureClass.PREDICTIONS_INVALID


class ScoringError(SubmissionFailure):
    failure_class = FailureClass.SCORING_ERROR


class InfrastructureError(SubmissionFailure):
    failure_class = FailureClass.INFRASTRUCTURE
    retryable = True


class PolicyRefusal(SubmissionFailure):
    """A submission refused by the phase's rules; ``code`` is a short reason code."""

    failure_class = FailureClass.POLICY

    def __init__(self, code: str, user_message: str, **kwargs: object) -> None:
        super().__init__(user_message, **kwargs)  # type: ignore[arg-type]
        self.code = code


FAILURE_TYPES: dict[FailureClass, type[SubmissionFailure]] = {
    cls.failure_class: cls
    for cls in (
        InvalidNotebook,
        ExecutionTimeout,
        NotebookException,
        MemoryExceeded,
        PredictionsMissing,
        PredictionsInvalid,
        ScoringError,
        InfrastructureError,
        PolicyRefusal,
    )
}
