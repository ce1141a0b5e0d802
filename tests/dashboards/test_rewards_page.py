"""The rewards page rendered in this process from the real service (uvicorn over a SQLite ledger
written by the ledger's own functions), and its pure parts from the client's models."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from coop_client.models import RewardOut
from coop_widgets.dashboards import page, rewards
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import StaticTokens
from tests.service.conftest import PREFIX, running
from tests.service.rewards_ledger import PRIVATE_VALUE, Rewarded, reward


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rewarded]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path_factory.mktemp("rewards") / "home")))
    with pytest.MonkeyPatch.context() as patch:
        try:
            data = reward(api.sessions)
            with running(create_app(api, StaticTokens({}), prefix=PREFIX)) as url:
                patch.setenv("COOP_SERVICE_URL", url + PREFIX)
                yield data
        finally:
            api.close()


def plain(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def cells(html: str) -> list[list[str]]:
    """Each table row's cells as text (header rows included)."""
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    return [
        [unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
        for r in rows
    ]


def test_an_ended_phase_shows_rewarders_balances_and_history_with_compensations(served: Rewarded):
    html = rewards.render({"id": "higgs", "phase": "p1"})
    text = plain(html)
    assert "10 points the first time accuracy ≥ 0.9 (as soon as earned)" in text
    assert "5 points each time a submission's likes from others reach 1, 2" in text
    table = cells(html)
    assert ["person", "points"] in table and ["alice", "10"] in table and ["bob", "0"] in table
    history = [row for row in table if len(row) == 6]
    assert history[0] == ["when", "who", "amount", "what", "why", "solution"]
    compensation, bobs, alices = history[1:]  # newest first
    assert compensation[1:5] == [
        "bob",
        "-10 points",
        f"compensation of grant #{served.taken_back} · score-threshold",
        "taken back (rescore)",
    ]
    assert bobs[1:4] == ["bob", "+10 points", "grant · score-threshold"]
    assert alices[4] == "accuracy ≥ 0.9 (accuracy = 0.9)"
    assert alices[5] == f"notebook #{served.alice} · diff"
    assert page.notebook_link(served.alice) in html and page.diff_link(served.alice) in html
    assert "Settlement" not in text  # p1 has no settlement rewarder and none was granted


def test_a_settlement_on_hidden_private_scores_shows_no_private_value(served: Rewarded):
    text = plain(rewards.render({"id": "higgs", "phase": "p2"}))
    assert "Settled on " in text and "1 grant(s) to 1 person(s), 300 points in all." in text
    assert "settled on private scores, shown once they are" in text
    assert str(PRIVATE_VALUE) not in text


def test_one_persons_history_links_back_to_everyones(served: Rewarded):
    html = rewards.render({"id": "higgs", "phase": "p1", "person": "bob"})
    assert "Reward history of bob" in html
    assert page.anchor(page.link("rewards", id="higgs", phase="p1"), "Everyone’s rewards") in html
    assert [row[1] for row in cells(html) if len(row) == 6][1:] == ["bob", "bob"]


def test_unknown_challenge_and_phase_are_not_found(served: Rewarded):
    with pytest.raises(page.NotFound, match="No such phase in Higgs boson: nope"):
        rewards.render({"id": "higgs", "phase": "nope"})
    with pytest.raises(page.NotFound, match="No challenge"):
        rewards.render({})
    assert "No such challenge" in page.problem_page(
        _refused(lambda: rewards.render({"id": "nope"})), "challenge"
    )


def _refused(call: object) -> BaseException:
    try:
        call()  # type: ignore[operator]
    except Exception as exc:
        return exc
    raise AssertionError("no error")


def grant(number: int, **fields: object) -> RewardOut:
    values: dict[str, object] = {
        "id": number,
        "kind": "grant",
        "at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=number),
        "challenge": "c",
        "phase": "p",
        "person": f"p{number}",
        "rewarder": "new-record",
        "rewarder_index": 0,
        "moment": "live",
        "amount": 1.0,
        "unit": "points",
        "submission": number,
        "commit": None,
        "rule": "new record",
        "evidence": {},
    }
    return RewardOut.model_validate(values | fields)


def test_the_history_pages_newest_first_with_links_around_it():
    history = [grant(n) for n in range(1, 2 * rewards.PER_PAGE + 6)]
    total = len(history)
    first = rewards.history_section("c", "p", history, person=None, offset=0)
    assert f"Rows 1–{rewards.PER_PAGE} of {total}, newest first." in first
    assert f">p{total}<" in first and ">p1<" not in first
    older = page.link("rewards", id="c", phase="p", offset=rewards.PER_PAGE)
    assert page.anchor(older, "older ›") in first and "newer" not in first
    last = rewards.history_section("c", "p", history, person=None, offset=10_000)  # clamped
    assert f"Rows {2 * rewards.PER_PAGE + 1}–{total} of {total}" in last
    assert ">p1<" in last and "older" not in last and "« newest" in last


def test_balances_order_people_by_their_first_unit_then_name():
    from coop_client.models import BalanceOut

    found = [
        BalanceOut(person="bo", unit="points", amount=5),
        BalanceOut(person="al", unit="points", amount=5),
        BalanceOut(person="cy", unit="points", amount=9),
        BalanceOut(person="al", unit="badges", amount=1),
    ]
    table = cells(rewards.balances_section(found))
    assert table == [["person", "points", "badges"], ["cy", "9", "0"], ["al", "5", "1"], ["bo", "5", "0"]]
