"""The reward ledger, balances and rewarders as the API shows them (private evidence obeys the rule)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from coop_client.models import BalanceOut, RewarderOut, RewardOut
from scorer.challenge.spec import Challenge
from scorer.exceptions import UnknownPhase
from scorer.ledger.queries import phase_of, private_scores_visible
from scorer.ledger.rewards import Balance, RewardView
from scorer.rewards.describe import Description

#: What evidence drawn from private scores keeps while they are hidden: no value, and no rule
#: either (a rule may quote one, "new record (was 0.8123)").
PLAIN_EVIDENCE = ("moment", "submission", "commit", "split", "reason")


def of_rewards(
    challenge: Challenge, found: Iterable[RewardView], *, organiser: bool, now: datetime
) -> list[RewardOut]:
    """Rows of the reward ledger as a viewer (an organiser or not) may see them ``now``."""
    visible: dict[str, bool] = {}

    def shows_private(phase_id: str) -> bool:
        if phase_id not in visible:
            try:
                phase = phase_of(challenge, phase_id)
            except UnknownPhase:  # a phase the spec no longer has: its private scores stay hidden
                visible[phase_id] = organiser
            else:
                visible[phase_id] = private_scores_visible(phase, now=now, viewer_is_organiser=organiser)
        return visible[phase_id]

    return [of_reward(view, shows_private(view.phase_id)) for view in found]


def of_reward(view: RewardView, private_visible: bool) -> RewardOut:
    """A ledger row as the API shows it; while its phase hides private scores
    (``private_visible`` false), evidence drawn from them keeps no value."""
    evidence = dict(view.evidence)
    values = evidence.get("values")
    private = view.moment == "settlement" or evidence.get("split") == "private"
    leaks = isinstance(values, dict) and any(str(k).startswith("private.") for k in values)
    hidden = not private_visible and (private or leaks)
    if hidden and private:
        evidence = {k: v for k, v in evidence.items() if k in PLAIN_EVIDENCE}
    elif hidden and isinstance(values, dict):
        evidence["values"] = {k: v for k, v in values.items() if not str(k).startswith("private.")}
    return RewardOut(
        id=view.id,
        kind=view.kind.value,
        compensates=view.compensates,
        at=view.at,
        challenge=view.challenge_id,
        phase=view.phase_id,
        person=view.person,
        rewarder=view.rewarder_type,
        rewarder_index=view.rewarder_index,
        moment=view.moment.value,
        amount=float(view.amount),
        unit=view.unit,
        submission=view.submission_id,
        commit=view.commit_sha,
        rule=evidence.get("rule") if view.kind == "grant" else None,
        reason=evidence.get("reason") if view.kind == "compensation" else None,
        evidence=evidence,
        evidence_hidden=hidden,
    )


def of_balance(balance: Balance) -> BalanceOut:
    return BalanceOut(person=balance.person, unit=balance.unit, amount=float(balance.amount))


def of_rewarder(description: Description) -> RewarderOut:
    return RewarderOut(
        index=description.index,
        type=description.type,
        amount=description.amount,
        unit=description.unit,
        moment=description.moment,
        text=description.text,
    )
