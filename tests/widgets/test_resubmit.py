"""Submit after a submission limit refused the commit: the next slot (shown by the browser in
its own time zone, counting down), and the commit already pushed scored once the slot is free."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scorer.ingest.limits import format_time
from scorer.ledger import queries
from tests.widgets.conftest import Served, make_participant, serve, show_submit

#: Seconds between counted submissions: long enough for a second push to fall inside it.
MIN_INTERVAL = 20


@pytest.fixture(scope="module")
def brief(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("widgets-brief"), min_interval=MIN_INTERVAL)


def mine(served: Served, user: str) -> list[queries.SubmissionView]:
    with served.api.sessions() as session:
        return queries.submissions(session, challenge_id=served.challenge_id, username=user)


def test_a_refused_commit_is_offered_and_scored_once_its_slot_is_free(brief: Served, kernel_for) -> None:
    alice = make_participant(brief, "alice")
    kernel = kernel_for(alice)
    ids = show_submit(kernel)
    kernel.click(ids["button"])
    kernel.wait_for_status(ids["submit"], {"queued"})
    alice.edit(
        3, "coefficients = np.polyfit(train.x, train.y, 5)\ntest['y'] = np.polyval(coefficients, test.x)"
    )
    kernel.execute("await submit.submit()")
    assert kernel.value("submit.status") == "rejected"
    refused = kernel.value("submit.submission")
    [refused_view, first] = mine(brief, "alice")
    slot = first.created_at.replace(tzinfo=UTC) + timedelta(seconds=MIN_INTERVAL)
    assert kernel.value("submit.clock.moment") == format_time(slot)  # the browser shows it locally
    shown = kernel.value("submit.headline.value + submit.details.value")
    assert "at most one submission every 20 s" in shown and format_time(slot) not in shown
    assert kernel.value("submit.resubmit_button.layout.display") is None  # offered

    buttons = kernel.value("{'resubmit': submit.resubmit_button.model_id}")
    since = len(kernel.statuses(ids["submit"]))
    kernel.click(buttons["resubmit"])  # before the slot: still refused, nothing recorded
    assert kernel.wait_for_status(ids["submit"], {"rejected", "queued", "error"}, since=since) == "rejected"
    assert f"Submission {refused} still waits for its slot" in kernel.value("submit.headline.value")
    assert len(mine(brief, "alice")) == 2

    time.sleep(max(0.0, (slot - datetime.now(UTC)).total_seconds()))
    since = len(kernel.statuses(ids["submit"]))
    kernel.click(ids["button"])  # Submit, nothing changed since the refused push
    assert (
        kernel.wait_for_status(ids["submit"], {"queued", "nothing", "rejected", "error"}, since=since)
        == "queued"
    )
    assert kernel.statuses(ids["submit"])[since:] == ["saving", "committing", "resubmitting", "queued"]
    again = mine(brief, "alice")[0]
    assert again.id == kernel.value("submit.submission") != refused
    assert (again.commit_sha, again.notebook_path) == (refused_view.commit_sha, refused_view.notebook_path)
    assert kernel.value("submit.clock.moment") == ""
