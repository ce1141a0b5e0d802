"""A person's live link codes in the ledger (SQLite and PostgreSQL, where the person's row is
locked while they are counted): unexpired ones only, oldest first, each with when it was made."""

from __future__ import annotations

from datetime import timedelta

from ledger_helpers import START

from scorer.ledger.credentials import LinkCodeTimes, add_link_code, live_link_codes


def test_live_codes_are_the_unexpired_ones_oldest_first(sessions) -> None:
    day = timedelta(days=1)
    with sessions.begin() as session:
        for n, made in enumerate([START, START + timedelta(hours=2), START + timedelta(hours=1)]):
            add_link_code(session, "alice", f"{n}" * 64, made + day, now=made)
        add_link_code(session, "bob", "b" * 64, START + day, now=START)
    with sessions.begin() as session:
        found = live_link_codes(session, "alice", now=START + day)  # the first expires then
        nobody = live_link_codes(session, "carol", now=START)
    hour = timedelta(hours=1)
    assert found == [
        LinkCodeTimes(START + hour, START + hour + day),
        LinkCodeTimes(START + 2 * hour, START + 2 * hour + day),
    ]
    assert nobody == []
