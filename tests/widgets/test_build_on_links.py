"""Where a solution is shown, "Build on this" links to the participant's server through the hub:
others' leaderboard rows, one's own scored submissions."""

from __future__ import annotations

from datetime import UTC, datetime

from bs4 import BeautifulSoup

from coop_client.lineage import build_on_url
from coop_client.models import ColumnOut, LeaderboardOut, RowOut, SubmissionSummary
from coop_widgets import leaderboard, submissions
from coop_widgets.build_on import build_on_link

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _links(html: str) -> dict[str, str]:
    """Each table row's first cell -> the href of its "Build on this" link ("" when it has none)."""
    found = {}
    for row in BeautifulSoup(html, "html.parser").select("tbody tr"):
        link = row.select_one("a.coop-build-on")
        found[row.td.get_text()] = link["href"] if link else ""
    return found


def test_the_url_goes_through_the_hub_to_the_persons_own_server() -> None:
    assert build_on_url("/", "curve", 7) == "/hub/user-redirect/coop/build-on/curve/7"
    assert build_on_url("/jhub/", "curve", 7) == "/jhub/hub/user-redirect/coop/build-on/curve/7"
    link = BeautifulSoup(build_on_link("curve", 7, {"JUPYTERHUB_BASE_URL": "/jhub/"}), "html.parser").a
    assert (link["href"], link["target"], link.get_text()) == (
        "/jhub/hub/user-redirect/coop/build-on/curve/7",
        "_blank",
        "Build on this",
    )


def test_leaderboard_rows_of_others_link_to_build_on_them() -> None:
    board = LeaderboardOut(
        challenge="curve",
        phase="phase-1",
        leaderboard="main",
        title="Accuracy",
        split="public",
        primary="rmse",
        columns=[ColumnOut(key="rmse", label="RMSE", precision=3, sorting="asc")],
        rows=[
            RowOut(rank=1, person="alice", submission=4, submitted_at=NOW, values={"rmse": 0.1}),
            RowOut(rank=2, person="bob", submission=5, submitted_at=NOW, values={"rmse": 0.2}),
        ],
    )
    html = leaderboard.render(board, "bob")
    assert _links(html) == {"1": "/hub/user-redirect/coop/build-on/curve/4", "2": ""}


def test_my_scored_submissions_link_to_build_on_them() -> None:
    def summary(number: int, status: str) -> SubmissionSummary:
        return SubmissionSummary(
            id=number,
            challenge="curve",
            phase="phase-1",
            commit="a" * 40,
            notebook="solutions/bob/phase-1.ipynb",
            person="bob",
            status=status,
            failure_class=None,
            reason=None,
            created_at=NOW,
            finished_at=None,
            rescore_of=None,
        )

    html = submissions.render([summary(9, "scored"), summary(8, "failed"), summary(7, "queued")])
    assert _links(html) == {"9": "/hub/user-redirect/coop/build-on/curve/9", "8": "", "7": ""}
