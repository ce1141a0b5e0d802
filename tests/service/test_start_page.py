"""The participant's start page as its server builds it from the real service, its Launcher
card as jupyter-server-proxy loads it, and the default URL of both hub configurations."""

from __future__ import annotations

import warnings
from pathlib import Path

import yaml
from jupyter_server_proxy.config import get_entrypoint_server_processes
from traitlets.config import Config

from coop_widgets.attach import Participant
from coop_widgets.start_page import ICON, PATH, read_start_page, render
from tests.service.conftest import Scored
from tests.test_z2jh import embedded  # noqa: F401  (the embedded hub's configuration, as loaded)

ROOT = Path(__file__).resolve().parents[2]


def test_the_page_shows_the_challenges_easy_start_and_the_persons_submissions(
    scored: Scored, service: str
) -> None:
    page = read_start_page(Participant("alice", service + "/", "alice-token"), "alice")
    assert page.problem == ""
    [card] = page.challenges
    assert (card.challenge.id, card.phase and card.phase.id) == (scored.fixture.challenge_id, "phase-1")
    assert [s.id for s in page.submissions] == [scored.alice_id]  # hers only
    html = render(page, base_url="/user/alice/", service_page="/services/coop")
    assert f'href="/user/alice/coop/start/{card.challenge.id}"' in html
    assert 'href="/user/alice/lab"' in html
    assert f'href="/services/coop/api/submissions/{scored.alice_id}/notebook.html"' in html
    assert card.challenge.title in html and ">scored<" in html


def test_an_unreachable_service_still_leads_to_jupyterlab() -> None:
    page = read_start_page(Participant("alice", "http://127.0.0.1:9/services/coop/", "t"), "alice")
    assert page.challenges == [] and "cannot be reached" in page.problem
    html = render(page, base_url="/user/alice/", service_page=None)
    assert "The scorer could not be read" in html and 'href="/user/alice/lab"' in html


def test_the_next_slot_of_a_refusal_is_left_to_the_browser_to_show_locally(
    scored: Scored, service: str
) -> None:
    page = read_start_page(Participant("alice", service + "/", "alice-token"), "alice")
    refusal = "at most one submission every 1 h; next slot 2026-12-05T11:47:41Z"
    page.submissions[0] = page.submissions[0].model_copy(
        update={"status": "rejected", "failure_class": "policy", "reason": refusal}
    )
    html = render(page, base_url="/user/alice/", service_page=None)
    assert (
        'policy: at most one submission every 1 h; next slot <time datetime="2026-12-05T11:47:41Z">' in html
    )


def test_what_the_page_shows_is_escaped() -> None:
    page = read_start_page(None, "<b>mallory</b>")
    html = render(page, base_url="/user/x/", service_page=None)
    assert "<b>mallory</b>" not in html and "&lt;b&gt;mallory&lt;/b&gt;" in html


def test_the_launcher_card_opens_the_start_page_and_proxies_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        [coop] = [p for p in get_entrypoint_server_processes() if p.name == "coop"]
        assert coop.make_proxy_handler() == (None, {})
    entry = coop.launcher_entry
    assert (entry.enabled, entry.title, entry.path_info, entry.icon_path) == (
        True,
        "Coopetition",
        PATH,
        str(ICON),
    )
    assert ICON.is_file()


def test_every_hub_configuration_opens_the_start_page_first(embedded: Config) -> None:  # noqa: F811
    assert embedded.Spawner.default_url == f"/{PATH}"
    values = yaml.safe_load((ROOT / "hub_config" / "z2jh" / "values.yaml").read_text())
    assert values["singleuser"]["defaultUrl"] == f"/{PATH}"
