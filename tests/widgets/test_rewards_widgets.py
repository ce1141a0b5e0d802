"""MyRewards, the Leaderboard's likes and like buttons, and the rewards Submit shows, run in
this process on asyncio against the real service (uvicorn over a SQLite ledger written by the
ledger's own functions: no notebook runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape

import pytest

from coop_client.client import CoopClient, Routes
from coop_widgets.leaderboard import Leaderboard
from coop_widgets.rewards import MyRewards
from coop_widgets.submit import Submit
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from scorer.service.auth import SUBMIT, Identity, StaticTokens
from tests.service.conftest import PREFIX, running
from tests.service.rewards_ledger import PRIVATE_VALUE, Rewarded, grant, reward

TOKENS = StaticTokens({f"{name}-token": Identity(name, frozenset({SUBMIT})) for name in ("alice", "bob")})


@dataclass
class Served:
    url: str
    data: Rewarded
    monkeypatch: pytest.MonkeyPatch
    api: CoopAPI

    def as_user(self, name: str | None) -> None:
        """The environment a hub gives ``name``'s kernel (``None``: no login, no token)."""
        self.monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
        if name is None:
            self.monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
            self.monkeypatch.setenv("JUPYTERHUB_USER", "reader")
        else:
            self.monkeypatch.setenv("JUPYTERHUB_API_TOKEN", f"{name}-token")
            self.monkeypatch.setenv("JUPYTERHUB_USER", name)

    def likes(self) -> dict[str, int]:
        with CoopClient(self.url) as client:
            return {row.person: row.likes for row in client.leaderboard("higgs", "p1", "main").rows}


@pytest.fixture
def served(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    try:
        data = reward(api.sessions)
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            monkeypatch.setenv("COOP_SERVICE_URL", url + PREFIX)
            yield Served(url + PREFIX.rstrip("/"), data, monkeypatch, api)
    finally:
        api.close()


def test_my_rewards_lists_history_and_balance(served: Served):
    served.as_user("alice")
    mine = MyRewards()
    asyncio.run(mine.refresh())
    body = unescape(mine.body.value)
    assert mine.problem.value == "" and "Your rewards" in mine.title.value
    assert "Balance: 310 points" in body
    assert "score-threshold: accuracy ≥ 0.9" in body and "+300 points" in body
    assert "settled on private scores, shown once they are" in body and str(PRIVATE_VALUE) not in body
    served.as_user("bob")
    theirs = MyRewards(phase="p1")
    asyncio.run(theirs.refresh())
    body = unescape(theirs.body.value)
    assert "Balance: 0 points" in body and "taken back (rescore)" in body and "-10 points" in body
    assert [r.kind for r in theirs.shown] == ["grant", "compensation"]


def test_the_like_button_toggles_through_the_service(served: Served):
    alices = served.data.alice
    served.as_user("bob")
    board = Leaderboard(phase="p1", board="main")

    async def like_twice() -> list[tuple[str, dict[str, int]]]:
        await board.refresh()
        seen = []
        for _ in range(2):
            board.like_buttons[alices].click()
            assert board.liking is not None
            await board.liking
            seen.append((board.like_buttons[alices].description, served.likes()))
        return seen

    assert asyncio.run(like_twice()) == [
        ("♥ 1 alice", {"alice": 1, "bob": 0}),
        ("♡ 0 alice", {"alice": 0, "bob": 0}),
    ]
    assert set(board.like_buttons) == {alices}  # none on bob's own row
    assert board.problem.value == "" and "♡" in board.body.value


def test_the_board_shows_likes_and_a_refused_like_says_why(served: Served):
    with CoopClient(served.url, "bob-token") as bob:
        bob.like(served.data.alice)
    served.as_user("bob")
    closed = Leaderboard(phase="p2", board="main")

    async def like_closed() -> None:
        await closed.refresh()
        closed.like_buttons[served.data.alice_closed].click()
        assert closed.liking is not None
        await closed.liking

    asyncio.run(like_closed())
    assert "solutions of phase 'p2' are not open yet" in unescape(closed.problem.value)
    assert closed.like_buttons[served.data.alice_closed].description == "♡ 0 alice"
    served.as_user(None)
    anonymous = Leaderboard(phase="p1", board="main")
    asyncio.run(anonymous.refresh())
    assert anonymous.like_buttons == {} and anonymous.likes_box.children == ()
    assert anonymous.shown is not None and "♡</th>" in anonymous.body.value
    assert {row.person: row.likes for row in anonymous.shown.rows} == {"alice": 1, "bob": 0}


def test_submit_shows_what_a_scored_submission_earned(served: Served):
    served.as_user("alice")
    submit = Submit()

    async def finish() -> None:
        assert submit.context is not None
        async with submit.context.client() as client:
            found = await client.send(Routes.submission(served.data.alice))
            await submit._finished(client, found, None, None)

    asyncio.run(finish())
    assert submit.status == "scored"
    assert submit.rewards == ["+10 score-threshold: accuracy ≥ 0.9"]
    assert "Earned" in submit.details.value and "accuracy ≥ 0.9" in unescape(submit.details.value)


def test_submit_shows_rewards_judged_just_after_the_score(served: Served):
    served.as_user("alice")
    submit = Submit(poll_interval=0.05)
    closed = served.data.alice_closed  # scored, nothing earned yet

    async def finish_then_grant() -> list[str]:
        assert submit.context is not None
        async with submit.context.client() as client:
            await submit._finished(client, await client.send(Routes.submission(closed)), None, None)
        assert submit.rewards == [] and "Earned" not in submit.details.value
        with served.api.sessions.begin() as session:  # the worker's live rewards, a moment later
            grant(session, "alice", closed, phase_id="p2", scope="person:alice:p2")
        for _ in range(200):
            if submit.rewards:
                break
            await asyncio.sleep(0.05)
        return submit.rewards

    assert asyncio.run(finish_then_grant()) == ["+10 score-threshold: accuracy ≥ 0.9"]
    assert "Earned" in submit.details.value
