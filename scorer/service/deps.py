"""FastAPI dependencies: the API facade, the caller, and scope checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from scorer.exceptions import MissingScope, NotAuthenticated
from scorer.facade import CoopAPI
from scorer.service.auth import Authenticator, Identity, authenticate, credentials


def coop_api(request: Request) -> CoopAPI:
    return request.app.state.coop_api


async def viewer(request: Request) -> Identity | None:
    """The caller, or ``None`` when the request is anonymous; refuses bad credentials."""
    auth: Authenticator = request.app.state.authenticator
    return await authenticate(auth, credentials(request.headers.get("authorization")))


async def caller(who: Annotated[Identity | None, Depends(viewer)]) -> Identity:
    """The caller of a route that needs one."""
    if who is None:
        raise NotAuthenticated("log in: send your JupyterHub API token ('Authorization: token <t>')")
    return who


def require_scope(scope: str) -> Callable[[Identity], Awaitable[Identity]]:
    """A dependency giving the caller when their token carries ``scope`` (else 401 or 403)."""

    async def check(who: Annotated[Identity, Depends(caller)]) -> Identity:
        if not who.has(scope):
            raise MissingScope(scope, who.name)
        return who

    return check


Api = Annotated[CoopAPI, Depends(coop_api)]
Viewer = Annotated[Identity | None, Depends(viewer)]
Caller = Annotated[Identity, Depends(caller)]
