"""``MyRewards()``: what you earned in the challenge (and what was taken back), with your balance.

MyRewards()                 # every phase
MyRewards(phase="phase-1")  # one phase
"""

from __future__ import annotations

from coop_client.client import AsyncCoopClient, Routes
from coop_client.models import BalanceOut, RewardOut
from coop_widgets import _html
from coop_widgets._panel import Panel


class MyRewards(Panel):
    """Your reward history in the challenge (the notebook's, unless ``challenge`` names one)."""

    def __init__(self, *, challenge: str | None = None, phase: str | None = None, **kwargs: object) -> None:
        self.challenge, self.phase = challenge, phase
        self.shown: list[RewardOut] = []
        self.balances: list[BalanceOut] = []
        super().__init__(**kwargs)
        self.start()

    async def load(self, client: AsyncCoopClient) -> None:
        assert self.context is not None
        challenge = await self.context.challenge(client, self.challenge)
        user = self.context.user
        self.shown = await client.send(Routes.rewards(challenge, phase=self.phase, person=user))
        self.balances = await client.send(Routes.balances(challenge, phase=self.phase, person=user))
        where = f", phase {_html.text(self.phase)}" if self.phase else ""
        self.title.value = f"<b>Your rewards</b> · {_html.text(challenge)}{where}"
        self.body.value = render(self.shown, self.balances)


def earned(reward: RewardOut) -> str:
    """``+10 score-threshold: accuracy ≥ 0.9``; ``-10 score-threshold: taken back (rescore)``."""
    if reward.kind == "compensation":
        why = f"taken back ({reward.reason})" if reward.reason else "taken back"
    elif reward.evidence_hidden:
        why = "settled on private scores, shown once they are"
    else:
        why = reward.rule or ""
    return f"{reward.amount:+g} {reward.rewarder}" + (f": {why}" if why else "")


def balance_line(balances: list[BalanceOut]) -> str:
    amounts = " + ".join(f"{b.amount:g} {b.unit}" for b in balances) or "0 points"
    return _html.line(f"<b>Balance: {_html.text(amounts)}</b>", "ok")


def render(rewards: list[RewardOut], balances: list[BalanceOut]) -> str:
    if not rewards:
        return _html.line("No reward yet: each phase's rewarders say what earns one.")
    rows = [
        [
            _html.moment(r.at),
            _html.text(r.phase),
            _html.line(_html.text(f"{r.amount:+g} {r.unit}"), "bad" if r.amount < 0 else "ok"),
            _html.text(earned(r).partition(" ")[2]),
            "" if r.submission is None else str(r.submission),
        ]
        for r in rewards
    ]
    return balance_line(balances) + _html.table(["when", "phase", "amount", "why", "submission"], rows)
