"""The prefix, the OpenAPI document and ``coop serve``'s choice of authenticator."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute

from scorer.cli.serve import choose_authenticator
from scorer.config import ScorerSettings
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI
from scorer.service.app import ROUTERS, create_app, normalise_prefix
from scorer.service.auth import ORGANISE, SUBMIT, HubAuthenticator, StaticTokens
from tests.service.conftest import PREFIX, TOKENS, running

ROUTES = {
    "/api/health",
    "/api/me",
    "/api/challenges",
    "/api/challenges/{challenge_id}",
    "/api/challenges/{challenge_id}/phases/{phase_id}/quota",
    "/api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}",
    "/api/challenges/{challenge_id}/phases/{phase_id}/inputs",
    "/api/submissions",
    "/api/submissions/{submission_id}",
    "/api/submissions/{submission_id}/notebook",
    "/api/submissions/{submission_id}/notebook.html",
    "/api/submissions/{submission_id}/diff",
    "/api/submissions/{submission_id}/diff.html",
    "/api/submissions/{submission_id}/resubmit",
    "/api/challenges/{challenge_id}/organise",
    "/api/challenges/{challenge_id}/organise/open-phase",
    "/api/challenges/{challenge_id}/organise/rewarder",
    "/api/challenges/{challenge_id}/organise/rescore",
    "/api/challenges/{challenge_id}/organise/phase-dates",
    "/api/challenges/{challenge_id}/organise/phase-limits",
    "/api/challenges/{challenge_id}/organise/settle",
    "/api/organise/submissions/{submission_id}/invalidate",
    "/api/organise/challenges",
    "/api/challenges/{challenge_id}/audit",
    "/api/challenges/{challenge_id}/rewards",
    "/api/challenges/{challenge_id}/balances",
    "/api/challenges/{challenge_id}/phases/{phase_id}/rewarders",
    "/api/submissions/{submission_id}/rewards",
    "/api/submissions/{submission_id}/like",
    "/api/me/likes",
    "/api/challenges/{challenge_id}/phases/{phase_id}/credit",
    "/api/challenges/{challenge_id}/phases/{phase_id}/graph",
    "/api/challenges/{challenge_id}/phases/{phase_id}/graph/overview",
    "/api/me/link-codes",
    "/api/people/{name}/credentials",
    "/api/me/credentials",
    "/api/people",
    "/api/skills",
    "/api/people/{name}",
    "/api/people/{name}/submissions",
    "/api/me/profile",
}
WEBHOOKS = {"/webhooks/{forge}"}  # mounted outside ROUTERS: no viewer dependency
KEYS = {"/.well-known/jwks.json"}  # outside ROUTERS: public, also at the root


@pytest.fixture
def empty_api(tmp_path):
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    yield api
    api.close()


@pytest.mark.parametrize(
    ("given", "expected"), [("", ""), ("/", ""), ("/services/coop/", "/services/coop"), ("a//b", "/a/b")]
)
def test_prefixes_are_normalised(given, expected):
    assert normalise_prefix(given) == expected


def test_every_route_lives_under_the_prefix_and_is_in_the_openapi_document(empty_api):
    app = create_app(empty_api, TOKENS, prefix=PREFIX)
    declared = {route.path for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)}
    assert declared == ROUTES
    served = {"/services/coop" + path for path in ROUTES | WEBHOOKS | KEYS}
    with running(app) as url:
        document = httpx.get(url + "/services/coop/openapi.json").json()
        assert set(document["paths"]) == served
        assert httpx.get(url + "/services/coop/api/health").json()["status"] == "ok"
        assert httpx.get(url + "/api/health").status_code == 404
        assert httpx.get(url + "/openapi.json").status_code == 404
        assert httpx.get(url + "/docs/oauth2-redirect").status_code == 404  # nothing outside the prefix
        for path in served:  # each documented path is routed (404s here would say "Not Found")
            names = {"challenge_id": "x", "phase_id": "p", "board": "b", "submission_id": 1, "name": "n"}
            concrete = path.format(forge="github", **names)
            assert httpx.get(url + concrete).json() != {"error": "Not Found"}, path
    board = document["paths"][
        "/services/coop" + "/api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}"
    ]
    assert board["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LeaderboardOut"
    }
    assert {"403", "404"} <= set(board["get"]["responses"])


def test_without_a_prefix_routes_sit_at_the_root(empty_api):
    with running(create_app(empty_api, TOKENS)) as url:
        assert httpx.get(url + "/api/health").status_code == 200
        assert set(httpx.get(url + "/openapi.json").json()["paths"]) == ROUTES | WEBHOOKS | KEYS


def test_serve_takes_a_tokens_file_then_the_hub_then_refuses(tmp_path):
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tokens:\n  s3cret: {name: olga, organiser: true}\n  t2: {name: ann, scopes: []}\n")
    chosen = choose_authenticator(tokens, {"JUPYTERHUB_API_URL": "http://hub/hub/api"})
    assert isinstance(chosen, StaticTokens)
    assert chosen.tokens["s3cret"].scopes == {SUBMIT, ORGANISE} and chosen.tokens["t2"].scopes == set()
    hub = choose_authenticator(None, {"JUPYTERHUB_API_URL": "http://hub:8081/hub/api/"})
    assert isinstance(hub, HubAuthenticator) and hub.api_url == "http://hub:8081/hub/api"
    with pytest.raises(CoopError, match=r"JUPYTERHUB_API_URL.*--tokens-file"):
        choose_authenticator(None, {})
    tokens.write_text("[just, a, list]")
    with pytest.raises(CoopError, match=r"tokens.yaml: expected a mapping"):
        choose_authenticator(tokens, {})


def test_registered_challenges_are_served_over_git(challenge, tmp_path):
    from scorer.cli.serve import serve_registered
    from tests.conftest import git

    api = challenge.api()
    try:
        api.register(str(challenge.bare))
        with api.sessions.begin() as session:  # one whose repository has gone away
            from scorer.challenge.load import load_spec
            from scorer.ledger import store

            spec = load_spec(challenge.folder).model_copy(update={"id": "gone"})
            store.upsert_challenge(session, spec, str(tmp_path / "missing.git"))
        served = serve_registered(api)
    finally:
        api.close()
    assert served[challenge.challenge_id] == ""
    assert served["gone"].startswith("git clone") and "missing.git' does not exist" in served["gone"]
    target = challenge.settings.home_path / "git" / f"{challenge.challenge_id}.git"
    assert git(target, "config", "http.receivepack") == "true"
    assert (target / "hooks" / "pre-receive").is_file()


def test_served_repositories_merge_notebooks_with_nbdime(challenge):
    from scorer.cli.serve import serve_registered
    from tests.conftest import git

    api = challenge.api()
    try:
        api.register(str(challenge.bare))
        serve_registered(api)
    finally:
        api.close()
    target = challenge.settings.home_path / "git" / f"{challenge.challenge_id}.git"
    assert git(target, "config", "diff.jupyternotebook.command") == "git-nbdiffdriver diff"
    attributes = (target / "info" / "attributes").read_text()
    assert "*.ipynb diff=jupyternotebook merge=jupyternotebook" in attributes
