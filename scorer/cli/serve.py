"""``coop serve``: the scorer's HTTP service (JSON API) under uvicorn."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scorer.cli.common import console, errors, fail, state
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI
from scorer.ingest.served import serve_repository
from scorer.ledger.queries import challenge_ids, load_challenge, repo_url
from scorer.organise.settle import PhaseCloser
from scorer.profiles.keys import load_keys

if TYPE_CHECKING:  # the service (JupyterHub's auth, the dashboards' reads): imported by serve only
    from scorer.service.auth import Authenticator

HUB_URL = "JUPYTERHUB_API_URL"
log = logging.getLogger("coop")


def choose_authenticator(tokens_file: Path | None, environ: Mapping[str, str] = os.environ) -> Authenticator:
    """Tokens from ``tokens_file`` when given, else JupyterHub when its API URL is set, else refuse."""
    from scorer.service.auth import HubAuthenticator, StaticTokens

    if tokens_file is not None:
        return StaticTokens.from_file(tokens_file)
    if environ.get(HUB_URL):
        return HubAuthenticator(api_url=environ[HUB_URL])
    raise CoopError(
        f"no way to check tokens: run as a JupyterHub service (which sets {HUB_URL} and "
        "JUPYTERHUB_API_TOKEN), set JUPYTERHUB_API_URL (e.g. http://127.0.0.1:8081/hub/api), "
        "or pass --tokens-file with a YAML/JSON file like "
        "'tokens: {<token>: {name: alice, organiser: false}}' (scopes: a list, default custom:coop:submit)"
    )


def serve_registered(api: CoopAPI) -> dict[str, str]:
    """Serve every registered challenge's repository over git (created or updated from the
    repository it was registered from); challenge id -> problem ("" when served). A challenge
    hosted on a forge is not served: pushes go to the forge, which calls the webhook."""
    with api.sessions() as session:
        sources = {i: repo_url(session, i) for i in challenge_ids(session)}
        forges = {i: load_challenge(session, i).forge for i in sources}
    problems = {}
    for challenge_id, source in sources.items():
        forge = forges[challenge_id]
        if forge is not None:
            problems[challenge_id] = f"hosted on {forge.kind} ({forge.repository}): not served here"
            continue
        try:
            serve_repository(api.settings.home_path, challenge_id, source)
            problems[challenge_id] = ""
        except CoopError as exc:  # told to the operator who runs `coop serve`: git's own words too
            problems[challenge_id] = exc.log_message
    return problems


def start_preparing(api: CoopAPI, ready: threading.Event, git_base: str) -> threading.Thread:
    """In a daemon thread, while the service already answers: serve the registered repositories
    over git (at ``git_base``), set ``ready``, then warm what the dashboards read first. JupyterHub
    5 gives a managed service about 10 s to answer; preparing the repositories alone takes seconds."""

    def run() -> None:
        try:
            for challenge_id, problem in serve_registered(api).items():
                if problem:
                    errors.print(f"[yellow]warning:[/] {challenge_id} is not served over git: {problem}")
                else:
                    console.print(f"git: {git_base}/{challenge_id}.git", highlight=False)
        finally:  # a repository that could not be prepared answers "no such challenge"
            ready.set()
        from scorer.service.warm import warm

        log.info("warmed for the dashboards: %s", ", ".join(warm(api)) or "nothing")

    thread = threading.Thread(target=run, name="coop-prepare", daemon=True)
    thread.start()
    return thread


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8765,
    prefix: Annotated[
        str, typer.Option(help="URL prefix of every route, e.g. /services/coop/ behind JupyterHub.")
    ] = "/",
    tokens_file: Annotated[
        Path | None,
        typer.Option(help="YAML/JSON file of API tokens (instead of JupyterHub), for tests and scripts."),
    ] = None,
) -> None:
    """Run the scorer service: the JSON API (OpenAPI at <prefix>/openapi.json), authenticated by
    JupyterHub tokens (JUPYTERHUB_API_URL) or by a tokens file."""
    import uvicorn

    from scorer.dispatch.background import BackgroundDispatcher, SpoolDrainer  # Dask: ~0.5 s to import
    from scorer.service.app import create_app, normalise_prefix

    try:
        auth = choose_authenticator(tokens_file)
        api = state(ctx).api()
        keys = load_keys(api.settings.home_path)  # the issuer's key, made on the first start
    except CoopError as exc:
        fail(exc)
    git_ready = threading.Event()
    app = create_app(api, auth, prefix=prefix, git_ready=git_ready)
    root = normalise_prefix(prefix)
    console.print(f"coop serve: http://{host}:{port}{root}/api/ (docs at {root}/docs)", highlight=False)
    console.print(f"credentials issued as {api.settings.public_url} (key {keys.kid})", highlight=False)
    dispatcher = BackgroundDispatcher(api)
    dispatcher.start()
    drainer = SpoolDrainer(api)  # pushes and deliveries no request took
    drainer.start()
    closer = PhaseCloser(api)  # settles phases as they end
    closer.start()
    start_preparing(api, git_ready, f"http://{host}:{port}{root}/git")
    try:
        uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info")
    finally:
        closer.stop()
        drainer.stop()
        dispatcher.stop()
