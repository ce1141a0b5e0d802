"""Link codes are rate limited (a real SQLite ledger, time given explicitly): at most
``link_codes_live`` unexpired codes per person and one every ``link_code_interval`` seconds;
a refusal stores nothing and says in whole seconds when to ask again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scorer.config import ScorerSettings
from scorer.exceptions import LinkCodeTooSoon, TooManyLinkCodes
from scorer.facade import CoopAPI
from scorer.ledger.credentials import live_link_codes
from scorer.profiles.federation import LINK_CODE_LIFETIME, new_link_code

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY = int(LINK_CODE_LIFETIME.total_seconds())


@pytest.fixture
def api(tmp_path) -> Iterator[CoopAPI]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home"), link_codes_live=2, link_code_interval=60))
    yield api
    api.close()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def live(api: CoopAPI, person: str, seconds: float) -> int:
    with api.sessions() as session:
        return len(live_link_codes(session, person, now=at(seconds)))


def test_one_code_per_interval_and_a_few_at_once_until_one_expires(api: CoopAPI) -> None:
    new_link_code(api, "alice", now=at(0))
    with pytest.raises(LinkCodeTooSoon) as soon:
        new_link_code(api, "alice", now=at(30))
    refusal = soon.value
    assert (refusal.http_status, refusal.code, refusal.retry_after) == (429, "link-code-too-soon", 30)
    assert "at most one link code every 60 s: ask again in 30 s" in refusal.user_message
    new_link_code(api, "bob", now=at(30))  # another person's interval is their own
    new_link_code(api, "alice", now=at(60))
    with pytest.raises(TooManyLinkCodes) as many:
        new_link_code(api, "alice", now=at(120))
    assert (many.value.code, many.value.retry_after) == ("too-many-link-codes", DAY - 120)
    assert live(api, "alice", 120) == 2  # nothing stored by the refusals
    code, expires_at = new_link_code(api, "alice", now=at(DAY))  # the first one expired
    assert code and expires_at == at(2 * DAY)
    assert live(api, "alice", DAY) == 2


def test_parts_of_a_second_round_up_and_the_later_limit_is_named(api: CoopAPI) -> None:
    new_link_code(api, "alice", now=at(0))
    with pytest.raises(LinkCodeTooSoon) as soon:
        new_link_code(api, "alice", now=at(0.5))
    assert soon.value.retry_after == 60  # 59.5 s: asking after 59 would still be too soon
    api.settings.link_codes_live = 1
    with pytest.raises(TooManyLinkCodes) as many:  # both hit: the full day outlasts the interval
        new_link_code(api, "alice", now=at(10))
    assert many.value.retry_after == DAY - 10
