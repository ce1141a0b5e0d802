"""Every error becomes JSON ``{"error": <user message>}`` with a fitting status; never a stack.

Under ``/git/`` the same message goes as one line of ``text/plain``: git shows such a body to
the user (as ``remote: <message>``) and ignores any other kind.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
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
#: Paths (under the service's prefix) whose errors are plain text: git's smart HTTP.
PLAIN_TEXT_PATHS = ("/git/",)


def status_of(exc: CoopError) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 400)


def error_response(status: int, message: str, *, plain: bool = False) -> Response:
    """The error as JSON, or as one line of text when ``plain``; a 401 asks for HTTP Basic."""
    headers = CHALLENGE_HEADER if status == 401 else None
    if plain:
        line = " ".join(message.split())
        return PlainTextResponse(f"{line}\n", status_code=status, headers=headers)
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _reply(request: Request, status: int, message: str) -> Response:
    plain = request.url.path.startswith(request.app.state.plain_text_paths)
    return error_response(status, message, plain=plain)


async def _coop_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CoopError)
    status = status_of(exc)
    (log.warning if status >= 500 else log.info)("%s: %s", status, exc.log_message)
    return _reply(request, status, exc.user_message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = _reply(request, exc.status_code, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()
    )
    return _reply(request, 422, f"invalid request: {problems}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return _reply(request, 500, "internal error of the scorer service (it has been logged)")


def install(app: FastAPI, *, prefix: str = "") -> None:
    """Answer every error of ``app`` (routes under ``prefix``) in the form its client reads."""
    app.state.plain_text_paths = tuple(f"{prefix}{path}" for path in PLAIN_TEXT_PATHS)
    app.add_exception_handler(CoopError, _coop_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
