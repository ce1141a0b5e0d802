"""What the dashboards read first, computed once when the service starts rather than by their
first viewer: each challenge's shown phase (the open one, else the one that started last) with
every board ranked, the credit ladder of its first board and the graph page's first view of it.
At 100k commits the ladder alone takes ~30 s; a page waiting for it would keep its viewer that
long, and twenty viewers at once would queue behind it.

    warm(api)   # coop serve calls it in the background (scorer.cli.serve.start_preparing)
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from scorer.facade import CoopAPI
from scorer.ledger import queries

log = logging.getLogger("coop")


def warm(api: CoopAPI, now: datetime | None = None) -> list[str]:
    """Rank the boards and compute the first board's credit ladder and whole-phase graph overview
    of each challenge's shown phase; ``challenge/phase`` of each one warmed. A challenge that
    fails is logged and skipped."""
    moment = now or datetime.now(UTC)
    with api.sessions() as session:
        challenges = [queries.load_challenge(session, i) for i in queries.challenge_ids(session)]
    warmed = []
    for challenge in challenges:
        if not challenge.phases:
            continue
        phase = challenge.current_phase(moment) or max(challenge.phases, key=lambda p: p.start)
        try:
            for board in challenge.phase_leaderboards(phase):
                api.leaderboard(challenge.id, phase_id=phase.id, board=board.key, now=moment)
            api.credit_table(challenge.id, phase.id, now=moment)
            api.graph_overview(challenge.id, phase.id, now=moment)
        except Exception:  # the service runs on: a page will compute it (and say what failed)
            log.exception("warming %s/%s failed", challenge.id, phase.id)
            continue
        warmed.append(f"{challenge.id}/{phase.id}")
    return warmed
