"""Every error becomes JSON ``{"error": <user message>}`` with a fitting status; never a stack."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from scorer.exceptions import CoopError, InfrastructureError, SandboxUnavailable
from scorer.ledger.errors import (
    CodeHidden,
    PrivateScoresHidden,
    UnknownChallenge,
    UnknownLeaderboard,
    UnknownPhase,
    UnknownSubmission,
)
from scorer.service.auth import BadCredentials, HubUnavailable, MissingScope, NotAuthenticated

log = logging.getLogger("coop.service")

#: Checked in order; the first class an error is an instance of gives its status (else 400).
STATUS: list[tuple[type[CoopError], int]] = [
    (BadCredentials, 401),
    (NotAuthenticated, 401),
    (MissingScope, 403),
    (PrivateScoresHidden, 403),
    (CodeHidden, 403),
    (UnknownChallenge, 404),
    (UnknownPhase, 404),
    (UnknownLeaderboard, 404),
    (UnknownSubmission, 404),
    (HubUnavailable, 503),
    (SandboxUnavailable, 503),
    (InfrastructureError, 503),
]

#: Sent with every 401, so that git and browsers offer HTTP Basic.
CHALLENGE_HEADER = {"WWW-Authenticate": 'Basic realm="coop", charset="UTF-8"'}


def status_of(exc: CoopError) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 400)


def error_response(status: int, message: str) -> JSONResponse:
    headers = CHALLENGE_HEADER if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _coop_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CoopError)
    status = status_of(exc)
    (log.warning if status >= 500 else log.info)("%s: %s", status, exc.log_message)
    return error_response(status, exc.user_message)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    response = error_response(exc.status_code, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()
    )
    return error_response(422, f"invalid request: {problems}")


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal error of the scorer service (it has been logged)")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CoopError, _coop_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
