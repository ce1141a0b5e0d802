"""The authorization matrix: every operation of the service's OpenAPI document × every kind of
caller, the status each cell must answer, and no secret in a body that should not hold it.

Callers (tokens in the tokens-file format ``coop serve --tokens-file`` reads):

- ``anonymous``: no ``Authorization`` header;
- ``alice``, ``bob``: participants (``custom:coop:submit``);
- ``olga``: an organiser (``custom:coop:organise``);
- ``oscar``: "the organiser of another challenge" (group ``orbit-organisers``). The service has
  no per-challenge organiser: the organise scope covers every challenge served here (as
  ``GET /api/organise/challenges`` says), so oscar's column equals olga's on ``curve`` too;
- ``kernel``: alice's server token as the hub grants it (``SERVER_TOKEN_SCOPES`` in
  hub_config/jupyterhub_config.py, ``!user`` expanded to ``!user=alice``; no organise scope,
  alice is no organiser): it must act exactly as alice;
- ``scopeless``: a token alice made for another program, with no coop scope
  (``read:users:name!user=alice``): it is alice wherever a route asks for no scope (reading
  her closed code, editing her profile, link codes, credentials), refused where one is needed;
- ``forged``: a token no one issued (an expired or revoked one is the same to the service: the
  authenticator knows no owner for it, as the hub answers 403 for an expired token);
- ``impostor``: bob's name with alice's token (HTTP Basic, as git sends it).

Secrets (:mod:`tests.service.authz_world`): the private scores of curve's open phase, alice's
and bob's closed code there (his in a failure), its hidden answer key, hana's hidden profile.
The world is built once; the routes that change something are sent dry runs, or changes made
already (409), or ones made again harmlessly (a like, a link code, one's own profile).
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.service.authz_world import CLOSED_CODE, HIDDEN_NAME, PRIVATE, World, build
from tests.service.conftest import PREFIX

ROLES = ("anonymous", "alice", "bob", "olga", "oscar", "kernel", "scopeless", "forged", "impostor")
ORGANISERS = {"olga", "oscar"}
PERSON = {
    "alice": "alice",
    "bob": "bob",
    "kernel": "alice",
    "scopeless": "alice",
}  # whose closed code each may read
TOKENS = StaticTokens.from_mapping(
    {
        "tokens": {
            "alice-token": {"name": "alice"},
            "bob-token": {"name": "bob"},
            "olga-token": {"name": "olga", "organiser": True, "groups": ["organisers"]},
            "oscar-token": {"name": "oscar", "organiser": True, "groups": ["orbit-organisers"]},
            "scopeless-token": {"name": "alice", "scopes": ["read:users:name!user=alice"]},
            "kernel-token": {
                "name": "alice",
                "scopes": [
                    "access:servers!server=alice/",
                    "users:activity!user=alice",
                    "custom:coop:submit!user=alice",
                ],
            },
        }
    },
    "the matrix's tokens",
)
HEADERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    **{
        who: {"Authorization": f"token {who}-token"}
        for who in ("alice", "bob", "olga", "oscar", "kernel", "scopeless")
    },
    "forged": {"Authorization": "Bearer 4f0rg3d-t0k3n-n0-0n3-15sued"},
    "impostor": {"Authorization": httpx.BasicAuth("bob", "alice-token")._auth_header},
}

#: Columns in :data:`ROLES` order.
Expect = tuple[int, int, int, int, int, int, int, int, int]
PUBLIC: Expect = (200, 200, 200, 200, 200, 200, 200, 401, 401)
SIGNED_IN: Expect = (401, 200, 200, 200, 200, 200, 200, 401, 401)
ORGANISE: Expect = (401, 403, 403, 200, 200, 403, 403, 401, 401)
CLOSED: Expect = (403, 200, 403, 200, 200, 200, 200, 401, 401)  # alice's closed code
ORGANISERS_ONLY: Expect = (403, 403, 403, 200, 200, 403, 403, 401, 401)  # open to anonymous callers else
UNKNOWN_TO_OTHERS: Expect = (404, 404, 404, 200, 200, 404, 404, 401, 401)  # hana's hidden profile


@dataclass(frozen=True)
class Call:
    """One request: path parameters over :data:`PATH`'s (a string naming a :class:`World`
    field is that field), a query and a JSON body."""

    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    body: Any = None


#: The path parameters of a call that does not say otherwise: curve's open phase, alice's
#: closed-code submission there.
PATH = {
    "challenge_id": "curve",
    "phase_id": "phase-2",
    "board": "main",
    "submission_id": "alice_closed",
    "name": "alice",
    "forge": "github",
}
REWARDER = {"type": "score-threshold", "amount": 10, "threshold": 0.3, "params": {"metric": "rmse"}}
PRIVATE_SPLIT = {"split": "private"}

#: Every operation of the OpenAPI document: (what is sent, what each caller gets).
MATRIX: dict[str, tuple[Call, Expect]] = {
    "GET /api/health": (Call(), PUBLIC),
    "GET /api/me": (Call(), SIGNED_IN),
    "GET /api/challenges": (Call(), PUBLIC),
    "GET /api/challenges/{challenge_id}": (Call(), PUBLIC),
    "GET /api/challenges/{challenge_id}/phases/{phase_id}/quota": (Call(), SIGNED_IN),
    "GET /api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}": (
        Call(query=PRIVATE_SPLIT),
        ORGANISERS_ONLY,
    ),
    "GET /api/challenges/{challenge_id}/phases/{phase_id}/inputs": (
        Call({"phase_id": "phase-3"}),  # not started: organisers only
        ORGANISERS_ONLY,
    ),
    "GET /api/submissions": (Call(query={"challenge": "curve"}), PUBLIC),
    "GET /api/submissions/{submission_id}": (Call(), PUBLIC),
    "GET /api/submissions/{submission_id}/notebook": (Call(), CLOSED),
    "GET /api/submissions/{submission_id}/notebook.html": (Call(), CLOSED),
    "GET /api/submissions/{submission_id}/diff": (Call(), CLOSED),
    "GET /api/submissions/{submission_id}/diff.html": (Call(), CLOSED),
    # alice's own was not refused over a limit (409); no one may resubmit another's (403)
    "POST /api/submissions/{submission_id}/resubmit": (Call(), (401, 409, 403, 403, 403, 409, 403, 401, 401)),
    "GET /api/challenges/{challenge_id}/organise": (Call(), ORGANISE),
    "POST /api/challenges/{challenge_id}/organise/open-phase": (Call(body={"dry_run": True}), ORGANISE),
    "POST /api/challenges/{challenge_id}/organise/rewarder": (
        Call(body={"phase": "phase-3", "index": 0, "rewarder": REWARDER, "dry_run": True}),
        ORGANISE,
    ),
    "POST /api/challenges/{challenge_id}/organise/phase-dates": (
        Call(body={"phase": "phase-2", "end": "now", "dry_run": True}),
        ORGANISE,
    ),
    "POST /api/challenges/{challenge_id}/organise/phase-limits": (
        Call(body={"phase": "phase-3", "submissions": {"per_day": 5}, "dry_run": True}),
        ORGANISE,
    ),
    "POST /api/challenges/{challenge_id}/organise/rescore": (
        Call(body={"phase": "phase-3"}),  # nothing finished there: nothing queued
        ORGANISE,
    ),
    "POST /api/challenges/{challenge_id}/organise/settle": (
        Call(body={"phase": "phase-1"}),  # settled already
        (401, 403, 403, 409, 409, 403, 403, 401, 401),
    ),
    "POST /api/organise/submissions/{submission_id}/invalidate": (
        Call({"submission_id": "bob_invalid"}, body={"reason": "again"}),  # invalidated already
        (401, 403, 403, 409, 409, 403, 403, 401, 401),
    ),
    "GET /api/organise/challenges": (Call(), ORGANISE),
    "POST /api/organise/challenges": (
        Call(body={"archive": "not base64!", "dry_run": True}),
        (401, 403, 403, 400, 400, 403, 403, 401, 401),
    ),
    "GET /api/challenges/{challenge_id}/audit": (Call(), ORGANISE),
    "GET /api/challenges/{challenge_id}/rewards": (Call(), PUBLIC),
    "GET /api/challenges/{challenge_id}/balances": (Call(), PUBLIC),
    "GET /api/challenges/{challenge_id}/phases/{phase_id}/rewarders": (Call(), PUBLIC),
    "GET /api/submissions/{submission_id}/rewards": (Call(), PUBLIC),
    "GET /api/submissions/{submission_id}/like": (Call({"submission_id": "alice_open"}), SIGNED_IN),
    # alice may not like her own (unliking is always harmless); organisers' tokens hold submit
    "PUT /api/submissions/{submission_id}/like": (
        Call({"submission_id": "alice_open"}),
        (401, 403, 200, 200, 200, 403, 403, 401, 401),
    ),
    "DELETE /api/submissions/{submission_id}/like": (
        Call({"submission_id": "alice_open"}),
        (401, 200, 200, 200, 200, 200, 403, 401, 401),
    ),
    "GET /api/me/likes": (Call(), SIGNED_IN),
    "GET /api/challenges/{challenge_id}/phases/{phase_id}/credit": (
        Call(query=PRIVATE_SPLIT),
        ORGANISERS_ONLY,
    ),
    "GET /api/challenges/{challenge_id}/phases/{phase_id}/graph": (
        Call(query=PRIVATE_SPLIT),
        ORGANISERS_ONLY,
    ),
    "GET /api/challenges/{challenge_id}/phases/{phase_id}/graph/overview": (
        Call(query=PRIVATE_SPLIT),
        ORGANISERS_ONLY,
    ),
    "POST /api/me/link-codes": (Call(), (401, 201, 201, 201, 201, 201, 201, 401, 401)),
    # only one's own: alice and her kernel
    "GET /api/people/{name}/credentials": (Call(), (401, 200, 403, 403, 403, 200, 200, 401, 401)),
    "POST /api/me/credentials": (
        Call(body={"credentials": ["not.a.jwt"]}),  # checked once the caller is known
        (401, 422, 422, 422, 422, 422, 422, 401, 401),
    ),
    "GET /api/me/credentials": (Call(), SIGNED_IN),
    "GET /api/people": (Call(query={"skill": "regression"}), PUBLIC),
    "GET /api/skills": (Call(), PUBLIC),
    "GET /api/people/{name}": (Call({"name": "hana"}), UNKNOWN_TO_OTHERS),
    "GET /api/people/{name}/submissions": (Call({"name": "hana"}), UNKNOWN_TO_OTHERS),
    "PUT /api/me/profile": (Call(body={"affiliation": "Somewhere"}), SIGNED_IN),
    # signed by the forge, not the hub: any token is ignored, the unsigned delivery refused
    "POST /webhooks/{forge}": (Call(body={}), (401,) * 9),
    "GET /.well-known/jwks.json": (Call(), (200,) * 9),  # public keys: no token is checked
}

#: More calls to some operations, where their other answers matter: what THE RULE shows.
VARIANTS: dict[str, tuple[str, Call, Expect]] = {
    "public board of the open phase": (
        "GET /api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}",
        Call(),
        PUBLIC,
    ),
    "private board of the ended phase": (
        "GET /api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}",
        Call({"phase_id": "phase-1"}, PRIVATE_SPLIT),
        PUBLIC,
    ),
    "public credit of the open phase": (
        "GET /api/challenges/{challenge_id}/phases/{phase_id}/credit",
        Call(),
        PUBLIC,
    ),
    "public graph of the open phase": (
        "GET /api/challenges/{challenge_id}/phases/{phase_id}/graph",
        Call(),
        PUBLIC,
    ),
    "public overview of the open phase": (
        "GET /api/challenges/{challenge_id}/phases/{phase_id}/graph/overview",
        Call(),
        PUBLIC,
    ),
    "inputs of the open phase": (
        "GET /api/challenges/{challenge_id}/phases/{phase_id}/inputs",
        Call(),
        PUBLIC,
    ),
    "open code": (
        "GET /api/submissions/{submission_id}/notebook",
        Call({"submission_id": "alice_open"}),
        PUBLIC,
    ),
    "bob's submission in the open phase": (
        "GET /api/submissions/{submission_id}",
        Call({"submission_id": "bob_closed"}),
        PUBLIC,
    ),
    "bob's submissions": ("GET /api/submissions", Call(query={"person": "bob"}), PUBLIC),
    "bob's failed submission": (
        "GET /api/submissions/{submission_id}",
        Call({"submission_id": "bob_failed"}),
        PUBLIC,
    ),
    "bob's failed notebook page": (
        "GET /api/submissions/{submission_id}/notebook.html",
        Call({"submission_id": "bob_failed"}),
        (403, 403, 200, 200, 200, 403, 403, 401, 401),
    ),
    # its base is alice's closed notebook (a copy, in its history): bob's diff must not show it
    "bob's diff from alice's closed code": (
        "GET /api/submissions/{submission_id}/diff",
        Call({"submission_id": "bob_failed"}),
        (403, 403, 200, 200, 200, 403, 403, 401, 401),
    ),
    "bob's diff page from alice's closed code": (
        "GET /api/submissions/{submission_id}/diff.html",
        Call({"submission_id": "bob_failed"}),
        (403, 403, 200, 200, 200, 403, 403, 401, 401),
    ),
    "alice's profile": ("GET /api/people/{name}", Call(), PUBLIC),
    "alice's submissions": ("GET /api/people/{name}/submissions", Call(), PUBLIC),
    "bob's profile": ("GET /api/people/{name}", Call({"name": "bob"}), PUBLIC),
    "all rewards of the open phase": (
        "GET /api/challenges/{challenge_id}/rewards",
        Call(query={"phase": "phase-2"}),
        PUBLIC,
    ),
    "organising the other challenge": (
        "GET /api/challenges/{challenge_id}/organise",
        Call({"challenge_id": "orbit"}),
        ORGANISE,
    ),
    "people search without skills": ("GET /api/people", Call(), PUBLIC),
}

CELLS = [
    pytest.param(operation, call, role, expected, id=f"{label} as {role}")
    for label, (operation, call, expect) in [
        *((operation, (operation, call, expect)) for operation, (call, expect) in MATRIX.items()),
        *VARIANTS.items(),
    ]
    for role, expected in zip(ROLES, expect, strict=True)
]


@dataclass
class Served:
    world: World
    client: TestClient
    operations: set[str]  # "METHOD /path" in the OpenAPI document, prefix removed


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    world = build(tmp_path_factory.mktemp("authz"))
    app = create_app(world.api, TOKENS, prefix=PREFIX)
    root = PREFIX.rstrip("/")
    operations = {
        f"{method.upper()} {path.removeprefix(root)}"
        for path, item in app.openapi()["paths"].items()
        for method in item
    }
    try:
        with TestClient(app) as client:
            yield Served(world, client, operations)
    finally:
        world.api.close()


def test_the_matrix_covers_every_operation_of_the_openapi_document(served: Served) -> None:
    missing = sorted(served.operations - MATRIX.keys())
    stale = sorted(MATRIX.keys() - served.operations)
    assert not missing, f"operations without a row in MATRIX (add the status each caller gets): {missing}"
    assert not stale, f"rows of MATRIX for operations the service no longer has: {stale}"
    assert all(operation in served.operations for operation, _, _ in VARIANTS.values())


@pytest.mark.parametrize(("operation", "call", "role", "expected"), CELLS)
def test_each_caller_gets_its_status_and_no_secret(
    served: Served, operation: str, call: Call, role: str, expected: int
) -> None:
    method, template = operation.split(" ", 1)
    params = {**PATH, **call.path}
    named = {key: getattr(served.world, value, value) for key, value in params.items()}
    path = PREFIX.rstrip("/") + template.format(**named)
    answer = served.client.request(method, path, params=call.query, json=call.body, headers=HEADERS[role])
    assert answer.status_code == expected, (
        f"{method} {path} as {role}: {answer.status_code} {answer.text[:300]}"
    )
    text = readable(answer)
    leaked = [secret for secret in secrets(served.world, role, template) if secret in text]
    assert not leaked, f"{method} {path} as {role} shows {leaked}"


def secrets(world: World, role: str, template: str) -> list[str]:
    """What ``role``'s answer from ``template`` must not hold."""
    found = [value.split(",")[1] for value in world.answers]  # the answer key never leaves the scorer
    if template in {"/api/people", "/api/skills"}:
        found.append("hana")  # a hidden profile is left out of the search, even for organisers
    if role not in ORGANISERS:
        found += [str(value) for value in PRIVATE.values()]
        found.append(HIDDEN_NAME)
        found += [line.split("'")[1] for author, line in CLOSED_CODE.items() if PERSON.get(role) != author]
    return found


def readable(answer: httpx.Response) -> str:
    """The answer's body as text: a gzipped tar's members' contents, else the body."""
    if answer.headers.get("content-type") != "application/gzip":
        return answer.text
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(answer.content))) as tar:
        members = [tar.extractfile(m) for m in tar.getmembers()]
        return "\n".join(m.read().decode("utf-8", "replace") for m in members if m is not None)


def test_the_secrets_are_where_they_may_be(served: Served) -> None:
    """The needles of :func:`secrets` are found where they may be shown: else the matrix's
    leak checks could pass by looking for text no answer would ever hold."""
    world, root = served.world, PREFIX.rstrip("/")

    def text(path: str, role: str, **query: str) -> str:
        answer = served.client.get(root + path, params=query, headers=HEADERS[role])
        assert answer.status_code == 200, answer.text
        return readable(answer)

    board = text("/api/challenges/curve/phases/phase-2/leaderboards/main", "oscar", split="private")
    assert all(str(value) in board for value in PRIVATE.values())
    assert CLOSED_CODE["alice"] in text(f"/api/submissions/{world.alice_closed}/notebook", "kernel")
    assert HIDDEN_NAME in text("/api/people/hana", "olga")
    failed = f"/api/submissions/{world.bob_failed}"
    assert CLOSED_CODE["bob"] in text(failed, "bob") and CLOSED_CODE["bob"] in text(failed, "oscar")
    assert '"failure_class":"exception","reason":null' in text(failed, "alice")
    inputs = text("/api/challenges/curve/phases/phase-2/inputs", "anonymous")
    assert inputs.startswith("id,x") and world.answers[0].split(",")[0] in inputs  # same ids, no y
