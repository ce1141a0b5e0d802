"""Who is calling: static tokens, HTTP Basic, JupyterHub's API (a fake hub), and scopes."""

from __future__ import annotations

import time
from typing import Annotated

import httpx
import pytest
from fastapi import Depends
from traitlets.config import Config

from coop_client.client import CoopClient, CoopClientError
from scorer.config import ScorerSettings
from scorer.exceptions import BadCredentials
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import ORGANISE, SUBMIT, HubAuthenticator, Identity, credentials
from scorer.service.deps import require_scope
from tests.service.conftest import PREFIX, TOKENS, hub_user, running


@pytest.fixture
def empty_api(tmp_path):
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    yield api
    api.close()


def test_credentials_parse_every_accepted_form():
    assert credentials(None) is None and credentials("  ") is None
    assert credentials("token abc").token == "abc"
    assert credentials("Bearer abc").token == "abc"
    basic = httpx.BasicAuth("alice", "abc")._auth_header
    assert (credentials(basic).username, credentials(basic).token) == ("alice", "abc")
    for garbled in ("Basic !!!", "Basic " + "YWxpY2U=", "Digest x", "token"):
        with pytest.raises(BadCredentials):
            credentials(garbled)


def test_bad_token_is_401_with_a_clear_json_error(empty_api):
    with running(create_app(empty_api, TOKENS, prefix=PREFIX)) as url:
        base = url + PREFIX
        answer = httpx.get(base + "api/challenges", headers={"Authorization": "token wrong"})
        assert answer.status_code == 401
        assert answer.json() == {
            "error": "the API token is not valid (expired, revoked or mistyped)",
            "code": "bad-credentials",
        }
        assert answer.headers["www-authenticate"].startswith("Basic")
        garbled = httpx.get(base + "api/challenges", headers={"Authorization": "Negotiate x"})
        assert garbled.status_code == 401 and "Authorization: token" in garbled.json()["error"]
        anonymous_me = httpx.get(base + "api/me")
        assert anonymous_me.status_code == 401 and "log in" in anonymous_me.json()["error"]
        assert httpx.get(base + "api/challenges").json() == []  # anonymous reads are fine


def test_http_basic_with_the_token_as_password(empty_api):
    with running(create_app(empty_api, TOKENS, prefix=PREFIX)) as url:
        me = httpx.get(url + PREFIX + "api/me", auth=("olga", "org-token"))
        assert me.status_code == 200
        assert me.json() == {
            "name": "olga",
            "kind": "user",
            "scopes": [ORGANISE, SUBMIT],
            "groups": ["organisers"],
            "organiser": True,
        }
        someone_else = httpx.get(url + PREFIX + "api/me", auth=("alice", "org-token"))
        assert someone_else.status_code == 401
        assert someone_else.json() == {
            "error": "the API token does not belong to 'alice'",
            "code": "bad-credentials",
        }


def test_a_missing_scope_is_403_naming_the_scope(empty_api):
    app = create_app(empty_api, TOKENS, prefix=PREFIX)

    @app.get(PREFIX + "api/probe")
    def probe(who: Annotated[Identity, Depends(require_scope(ORGANISE))]):
        return {"name": who.name}

    with running(app) as url:
        refused = httpx.get(url + PREFIX + "api/probe", headers={"Authorization": "token alice-token"})
        assert refused.status_code == 403
        assert refused.json() == {
            "error": "alice lacks the scope 'custom:coop:organise' needed here",
            "code": "missing-scope",
        }
        allowed = httpx.get(url + PREFIX + "api/probe", headers={"Authorization": "token org-token"})
        assert allowed.json() == {"name": "olga"}
        assert httpx.get(url + PREFIX + "api/probe").status_code == 401


def test_hub_tokens_are_checked_with_the_hub_and_cached(empty_api, fake_hub):
    fake_hub.users["hub-alice"] = hub_user("alice", [SUBMIT, "read:users:name!user=alice"], ["physics"])
    fake_hub.users["hub-olga"] = hub_user("olga", [SUBMIT, ORGANISE], ["organisers"])
    auth = HubAuthenticator(api_url=fake_hub.url)
    with running(create_app(empty_api, auth, prefix=PREFIX)) as url:
        with CoopClient(url + PREFIX, token="hub-alice") as alice:
            for _ in range(3):
                me = alice.me()
            assert (me.name, me.groups, me.organiser) == ("alice", ["physics"], False)
        assert fake_hub.hits == 1  # asked once, then cached
        with CoopClient(url + PREFIX, token="hub-olga") as olga:
            assert olga.me().organiser
        assert fake_hub.hits == 2
        with CoopClient(url + PREFIX, token="stolen") as stranger:
            for _ in range(2):
                with pytest.raises(CoopClientError) as refused:
                    stranger.challenges()
                assert refused.value.status == 401  # the hub's 403 means: not a valid token
        assert fake_hub.hits == 3  # refusals are cached too
        basic = httpx.get(url + PREFIX + "api/me", auth=("alice", "hub-alice"))
        assert basic.json()["name"] == "alice" and fake_hub.hits == 3


def test_hub_answers_expire_after_the_configured_age(empty_api, fake_hub):
    fake_hub.users["t1"] = hub_user("alice", [SUBMIT])
    config = Config()
    config.HubAuthenticator.cache_max_age = 1  # as in coop_config.py
    auth = HubAuthenticator(api_url=fake_hub.url, config=config)
    assert HubAuthenticator(api_url=fake_hub.url).cache_max_age == 60
    with running(create_app(empty_api, auth)) as url:
        me = lambda: httpx.get(url + "/api/me", headers={"Authorization": "token t1"})  # noqa: E731
        assert me().status_code == 200 and me().status_code == 200
        assert fake_hub.hits == 1
        time.sleep(1.1)  # past the age: the next request asks the hub again
        assert me().json()["name"] == "alice"
    assert fake_hub.hits == 2 and len(auth.cache) == 1


def test_an_unreachable_hub_is_503_not_401(empty_api, fake_hub):
    auth = HubAuthenticator(api_url="http://127.0.0.1:9/hub/api")  # nothing listens on port 9
    with running(create_app(empty_api, auth)) as url:
        answer = httpx.get(url + "/api/me", headers={"Authorization": "token t"})
    assert answer.status_code == 503
    assert answer.json() == {
        "error": "JupyterHub cannot be reached to check your token: try again shortly",
        "code": "hub-unavailable",
    }
