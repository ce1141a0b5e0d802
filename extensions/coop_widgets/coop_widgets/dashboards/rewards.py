"""The rewards page (``rewards.ipynb?id=<challenge>&phase=<phase>``): the phase's rewarders in
words, each person's balance, the settlement once done, and the reward history, newest first,
a page at a time (``offset``), for everyone or one ``person``; compensations are shown as what
they are: a grant taken back, and why."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from coop_client.models import BalanceOut, ChallengeOut, PhaseOut, RewarderOut, RewardOut
from coop_widgets._html import moment
from coop_widgets.dashboards import page
from coop_widgets.dashboards.challenge import chosen_phase
from coop_widgets.rewards import earned

#: Rows of the history on one page.
PER_PAGE = 50
#: How soon a rewarder grants (a settlement rewarder's sentence says when already).
WHEN = {"live": " <i>(as soon as earned)</i>", "settlement": ""}


def main() -> None:
    """Display the page the address asks for."""
    page.show(lambda: render(page.query()), current="rewards", missing="challenge")


def render(params: Mapping[str, str]) -> str:
    """The page for the address's ``id``, ``phase``, ``person`` and ``offset``."""
    challenge_id = page.need(params, "id", "challenge")
    person = params.get("person") or None
    with page.client() as client:
        challenge = client.challenge(challenge_id)
        phase = chosen_phase(challenge, params.get("phase"), datetime.now(UTC))
        rewarders = client.rewarders(challenge.id, phase.id)
        history = client.rewards(challenge.id, phase=phase.id, person=person)
        balances = client.balances(challenge.id, phase=phase.id)
    return rewards_page(
        challenge, phase, rewarders, history, balances, person=person, offset=page.offset(params)
    )


def rewards_page(
    challenge: ChallengeOut,
    phase: PhaseOut,
    rewarders: Sequence[RewarderOut],
    history: Sequence[RewardOut],
    balances: Sequence[BalanceOut],
    *,
    person: str | None = None,
    offset: int = 0,
) -> str:
    """The whole page as escaped HTML."""
    return "".join(
        [
            f"<h1>Rewards · {page.text(challenge.title)}</h1>",
            phase_nav(challenge, phase),
            rewarders_section(rewarders),
            balances_section(balances),
            settlement_section(phase, rewarders, history),
            history_section(challenge.id, phase.id, history, person=person, offset=offset),
        ]
    )


def phase_nav(challenge: ChallengeOut, current: PhaseOut) -> str:
    """Links to the other phases' rewards, the challenge and the phase's contribution graph."""
    phases = " · ".join(
        f'<span aria-current="page"><b>{page.text(p.title)}</b></span>'
        if p.id == current.id
        else page.anchor(page.link("rewards", id=challenge.id, phase=p.id), p.title)
        for p in challenge.phases
    )
    others = " · ".join(
        [
            page.anchor(page.link("challenge", id=challenge.id, phase=current.id), "leaderboards"),
            page.anchor(page.link("graph", id=challenge.id, phase=current.id), "contribution graph"),
        ]
    )
    return f'<nav aria-label="Phases"><p>Phases: {phases}</p><p>See also: {others}</p></nav>'


def rewarders_section(rewarders: Sequence[RewarderOut]) -> str:
    if not rewarders:
        return "<h2>How to earn rewards</h2><p>This phase gives no rewards.</p>"
    items = "".join(f"<li>{page.text(r.text)}{WHEN[r.moment]}</li>" for r in rewarders)
    return f"<h2>How to earn rewards</h2><ul>{items}</ul>"


def balances_section(balances: Sequence[BalanceOut]) -> str:
    """One row per person, one column per unit, the largest first unit's balance first."""
    if not balances:
        return "<h2>Balances</h2><p>Nobody has earned a reward in this phase yet.</p>"
    units = list(dict.fromkeys(b.unit for b in balances))
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for balance in balances:
        table[balance.person][balance.unit] = balance.amount
    people = sorted(table, key=lambda who: (*(-table[who].get(unit, 0.0) for unit in units), who))
    rows = [
        [page.anchor(page.profile_link(who), who)] + [_amount(table[who].get(unit, 0.0)) for unit in units]
        for who in people
    ]
    return "<h2>Balances</h2>" + page.table(["person", *units], rows, numeric=range(1, len(units) + 1))


def settlement_section(
    phase: PhaseOut, rewarders: Sequence[RewarderOut], history: Sequence[RewardOut]
) -> str:
    """What the settlement granted once it happened; before, when it will happen."""
    settled = [r for r in history if r.moment == "settlement" and r.kind == "grant"]
    waiting = [r for r in rewarders if r.moment == "settlement"]
    if not settled and not waiting:
        return ""
    head = "<h2>Settlement</h2>"
    if not settled:
        when = "when the phase ends" if phase.open else "once the organisers settle it"
        return head + (
            f'<p class="coop-notice">Not settled yet: {len(waiting)} rewarder(s) are judged on private '
            f"scores {when}.</p>"
        )
    totals: dict[str, float] = defaultdict(float)
    for grant in settled:
        totals[grant.unit] += grant.amount
    people = {grant.person for grant in settled}
    summary = (
        f"Settled on {page.text(moment(min(g.at for g in settled)))}: {len(settled)} grant(s) to "
        f"{len(people)} person(s), {page.text(', '.join(f'{v:g} {u}' for u, v in totals.items()))} in all."
    )
    rows = [
        [page.anchor(page.profile_link(g.person), g.person), _amount(g.amount, g.unit), _why(g)]
        for g in settled
    ]
    return head + f"<p>{summary}</p>" + page.table(["person", "amount", "why"], rows, numeric=[1])


def history_section(
    challenge_id: str, phase_id: str, history: Sequence[RewardOut], *, person: str | None, offset: int
) -> str:
    """The rows ``offset`` to ``offset + PER_PAGE`` of the history, newest first, with links to
    the pages around it (and back to everyone's history when it shows one person's)."""
    title = f"<h2>Reward history{' of ' + page.text(person) if person else ''}</h2>"
    everyone = (
        f"<p>{page.anchor(page.link('rewards', id=challenge_id, phase=phase_id), 'Everyone’s rewards')}</p>"
        if person
        else ""
    )
    if not history:
        return title + everyone + "<p>No reward has been granted yet.</p>"
    newest = sorted(history, key=lambda r: (r.at, r.id), reverse=True)
    offset = min(max(0, offset), (len(newest) - 1) // PER_PAGE * PER_PAGE)
    shown = newest[offset : offset + PER_PAGE]
    rows = [_history_row(challenge_id, phase_id, r) for r in shown]
    headers = ["when", "who", "amount", "what", "why", "solution"]
    span = f"<p>Rows {offset + 1}–{offset + len(shown)} of {len(newest)}, newest first.</p>"
    return (
        title
        + everyone
        + span
        + page.table(headers, rows, numeric=[2])
        + _pager(challenge_id, phase_id, person, offset, len(newest))
    )


def _history_row(challenge_id: str, phase_id: str, reward: RewardOut) -> list[str]:
    who = page.anchor(
        page.link("rewards", id=challenge_id, phase=phase_id, person=reward.person), reward.person
    )
    if reward.kind == "compensation":
        what = (
            f"<b>compensation</b> of grant #{reward.compensates}"
            if reward.compensates
            else "<b>compensation</b>"
        )
    else:
        what = "grant"
    what += f" · {page.text(reward.rewarder)}" + (" · settlement" if reward.moment == "settlement" else "")
    solution = (
        ""
        if reward.submission is None
        else page.anchor(page.notebook_link(reward.submission), f"notebook #{reward.submission}")
        + " · "
        + page.anchor(page.diff_link(reward.submission), "diff")
    )
    return [
        page.text(moment(reward.at)),
        who,
        _amount(reward.amount, reward.unit),
        what,
        _why(reward),
        solution,
    ]


def _why(reward: RewardOut) -> str:
    """The rule that fired (or why it was taken back), with the values that showed it."""
    why = earned(reward).partition(": ")[2]
    values = reward.evidence.get("values")
    if isinstance(values, dict) and values and reward.kind == "grant" and not reward.evidence_hidden:
        shown = ", ".join(
            f"{key} = {value:.4g}" for key, value in values.items() if isinstance(value, int | float)
        )
        why += f" ({shown})" if shown else ""
    return page.text(why)


def _pager(challenge_id: str, phase_id: str, person: str | None, offset: int, total: int) -> str:
    def to(start: int, label: str) -> str:
        return page.anchor(
            page.link("rewards", id=challenge_id, phase=phase_id, person=person, offset=start), label
        )

    links = []
    if offset > 0:
        links += [to(0, "« newest"), to(max(0, offset - PER_PAGE), "‹ newer")]
    if offset + PER_PAGE < total:
        links += [to(offset + PER_PAGE, "older ›"), to((total - 1) // PER_PAGE * PER_PAGE, "oldest »")]
    return f'<nav aria-label="History pages"><p>{" · ".join(links)}</p></nav>' if links else ""


def _amount(value: float, unit: str = "") -> str:
    return page.text(f"{value:+g} {unit}".strip() if unit else f"{value:g}")
