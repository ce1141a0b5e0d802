"""The service for real: uvicorn on a loopback port in a thread, and a fake JupyterHub.

``scored`` (one per module: scoring runs notebooks) is a challenge made like the ``challenge``
fixture, with closed code, where alice's baseline scored and bob's notebook failed.
``service`` serves it at ``/services/coop/`` with static tokens for alice, bob and an organiser.
``fake_hub`` is a tiny HTTP server answering ``/hub/api/user`` like JupyterHub and counting hits.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import ORGANISE, SUBMIT, Identity, StaticTokens
from tests.conftest import ChallengeFixture, make_challenge, require

PREFIX = "/services/coop/"
TOKENS = StaticTokens(
    {
        "alice-token": Identity("alice", frozenset({SUBMIT})),
        "bob-token": Identity("bob", frozenset({SUBMIT})),
        "org-token": Identity("olga", frozenset({SUBMIT, ORGANISE}), frozenset({"organisers"})),
    }
)


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL."""
    # IPPROTO_TCP named, as uvicorn's own sockets do: asyncio turns Nagle off only then (else each
    # kept-alive or streamed response waits ~40 ms for the client's delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Scored:
    fixture: ChallengeFixture
    api: CoopAPI
    alice_id: int
    alice_sha: str
    bob_id: int


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scored]:
    require("bwrap")
    limits = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}
    fixture = make_challenge(
        tmp_path_factory.mktemp("service"), edit={"phases.0.limits": limits, "phases.0.open_code": False}
    )
    alice_sha = fixture.commit("alice", {"solutions/alice/fit.ipynb": fixture.baseline})
    [alice] = fixture.score(alice_sha)
    assert alice.outcome == "scored", alice.reason
    [bob] = fixture.score(fixture.solution("raise ValueError('bad degree')", user="bob"))
    assert bob.view.failure_class == "exception"
    api = fixture.api()
    yield Scored(fixture, api, alice.view.id, alice_sha, bob.view.id)
    api.close()


@pytest.fixture(scope="module")
def service(scored: Scored) -> Iterator[str]:
    """Base URL of the service, prefix included (no trailing slash)."""
    with running(create_app(scored.api, TOKENS, prefix=PREFIX)) as url:
        yield url + PREFIX.rstrip("/")


@dataclass
class FakeHub:
    url: str  # the hub API URL, like $JUPYTERHUB_API_URL
    users: dict[str, dict] = field(default_factory=dict)  # token -> the hub's user model
    hits: int = 0
    status_for_unknown: int = 403


@pytest.fixture
def fake_hub() -> Iterator[FakeHub]:
    hub = FakeHub(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hub.hits += 1
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            model = hub.users.get(token) if scheme == "token" else None
            if self.path != "/hub/api/user" or model is None:
                status, body = hub.status_for_unknown, {"status": 403, "message": "Forbidden"}
            else:
                status, body = 200, model
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}/hub/api"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hub
    server.shutdown()
    server.server_close()


def hub_user(name: str, scopes: list[str], groups: list[str] = ()) -> dict:
    """The shape of JupyterHub's ``GET /hub/api/user`` answer (JupyterHub ≥ 2)."""
    return {
        "kind": "user",
        "name": name,
        "admin": False,
        "groups": list(groups),
        "roles": ["user"],
        "scopes": scopes,
        "server": f"/user/{name}/",
        "pending": None,
        "last_activity": "2025-01-01T00:00:00Z",
    }


def write_tokens(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
