"""The caller's submission quota in a phase, as the running service computes it from the limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

import pytest

from coop_client.client import CoopClient, CoopClientError
from scorer.service.app import create_app
from tests.conftest import make_challenge, require
from tests.service.conftest import PREFIX, TOKENS, running


@pytest.fixture(scope="module")
def quota_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """At most 5 submissions a day and 2 in the phase; alice has made two."""
    require("bwrap")
    fixture = make_challenge(
        tmp_path_factory.mktemp("quota"),
        edit={"phases.0.submissions": {"per_day": 5, "per_person": 2, "min_interval": None}},
    )
    api = fixture.api()
    for name in ("a.ipynb", "b.ipynb"):
        sha = fixture.commit("alice", {f"solutions/alice/{name}": fixture.baseline})
        api.enqueue_commit(str(fixture.bare), sha)
    with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
        yield url + PREFIX.rstrip("/")
    api.close()


def test_a_person_at_the_phase_limit_has_no_next_slot(quota_service) -> None:
    url = quota_service
    with CoopClient(url, token="alice-token") as alice:
        quota = alice.quota("curve", "phase-1")
        made = [s.created_at for s in alice.submissions(challenge="curve", person="alice")]
    assert (quota.person, quota.phase, quota.limits.per_person) == ("alice", "phase-1", 2)
    assert (quota.left_in_phase, quota.blocked_by, quota.next_slot) == (0, "per-person", None)
    assert quota.left_today == 5 - sum(1 for t in made if t.date() == quota.at.astimezone(UTC).date())
    assert quota.reason == "limit of 2 submissions per person in this phase reached"


def test_a_person_with_slots_left_may_submit_now(quota_service) -> None:
    url = quota_service
    with CoopClient(url, token="bob-token") as bob:
        quota = bob.quota("curve", "phase-1")
    assert (quota.person, quota.left_today, quota.left_in_phase) == ("bob", 5, 2)
    assert quota.blocked_by is None and quota.reason is None and quota.next_slot == quota.at


def test_the_quota_needs_a_caller_and_a_known_phase(quota_service) -> None:
    url = quota_service
    with CoopClient(url) as anonymous, pytest.raises(CoopClientError) as refused:
        anonymous.quota("curve", "phase-1")
    assert refused.value.status == 401
    with CoopClient(url, token="bob-token") as bob, pytest.raises(CoopClientError) as unknown:
        bob.quota("curve", "phase-9")
    assert unknown.value.status == 404
