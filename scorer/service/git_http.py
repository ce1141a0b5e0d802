"""The challenge repositories over git's smart HTTP: the real ``git http-backend`` as CGI.

``/git/<challenge>.git/…`` (under the service's prefix) is served from ``<home>/git/<id>.git``.
Clone and fetch (``git-upload-pack``) are anonymous; push (``git-receive-pack``) needs a caller
holding ``custom:coop:submit`` or ``custom:coop:organise`` (HTTP Basic: hub username + API
token). The repository's hooks (:mod:`scorer.ingest.hook_script`, standard library only) hand
the push back to the service on loopback, to ``/git/_hooks/{hook}`` with a token made when the
service starts: pre-receive has it apply the push policy (:mod:`scorer.ingest.hooks`) with the
pusher the service authenticated, post-receive has it record and queue the push it spooled
(:mod:`scorer.ingest.spool`). The repositories on disk and their hooks are
:mod:`scorer.ingest.served`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from scorer.exceptions import (
    CoopError,
    MissingScope,
    NotAuthenticated,
    ServiceStarting,
    UnknownChallenge,
)
from scorer.facade import CoopAPI
from scorer.ingest import hook_script, spool
from scorer.ingest.hooks import Where, hidden_refs_config, pre_receive_answer
from scorer.ingest.policy import Pusher
from scorer.ingest.served import git_root, repository_path
from scorer.ledger.queries import code_visible
from scorer.service.auth import ORGANISE, SUBMIT, Identity
from scorer.service.deps import Api, Viewer

log = logging.getLogger("coop.service.git")
router = APIRouter(tags=["git"], include_in_schema=False)

RECEIVE_PACK = "git-receive-pack"
#: Request headers passed to ``git http-backend`` as CGI variables.
CGI_HEADERS = {
    "content-type": "CONTENT_TYPE",
    "content-length": "CONTENT_LENGTH",
    "content-encoding": "HTTP_CONTENT_ENCODING",
    "git-protocol": "HTTP_GIT_PROTOCOL",
}
#: Seconds a git request made while the service starts waits for the served repositories.
READY_WAIT = 120.0
CHUNK = 64 * 1024
STDERR_KEPT = 16 * 1024

HOOKS_PATH = "/git/_hooks"


def is_push(path: str, query: str) -> bool:
    """Whether the request is (part of) a push: anything naming ``git-receive-pack``."""
    return RECEIVE_PACK in path or RECEIVE_PACK in query


def may_push(who: Identity | None) -> Identity:
    if who is None:
        raise NotAuthenticated("git push needs your hub username and a JupyterHub API token (HTTP Basic)")
    if not (who.has(SUBMIT) or who.has(ORGANISE)):
        raise MissingScope(SUBMIT, who.name)
    return who


def cgi_environment(root: Path, path_info: str, request: Request, who: Identity | None) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", "/usr/bin:/bin")]),
        "HOME": str(root),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": f"HTTP/{request.scope.get('http_version', '1.1')}",
        "REQUEST_METHOD": request.method,
        "PATH_INFO": path_info,
        "QUERY_STRING": request.url.query,
        "REMOTE_ADDR": request.client.host if request.client else "",
    }
    for header, variable in CGI_HEADERS.items():
        value = request.headers.get(header)
        if value is not None:
            env[variable] = value
    if "HTTP_GIT_PROTOCOL" in env:
        env["GIT_PROTOCOL"] = env["HTTP_GIT_PROTOCOL"]
    if is_push(path_info, request.url.query):  # what the hooks need
        settings = request.app.state.coop_api.settings
        base = service_url(request, path_info)
        env["COOP_HOME"] = str(Path(settings.home).resolve())
        env["COOP_STATUS_URL"] = base
        env["COOP_HOOK_URL"] = hooks_url(request, base)
        env["COOP_HOOK_TOKEN"] = hook_token(request)
    if who is not None:
        env["REMOTE_USER"] = who.name
        env["COOP_PUSHER"] = who.name
        env["COOP_ORGANISER"] = "1" if who.has(ORGANISE) else "0"
    return env


def hidden_refs(api: CoopAPI, challenge_id: str, who: Identity | None, now: datetime) -> list[str]:
    """``uploadpack.hideRefs`` values for ``who`` (see :func:`hidden_from`)."""
    return hidden_from(
        api, challenge_id, who.name if who else None, who is not None and who.has(ORGANISE), now
    )


def hidden_from(
    api: CoopAPI, challenge_id: str, name: str | None, organiser: bool, now: datetime
) -> list[str]:
    """``uploadpack.hideRefs`` values: while the current phase keeps code closed, a participant
    fetches only the organiser's branch and their own namespace (and anonymous callers must
    log in); hidden commits cannot be fetched by SHA, nor built on by a push, either."""
    try:
        challenge = api.challenge(challenge_id)
    except CoopError:
        return []  # not registered: nothing says the code is closed
    phase = challenge.current_phase(now) or max(challenge.phases, key=lambda p: p.start)
    if code_visible(phase, now=now, viewer_is_author=False, viewer_is_organiser=organiser):
        return []
    hidden = ["refs/heads", f"!refs/heads/{challenge.organiser.ref}"]
    if name is not None:
        hidden.append(f"!refs/heads/{name}")
    return hidden


def service_url(request: Request, path_info: str) -> str:
    """The service's own base URL (prefix included) as this request reached it."""
    url = str(request.url.replace(query="", fragment=""))
    suffix = "/git" + path_info
    return url[: -len(suffix)] if url.endswith(suffix) else str(request.base_url).rstrip("/")


def hooks_url(request: Request, base: str) -> str:
    """Where the hooks reach this service: the socket the request came in on (loopback when the
    service listens there), with the prefix of ``base``."""
    host, port = request.scope.get("server") or ("127.0.0.1", 80)
    host = f"[{host}]" if ":" in str(host) else host
    return f"http://{host}:{port}{urlsplit(base).path.rstrip('/')}{HOOKS_PATH}"


def hook_token(request: Request) -> str:
    """The secret the hooks send back: made once per service, known only to it and its hooks."""
    state = request.app.state
    if getattr(state, "hook_token", None) is None:
        state.hook_token = secrets.token_urlsafe(32)
    return state.hook_token


def check_hook_token(request: Request) -> None:
    expected = getattr(request.app.state, "hook_token", None)
    given = request.headers.get(hook_script.TOKEN_HEADER, "")
    if expected is None or not secrets.compare_digest(given.encode(), expected.encode()):
        raise NotAuthenticated("only the service's own git hooks call this")


def served_repository(api: CoopAPI, path: str) -> Path:
    """A hook's repository, which must be one the service serves."""
    given = Path(path).resolve()
    served = repository_path(Path(api.settings.home), given.name.removesuffix(".git"))
    if served is None or served.resolve() != given:
        raise UnknownChallenge(given.name.removesuffix(".git"))
    return given


class PreReceive(BaseModel):
    repository: str
    pusher: str
    organiser: bool
    updates: str  # the ``<old> <new> <ref>`` lines git gave the hook
    status_url: str = ""
    quarantine: dict[str, str]  # git's variables naming the pushed objects, not yet in the repository


class PostReceive(BaseModel):
    entry: str  # the spooled push's file name under <home>/spool


class HookAnswer(BaseModel):
    accepted: bool = True
    lines: list[str]  # what the client shows as ``remote: …``


@router.post(f"{HOOKS_PATH}/pre-receive")
async def pre_receive_hook(request: Request, api: Api, push: PreReceive) -> HookAnswer:
    """The push policy for a served repository's pre-receive hook."""
    check_hook_token(request)
    allowed = {name: value for name, value in push.quarantine.items() if name in hook_script.QUARANTINE}
    where = Where(served_repository(api, push.repository), allowed)
    assert where.repository is not None
    challenge_id = where.repository.name.removesuffix(".git")
    hidden = await run_in_threadpool(
        hidden_from, api, challenge_id, push.pusher, push.organiser, datetime.now(UTC)
    )
    accepted, lines = await run_in_threadpool(
        pre_receive_answer, where, Pusher(push.pusher, push.organiser), push.updates, hidden
    )
    if accepted:
        home, now = api.settings.home_path, datetime.now(UTC)
        await run_in_threadpool(
            spool.spool_intent, home, where.repository, push.pusher, push.updates, push.status_url, now
        )
    return HookAnswer(accepted=accepted, lines=lines)


@router.post(f"{HOOKS_PATH}/post-receive")
async def post_receive_hook(request: Request, api: Api, push: PostReceive) -> HookAnswer:
    """Record and queue the push a post-receive hook spooled; the lines it prints."""
    check_hook_token(request)
    if not spool.is_entry_name(push.entry):
        raise UnknownChallenge(push.entry)
    path = spool.spool_dir(api.settings.home_path) / push.entry
    try:
        lines = await run_in_threadpool(spool.process, api, path)
    except Exception as exc:  # the entry stays spooled: the background loop tries it again
        log.exception("recording the spooled push %s failed", push.entry)
        why = exc.user_message if isinstance(exc, CoopError) else type(exc).__name__
        return HookAnswer(lines=[f"push accepted; the scorer could not queue it yet ({why}): it will retry"])
    if lines is None:
        return HookAnswer(lines=["push accepted; the scorer is queueing it"])
    return HookAnswer(lines=[str(line) for line in lines])


async def _feed(request: Request, stdin: asyncio.StreamWriter) -> None:
    try:
        async for chunk in request.stream():
            if chunk:
                stdin.write(chunk)
                await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.close()


class CGIResponse(StreamingResponse):
    """Streams the CGI's output without Starlette's disconnect listener: that listener would
    call ``receive`` too and steal request-body chunks from :func:`_feed` (git http-backend
    sends its headers before it has read the request)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)


async def _drain(stderr: asyncio.StreamReader) -> bytes:
    """Read all of ``stderr`` (so the process never blocks on it); keep its first bytes."""
    kept = b""
    while chunk := await stderr.read(CHUNK):
        kept = (kept + chunk)[:STDERR_KEPT]
    return kept


async def _read_headers(stdout: asyncio.StreamReader) -> tuple[int, list[tuple[str, str]]]:
    status = 200
    headers: list[tuple[str, str]] = []
    while True:
        line = (await stdout.readline()).decode("latin-1").rstrip("\r\n")
        if not line:
            return status, headers
        name, _, value = line.partition(":")
        value = value.strip()
        if name.lower() == "status":
            status = int(value.split()[0])
        else:
            headers.append((name, value))


@router.api_route("/git/{challenge_id}.git/{path:path}", methods=["GET", "POST"])
async def git_http_backend(request: Request, api: Api, who: Viewer, challenge_id: str, path: str) -> Response:
    """git's smart HTTP for a challenge's repository (clone, fetch, push)."""
    ready: threading.Event = request.app.state.git_ready
    if not ready.is_set() and not await asyncio.to_thread(ready.wait, READY_WAIT):
        raise ServiceStarting(
            "the service is still preparing the challenges' repositories: try again shortly"
        )
    root = git_root(Path(api.settings.home))
    if repository_path(Path(api.settings.home), challenge_id) is None or ".." in path.split("/"):
        raise UnknownChallenge(challenge_id)
    if is_push(path, request.url.query):
        who = may_push(who)
    hidden = hidden_refs(api, challenge_id, who, datetime.now(UTC))
    if hidden and who is None:  # git sends credentials only when asked: ask
        raise NotAuthenticated(
            "this challenge's code is not open yet: fetch with your hub username and token"
        )
    env = cgi_environment(root, f"/{challenge_id}.git/{path}", request, who)
    if hidden:  # protocol v0 checks every want against the advertised (unhidden) refs; v2 does not
        env.pop("GIT_PROTOCOL", None)
        env.pop("HTTP_GIT_PROTOCOL", None)
        env.update(hidden_refs_config(hidden))
    process = await asyncio.create_subprocess_exec(
        "git",
        "http-backend",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=root,
    )
    assert process.stdin and process.stdout and process.stderr
    stdout = process.stdout
    feeding = asyncio.create_task(_feed(request, process.stdin))
    errors = asyncio.create_task(_drain(process.stderr))
    try:
        status, headers = await _read_headers(stdout)
    except BaseException:
        process.kill()
        feeding.cancel()
        raise

    async def body() -> AsyncIterator[bytes]:
        finished = False
        try:
            while chunk := await stdout.read(CHUNK):
                yield chunk
            await feeding
            await process.wait()
            finished = True
        finally:
            if not finished:
                feeding.cancel()
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            problems = (await errors).decode("utf-8", "replace").strip()
            if process.returncode or problems:
                log.warning(
                    "git http-backend %s %s → %s: %s", request.method, path, process.returncode, problems
                )

    media = dict((k.lower(), v) for k, v in headers).get("content-type")
    response = CGIResponse(body(), status_code=status, media_type=media)
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers.append(name, value)
    return response
