"""``coop profile show`` over a real ledger in ``--home``, and ``coop profile edit`` through a
real service (uvicorn) with the person's own token."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from scorer.cli import app
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import profiles
from scorer.service.app import create_app
from scorer.service.auth import SUBMIT, Identity, StaticTokens
from tests.service.conftest import PREFIX, running
from tests.service.rewards_ledger import PRIVATE_VALUE, Rewarded, reward

runner = CliRunner()
TOKENS = StaticTokens({"alice-token": Identity("alice", frozenset({SUBMIT}))})


@pytest.fixture
def home(tmp_path) -> Iterator[tuple[str, CoopAPI, Rewarded]]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path)))
    try:
        yield str(tmp_path), api, reward(api.sessions)
    finally:
        api.close()


def coop(home: str, *args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = runner.invoke(app, ["--home", home, "profile", *args], env={"COLUMNS": "200", **(env or {})})
    assert result.exit_code == code, result.output
    return result.output


def hide(api: CoopAPI, name: str, display_name: str) -> None:
    with api.sessions.begin() as session:
        profiles.save_fields(
            session, name, display_name=display_name, affiliation=None, orcid=None, links=[], hidden=True
        )


def test_show_prints_the_profile(home):
    folder, _, _ = home
    output = coop(folder, "show", "alice")
    assert "alice (alice)" in output and "Phases joined" in output and "Higgs boson" in output
    assert "balance in higgs: 310 points" in output
    assert "achievement: score-threshold (higgs/p1) accuracy ≥ 0.9" in output
    assert "2 submissions, 0 likes received, 0 given" in output
    assert "1/2" in output and str(PRIVATE_VALUE) not in output


def test_show_json_is_the_apis(home):
    folder, _, data = home
    document = json.loads(coop(folder, "show", "alice", "--json"))
    assert document["person"] == "alice"
    assert [s["id"] for s in document["submissions"]["submissions"]] == [data.alice_closed, data.alice]
    assert document["submissions"]["submissions"][0]["private"] is None
    organiser = json.loads(coop(folder, "show", "alice", "--json", "--organiser"))
    assert organiser["submissions"]["submissions"][0]["private"]["accuracy"] == PRIVATE_VALUE


def test_a_hidden_profile_shows_only_to_organisers_and_markup_stays_text(home):
    folder, api, _ = home
    hide(api, "bob", "[bold red]Bob[/] <script>")
    assert "no profile of 'bob'" in coop(folder, "show", "bob", code=1)
    assert "no profile of 'nobody'" in coop(folder, "show", "nobody", code=1)
    assert "[bold red]Bob[/] <script> (bob) hidden" in coop(folder, "show", "bob", "--organiser")


def test_edit_changes_only_the_callers_own_profile(home):
    folder, api, _ = home
    with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
        env = {"COOP_SERVICE_URL": url + PREFIX, "JUPYTERHUB_API_TOKEN": "alice-token"}
        output = coop(folder, "edit", "--affiliation", "CERN", "--link", "https://example.org/a", env=env)
        assert "affiliation: CERN" in output and "link: https://example.org/a" in output
        output = coop(folder, "edit", "--orcid", "0000-0002-1825-0097", "--hide", env=env)
        assert (
            "affiliation: CERN" in output and "ORCID iD: 0000-0002-1825-0097" in output and "hidden" in output
        )
        refused = coop(folder, "edit", "--orcid", "0000-0002-1825-0098", env=env, code=1)
        assert "the check character is 8" in refused
        assert "a link must be an http(s) URL" in coop(folder, "edit", "--link", "ftp://x", env=env, code=2)
    with api.sessions() as session:
        saved = profiles.fields(session, "alice")
        assert (saved.affiliation, saved.orcid, saved.links, saved.hidden) == (
            "CERN",
            "0000-0002-1825-0097",
            ["https://example.org/a"],
            True,
        )
        assert not profiles.fields(session, "bob").hidden


def test_edit_needs_the_service_and_a_token(home):
    folder, _, _ = home
    output = coop(
        folder, "edit", "--affiliation", "x", env={"COOP_SERVICE_URL": "", "JUPYTERHUB_API_TOKEN": ""}, code=2
    )
    assert "JUPYTERHUB_API_TOKEN" in output
