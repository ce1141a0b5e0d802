"""Every error the scorer raises, under one root.

Each error carries two messages: ``user_message`` is what a participant or organiser
sees (no paths of ours, no stack), ``log_message`` is what the log keeps; ``code`` is a short
reason code and ``http_status`` the status the service answers with (one handler,
:mod:`scorer.service.errors`, turns any of them into a response). Every class names its own
status, so that a new error is never a 500 by accident.
Failures of a submission carry a ``failure_class`` from :class:`FailureClass`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

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

    http_status = 422

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        text = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the challenge:\n{text}")


class ExpressionError(CoopError):
    """A leaderboard expression does not parse or names something unknown."""

    http_status = 400

    def __init__(self, message: str, expression: str, position: int | None = None) -> None:
        self.expression = expression
        self.position = position
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where} in expression {expression!r}")


class RepositoryError(CoopError):
    """A repository, commit or path cannot be read."""

    http_status = 400


class SandboxUnavailable(CoopError):
    """No sandbox is available and unsandboxed runs were not explicitly allowed."""

    http_status = 503


class ServiceStarting(CoopError):
    """The service has just started and is still preparing what the request needs."""

    http_status = 503


#: The ``details`` of a :class:`SubmissionFailure` a failed run's provenance keeps, all drawn
#: from the participant's code: the error's message, its IPython traceback (which shows the
#: source lines) and the kernel's log. Only those who may read the code may read them.
FAILURE_DETAILS = ("ename", "evalue", "traceback", "log_tail")


class SubmissionFailure(CoopError):
    """A submission ended without a score; ``failure_class`` says why."""

    http_status = 400
    failure_class: FailureClass = FailureClass.EXCEPTION
    #: Infrastructure failures are retried and never blamed on the participant.
    retryable: bool = False

    def __init__(
        self,
        user_message: str,
        log_message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(user_message, log_message)
        self.details = details or {}


class InvalidNotebook(SubmissionFailure):
    http_status = 400
    failure_class = FailureClass.INVALID_NOTEBOOK


class ExecutionTimeout(SubmissionFailure):
    http_status = 400
    failure_class = FailureClass.TIMEOUT


class NotebookException(SubmissionFailure):
    http_status = 400
    failure_class = FailureClass.EXCEPTION


class MemoryExceeded(SubmissionFailure):
    http_status = 400
    failure_class = FailureClass.MEMORY_EXCEEDED


class PredictionsMissing(SubmissionFailure):
    http_status = 400
    failure_class = FailureClass.PREDICTIONS_MISSING


class PredictionsInvalid(SubmissionFailure):
    http_status = 400
    failure_class = FailureClass.PREDICTIONS_INVALID


class ScoringError(SubmissionFailure):
    http_status = 400
    failure_class = FailureClass.SCORING_ERROR


class InfrastructureError(SubmissionFailure):
    http_status = 503
    failure_class = FailureClass.INFRASTRUCTURE
    retryable = True


class PolicyRefusal(SubmissionFailure):
    """A submission refused by the phase's rules; ``code`` is a short reason code."""

    http_status = 403
    failure_class = FailureClass.POLICY

    def __init__(
        self,
        code: str,
        user_message: str,
        log_message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(user_message, log_message, details=details)
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


# --- challenges and their data ---------------------------------------------------------------


class PhaseDataMissing(CoopError):
    """A phase's data has not been prepared (``coop challenge prepare``)."""

    http_status = 404


class PhaseNotStarted(CoopError):
    """Something of a phase is published when it starts, and it has not started."""

    http_status = 403


# --- challenge environments ------------------------------------------------------------------


class RequirementsInvalid(CoopError):
    """A challenge's requirements file has errors; ``problems`` lists them with their lines."""

    http_status = 422

    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        listed = "\n".join(f"{file}: {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the requirements file:\n{listed}")


class EnvironmentBuildFailed(CoopError):
    """A challenge environment could not be built: ``package`` names the package at fault (or
    ``None``), ``log_tail`` the end of the installer's output. Nothing is left half-built and the
    environment that served before still does."""

    http_status = 422

    def __init__(self, package: str | None, message: str, log_tail: str = "") -> None:
        self.package = package
        self.log_tail = log_tail
        tail = f"\n{log_tail}" if log_tail else ""
        super().__init__(message, f"{message}{tail}")


class EnvironmentNotPrepared(InfrastructureError):
    """A phase declares an environment that is not built here (``coop challenge prepare``)."""

    http_status = 503


# --- the ledger -------------------------------------------------------------------------------


class LedgerError(CoopError):
    """Root of the ledger's errors."""

    http_status = 500


class UnknownChallenge(LedgerError):
    http_status = 404

    def __init__(self, challenge_id: str) -> None:
        self.challenge_id = challenge_id
        super().__init__(f"no challenge {challenge_id!r}")


class UnknownPhase(LedgerError):
    http_status = 404

    def __init__(self, challenge_id: str, phase_id: str) -> None:
        self.challenge_id = challenge_id
        self.phase_id = phase_id
        super().__init__(f"challenge {challenge_id!r} has no phase {phase_id!r}")


class UnknownLeaderboard(LedgerError):
    http_status = 404

    def __init__(self, phase_id: str, board_key: str) -> None:
        self.phase_id = phase_id
        self.board_key = board_key
        super().__init__(f"phase {phase_id!r} shows no leaderboard {board_key!r}")


class UnknownSubmission(LedgerError):
    http_status = 404

    def __init__(self, submission_id: int) -> None:
        self.submission_id = submission_id
        super().__init__(f"no submission {submission_id}")


class NotebookNotRun(LedgerError):
    """A submission has no executed notebook (yet)."""

    http_status = 404

    def __init__(self, submission_id: int) -> None:
        self.submission_id = submission_id
        super().__init__(f"submission {submission_id} has no executed notebook (not run yet)")


class InvalidCommit(LedgerError):
    http_status = 400

    def __init__(self, commit_sha: str) -> None:
        self.commit_sha = commit_sha
        super().__init__(f"{commit_sha!r} is not a full commit SHA (40 hexadecimal digits)")


class AppendOnlyViolation(LedgerError):
    """Something tried to change or remove a row of an append-only (audit) table: a bug of ours."""

    http_status = 500

    def __init__(self, table: str, operation: str) -> None:
        self.table = table
        self.operation = operation
        super().__init__(
            "the audit log cannot be changed",
            f"refused {operation} on append-only table {table!r}",
        )


class DuplicateDelivery(LedgerError):
    """Another scorer process recorded the same forge webhook delivery first."""

    http_status = 409

    def __init__(self, forge: str, delivery_id: str) -> None:
        self.forge = forge
        self.delivery_id = delivery_id
        super().__init__(f"delivery {delivery_id} from {forge} is being processed already")


class PrivateScoresHidden(LedgerError):
    """Private scores were asked for before the phase lets anyone but organisers see them."""

    http_status = 403

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

    http_status = 403

    def __init__(self, phase_id: str, open_at: datetime | None) -> None:
        self.phase_id = phase_id
        self.open_at = open_at
        when = (
            f"until {open_at.isoformat(timespec='minutes')}" if open_at is not None else "during this phase"
        )
        super().__init__(f"solutions of phase {phase_id!r} are visible only to their authors {when}")


class InvalidReward(LedgerError):
    """A grant or compensation the reward ledger cannot record as asked (a bug of the rewarder
    side, never a participant's doing)."""

    http_status = 500


class UnknownReward(LedgerError):
    http_status = 404

    def __init__(self, reward_id: int) -> None:
        self.reward_id = reward_id
        super().__init__(f"no reward {reward_id}")


class LikeRefused(LedgerError):
    """A like the rules refuse; ``code`` says which rule: ``own-submission``, ``not-scored``
    or ``code-closed``."""

    http_status = 403

    def __init__(self, code: str, submission_id: int, user_message: str) -> None:
        super().__init__(user_message)
        self.code = code
        self.submission_id = submission_id


# --- who is calling (the service's authentication) -------------------------------------------


class AuthError(CoopError):
    """Root of the service's authentication and authorisation errors."""

    http_status = 401


class BadCredentials(AuthError):
    """The request carried credentials that identify nobody."""

    http_status = 401


class NotAuthenticated(AuthError):
    """The route needs a caller and the request carried no credentials."""

    http_status = 401


class MissingScope(AuthError):
    """The caller lacks a scope the route needs."""

    http_status = 403

    def __init__(self, scope: str, name: str) -> None:
        self.scope = scope
        super().__init__(f"{name} lacks the scope {scope!r} needed here")


class HubUnavailable(AuthError):
    """JupyterHub could not be asked about a token (never blamed on the caller)."""

    http_status = 503


# --- forge webhooks ---------------------------------------------------------------------------


class ForgeError(CoopError):
    """Root of the errors of a webhook delivery."""

    http_status = 400


class SignatureMismatch(ForgeError):
    """The delivery is unsigned, or signed with no secret the scorer holds."""

    http_status = 401


class MalformedDelivery(ForgeError):
    """A header is missing or the payload is not the forge's push payload."""

    http_status = 400


class ForgeUnreachable(ForgeError):
    """The pushed commit cannot be fetched from the forge now (the forge may retry)."""

    http_status = 502


class WebhookSettingsError(CoopError):
    """The scorer's own webhook settings cannot be read (never the forge's fault)."""

    http_status = 503


# --- organisers' changes ----------------------------------------------------------------------


class OrganiseError(CoopError):
    """An organiser's change that cannot be made as asked."""

    http_status = 400


class ConcurrentChange(OrganiseError):
    """The organiser ref moved since the change was prepared: review it again."""

    http_status = 409


class NotServed(OrganiseError):
    """The challenge has no served repository to commit to."""

    http_status = 404


class AlreadyInvalidated(OrganiseError):
    """A submission invalidated a second time: the first invalidation stands."""

    http_status = 409

    def __init__(self, submission_id: int, at: datetime, actor: str) -> None:
        self.submission_id = submission_id
        self.at = at
        self.actor = actor
        super().__init__(
            f"submission {submission_id} was invalidated already, on "
            f"{at.isoformat(timespec='seconds')} by {actor}"
        )


class AlreadySettled(OrganiseError):
    """A phase settled a second time: its rewards were closed by the first settlement."""

    http_status = 409

    def __init__(
        self, challenge_id: str, phase_id: str, settlement_id: int, at: datetime, actor: str
    ) -> None:
        self.challenge_id = challenge_id
        self.phase_id = phase_id
        self.settlement_id = settlement_id
        super().__init__(
            f"phase {phase_id!r} of {challenge_id!r} was settled already (settlement {settlement_id}, "
            f"on {at.isoformat(timespec='seconds')} by {actor})"
        )


# --- federation: signed credentials from other instances -----------------------------------


class CredentialRefused(CoopError):
    """A credential another instance issued, refused on import; nothing of it is stored. Each
    subclass is one rule (its ``code`` says which)."""

    http_status = 422


class MalformedCredential(CredentialRefused):
    """Not a VC-JWT of an Open Badges credential (bad encoding, header or claims)."""

    http_status = 422


class UntrustedIssuer(CredentialRefused):
    """The issuer is not among the instances this one trusts (``trusted_instances``)."""

    http_status = 403


class CredentialTampered(CredentialRefused):
    """The signature does not verify against the issuer's published keys (changed payload,
    another key)."""

    http_status = 422


class CredentialExpired(CredentialRefused):
    """Past its ``exp``, or not yet valid (``nbf``)."""

    http_status = 422


class ForeignSubject(CredentialRefused):
    """The credential names someone other than the caller (or no link of theirs)."""

    http_status = 403


class CredentialReplayed(CredentialRefused):
    """This issuer's credential (its ``jti``) was imported already."""

    http_status = 409


class IssuerUnreachable(CredentialRefused):
    """The issuer's JWKS could not be fetched or read."""

    http_status = 502


class UnknownLinkCode(CoopError):
    """A link code that this instance never issued, or that expired."""

    http_status = 404


# --- people search -----------------------------------------------------------------------------


class InvalidSearch(CoopError):
    """A people search's parameters are out of bounds (a weight, the page size, a percentile)
    or do not parse; an unknown skill is no error (an empty result with a note)."""

    http_status = 422


# --- profiles ----------------------------------------------------------------------------------


class UnknownPerson(CoopError):
    """No such person, or one whose profile is hidden from the caller (the same answer, so
    that a hidden profile cannot be told from a missing one)."""

    http_status = 404

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no profile of {name!r}")


class InvalidOrcid(CoopError):
    """An ORCID iD that is not four groups of four digits or whose checksum is wrong."""

    http_status = 422

    def __init__(self, value: str, why: str) -> None:
        self.value = value
        super().__init__(f"invalid ORCID iD {value[:40]!r}: {why}")


class OwnCredentialsOnly(CoopError):
    """A person's credentials exported by someone else: only they may export theirs."""

    http_status = 403


class RateLimited(CoopError):
    """Asked again too soon: ``retry_after`` is how many seconds until it may be (the service
    sends it as a ``Retry-After`` header)."""

    http_status = 429
    retry_after: int = 1  # whole seconds, at least one; each refusal sets its own

    def __init__(self, user_message: str, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(user_message)


class TooManyLinkCodes(RateLimited):
    """A person holds as many unexpired link codes as they may (``link_codes_live``)."""

    http_status = 429


class LinkCodeTooSoon(RateLimited):
    """A link code asked for sooner than ``link_code_interval`` after the person's last one."""

    http_status = 429
