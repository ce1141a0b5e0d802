"""The organiser panel's Settle and Invalidate tabs in a real kernel against a real service:
each previewed (nothing done), then confirmed, then refused the second time naming the first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coop_client.client import CoopClient
from scorer.ledger.invalidations import invalidation_of
from scorer.ledger.settlements import settlement_of
from scorer.service.app import create_app
from tests.rewards_admin import served_challenge
from tests.widgets.conftest import PREFIX, TOKENS, Served, Service, make_participant


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, dict[str, int]]]:
    made = served_challenge(tmp_path)
    ids = {
        "alice": made.submit("alice", 0.15, private_rmse=0.12),
        "bob": made.submit("bob", 0.18, private_rmse=0.10),
    }
    service = Service(create_app(made.api, TOKENS, prefix=PREFIX))
    service.start()
    try:
        yield Served(made.fixture, made.api, service, tmp_path), ids
    finally:
        service.stop()
        service.held.release()
        made.api.close()


def test_an_organiser_invalidates_then_settles_from_the_panel(served, kernel_for) -> None:
    served, ids = served
    cid, alice = served.challenge_id, ids["alice"]
    kernel = kernel_for(make_participant(served, "olga"))
    kernel.execute("from coop_widgets import OrganiserPanel\npanel = OrganiserPanel()\nawait panel.refresh()")

    # invalidate: a reason is required; the preview names the submission and changes nothing
    kernel.execute(
        f"panel.invalidate.submission.value = {alice}\nawait panel.invalidate.invalidating.preview()"
    )
    assert "reason is empty" in kernel.value("panel.invalidate.invalidating.shown.value")
    assert kernel.value("panel.invalidate.invalidating.confirm_button.layout.display") == "none"
    kernel.execute("panel.invalidate.reason.value = 'reads the answer key'")
    kernel.execute("await panel.invalidate.invalidating.preview()")
    shown = kernel.value("panel.invalidate.invalidating.shown.value")
    assert f"Submission {alice} of alice (phase-1, scored" in shown and "cannot be undone" in shown
    with served.api.sessions() as session:
        assert invalidation_of(session, alice) is None
    kernel.execute("await panel.invalidate.invalidating.confirm()")
    done = kernel.value("panel.invalidate.invalidating.shown.value")
    assert f"Invalidated submission {alice} of alice; 1 reward(s) taken back" in done
    with CoopClient(served.service.url) as anyone:
        assert [row.person for row in anyone.leaderboard(cid, "phase-1", "main").rows] == ["bob"]
    kernel.execute(
        "await panel.invalidate.invalidating.preview()\nawait panel.invalidate.invalidating.confirm()"
    )
    again = kernel.value("panel.invalidate.invalidating.shown.value")
    assert "invalidated already" in again and "by olga" in again and "Preview again" not in again

    # settle the open phase: the preview says what settling now means, and settles nothing
    kernel.execute("panel.settle.phase.value = 'phase-1'\nawait panel.settle.settling.preview()")
    shown = kernel.value("panel.settle.settling.shown.value")
    assert "settled once" in shown and "still open" in shown and "rank" in shown
    with served.api.sessions() as session:
        assert settlement_of(session, cid, "phase-1") is None
    kernel.execute("await panel.settle.settling.confirm()")
    done = kernel.value("panel.settle.settling.shown.value")
    assert "Settled phase-1 (settlement 1): 1 grant(s) to 1 person(s), 20 points." in done
    kernel.execute("await panel.settle.settling.preview()\nawait panel.settle.settling.confirm()")
    assert "settled already (settlement 1" in kernel.value("panel.settle.settling.shown.value")
    assert kernel.value("[e.action for e in panel.events]") == ["settle", "invalidate"]
    assert kernel.value("[e.actor for e in panel.events]") == ["olga", "olga"]
