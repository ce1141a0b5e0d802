"""Leaderboard, PhaseBanner and MySubmissions in a real kernel against the service."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from coop_widgets._html import HIGHLIGHT
from scorer.ingest.limits import format_time
from scorer.scoring.worker import score_submission
from tests.widgets.conftest import Served, make_participant


@pytest.mark.needs("bwrap")
def test_the_leaderboard_ranks_and_highlights_the_current_user(served: Served, kernel_for) -> None:
    fixture = served.fixture
    [alice] = fixture.score(fixture.commit("alice", {"solutions/alice/fit.ipynb": fixture.baseline}))
    [bob] = fixture.score(
        fixture.solution(
            "coefficients = np.polyfit(train.x, train.y, 1)\ntest['y'] = np.polyval(coefficients, test.x)",
            user="bob",
        )
    )
    assert (alice.outcome, bob.outcome) == ("scored", "scored")
    kernel = kernel_for(make_participant(served, "bob"))
    kernel.execute("from coop_widgets import Leaderboard\nboard = Leaderboard()\nawait board.refresh()")
    assert kernel.value("[row.person for row in board.shown.rows]") == [
        "alice",
        "bob",
    ]  # a cubic beats a line
    table = kernel.value("board.body.value")
    highlighted = table.split(f'<tr style="{HIGHLIGHT}">')[1].split("</tr>")[0]
    assert ">bob<" in highlighted and ">alice<" not in highlighted
    assert "RMSE" in table and "Accuracy" in kernel.value("board.title.value")
    assert kernel.value("board.problem.value") == ""
    kernel.execute("other = Leaderboard(phase='phase-9')\nawait other.refresh()")
    assert "has no phase &#x27;phase-9&#x27;" in kernel.value("other.problem.value")


@pytest.mark.needs("bwrap")
def test_my_submissions_refresh_while_one_waits_and_the_banner_counts_the_limit(
    served: Served, kernel_for
) -> None:
    carol = make_participant(served, "carol")
    carol.git("add", "solutions")
    carol.git("commit", "-q", "-m", "baseline")
    carol.git("push", "origin", "HEAD:refs/heads/carol/work")  # from a terminal
    kernel = kernel_for(carol)
    kernel.execute(
        "from coop_widgets import MySubmissions, PhaseBanner\n"
        "mine = MySubmissions(poll_interval=0.2)\nbanner = PhaseBanner()\n"
        "await mine.refresh()\nawait banner.refresh()"
    )
    [submission] = kernel.value("[s.id for s in mine.shown]")
    assert kernel.value("[s.status for s in mine.shown]") == ["queued"] and ">queued<" in kernel.value(
        "mine.body.value"
    )
    facts = kernel.value("{k: str(v) for k, v in banner.facts.items()}")
    assert (facts["phase"], facts["blocked"], facts["left_today"]) == ("phase-1", "True", "None")
    created = served.api.submission(submission)[0].created_at
    assert facts["next_slot"] == str((created + timedelta(hours=1)).replace(tzinfo=UTC))
    assert "not now: see the next slot below" in kernel.value("banner.body.value")
    assert kernel.value("banner.clock.moment") == format_time(created + timedelta(hours=1))
    assert score_submission(submission, served.fixture.settings.to_dict()) == "scored"
    # nobody presses refresh: the table follows the waiting submission by itself
    kernel.wait_for(
        lambda: "scored" in str(kernel.updates(kernel.value("mine.body.model_id"))),
        60,
        "the table to show it scored",
    )
    assert kernel.value("[s.status for s in mine.shown]") == ["scored"]
