"""The one error map: every error becomes JSON ``{"error": <user message>, "code": <reason code>}``
with its status; never a stack.

Routes only raise. A :class:`~scorer.exceptions.CoopError` brings its own status
(``http_status``), the message the caller reads (``user_message``), the one the log keeps
(``log_message``) and a short reason code (``code``); a rate limit adds ``Retry-After``.
Starlette's own errors (no such route, wrong method) and FastAPI's validation errors (422) keep
their statuses; anything else is a 500 with a generic message, its traceback logged.

Under ``/git/`` the same message goes as one line of ``text/plain``: git shows such a body to
the user (as ``remote: <message>``) and ignores any other kind.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException

from scorer.exceptions import CoopError, RateLimited

log = logging.getLogger("coop.service")

#: Sent with every 401, so that git and browsers offer HTTP Basic.
CHALLENGE_HEADER = {"WWW-Authenticate": 'Basic realm="coop", charset="UTF-8"'}
#: Paths (under the service's prefix) whose errors are plain text: git's smart HTTP.
PLAIN_TEXT_PATHS = ("/git/",)
INTERNAL_ERROR = "internal error of the scorer service (it has been logged)"


def _reply(request: Request, status: int, message: str, code: str) -> Response:
    """The error as JSON, or as one line of text under a plain-text path; a 401 asks for HTTP Basic."""
    headers = CHALLENGE_HEADER if status == 401 else None
    if request.url.path.startswith(request.app.state.plain_text_paths):
        line = " ".join(message.split())
        return PlainTextResponse(f"{line}\n", status_code=status, headers=headers)
    return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)


async def _coop_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CoopError)
    status = exc.http_status
    (log.warning if status >= 500 else log.info)(
        "%s %s → %s %s: %s", request.method, request.url.path, status, exc.code, exc.log_message
    )
    response = _reply(request, status, exc.user_message, exc.code)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
    response = _reply(request, exc.status_code, str(exc.detail), code)
    response.headers.update(exc.headers or {})
    return response


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()
    )
    return _reply(request, 422, f"invalid request: {problems}", "invalid-request")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", exc_info=exc)
    return _reply(request, 500, INTERNAL_ERROR, "internal-error")


def install(app: FastAPI, *, prefix: str = "") -> None:
    """Answer every error of ``app`` (routes under ``prefix``) in the form its client reads."""
    app.state.plain_text_paths = tuple(f"{prefix}{path}" for path in PLAIN_TEXT_PATHS)
    app.add_exception_handler(CoopError, _coop_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unexpected)
