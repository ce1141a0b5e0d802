"""``create_app``: the FastAPI application of ``coop serve``, every route under one prefix."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline

from scorer import __version__
from scorer.facade import CoopAPI
from scorer.service import errors, git_http
from scorer.service.auth import Authenticator
from scorer.service.deps import viewer
from scorer.service.routes import (
    challenges,
    credit,
    data,
    federation,
    notebooks,
    organise,
    people,
    profiles,
    rewards,
    service,
    submissions,
    webhooks,
)

#: Every route group of the service, in the order they are mounted.
ROUTERS: tuple[APIRouter, ...] = (
    service.router,
    challenges.router,
    data.router,
    submissions.router,
    notebooks.router,
    organise.router,
    rewards.router,
    credit.router,
    federation.router,
    people.router,
    profiles.router,  # last: /api/people/{name} must not shadow other /api/people/… routes
)


def normalise_prefix(prefix: str) -> str:
    """``"/services/coop/"`` → ``"/services/coop"``; ``""`` and ``"/"`` → ``""``."""
    cleaned = "/".join(part for part in prefix.split("/") if part)
    return f"/{cleaned}" if cleaned else ""


def create_app(
    api: CoopAPI, auth: Authenticator, *, prefix: str = "", git_ready: threading.Event | None = None
) -> FastAPI:
    """The service over ``api``, authenticating with ``auth``, at ``prefix`` (e.g. behind the hub);
    git requests wait for ``git_ready`` (set once the served repositories are prepared; none: ready)."""
    root = normalise_prefix(prefix)
    # Swagger UI from the service itself (fastapi-offline ships its files), not from a CDN: the
    # platform often runs where browsers reach nothing but the hub. No validator badge either,
    # which Swagger UI would fetch from swagger.io for a spec on a public host name.
    app = FastAPIOffline(
        title="Coopetition scorer",
        version=__version__,
        description="Challenges, leaderboards and submissions. Send a JupyterHub API token as "
        "`Authorization: token <t>` (or HTTP Basic) for anything beyond public data.",
        openapi_url=f"{root}/openapi.json",
        docs_url=f"{root}/docs",
        redoc_url=None,
        static_url=f"{root}/docs/assets",
        swagger_ui_oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.coop_api = api
    app.state.authenticator = auth
    if git_ready is None:
        git_ready = threading.Event()
        git_ready.set()
    app.state.git_ready = git_ready
    errors.install(app, prefix=root)
    # Every route authenticates (once per request: FastAPI caches the dependency), so a bad
    # token is refused even on a public route instead of being silently treated as anonymous.
    for router in ROUTERS:
        app.include_router(router, prefix=root, dependencies=[Depends(viewer)])
    app.include_router(git_http.router, prefix=root, dependencies=[Depends(viewer)])  # git, not in OpenAPI
    app.include_router(webhooks.router, prefix=root)  # signed by the forge: no hub token
    # Public keys need no token, under the prefix and at the host's root, where verifiers look
    # (behind the hub, the root one is reached through hub_config's redirect).
    app.include_router(federation.keys_router, prefix=root)
    if root:
        app.include_router(federation.keys_router, include_in_schema=False)
    return app
