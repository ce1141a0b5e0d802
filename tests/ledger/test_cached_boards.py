"""A cached leaderboard updated for the one person a new score changed equals ranking from scratch."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger_helpers import Ledger
from sqlalchemy.orm import Session, sessionmaker

from scorer.challenge.spec import Challenge
from scorer.ledger import queries
from scorer.ledger.entries import rebuild
from scorer.ledger.invalidations import invalidate
from scorer.ledger.models import Submission

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_each_new_score_updates_the_cached_boards_as_ranking_from_scratch_would(
    sessions: sessionmaker[Session], challenge: Challenge, ledger: Ledger
) -> None:
    ledger.submit("ann", 0.5, 0.9)
    first = ledger.submit("bob", 0.6, 0.2, loss=0.5)
    reads = [(board, split) for board in ("main", "latest") for split in ("public", "private")]

    def boards(cached: bool) -> list[queries.LeaderboardView]:
        with sessions() as session:
            return [
                queries.leaderboard(
                    session,
                    challenge,
                    "p1",
                    board,
                    split=split,
                    viewer_is_organiser=True,
                    now=NOW,
                    cached=cached,
                )
                for board, split in reads
            ]

    def check(before: list[queries.LeaderboardView]) -> list[queries.LeaderboardView]:
        """The boards now, having checked they were updated from ``before`` as from scratch."""
        after, scratch = boards(cached=True), boards(cached=False)
        for view, earlier, expected in zip(after, before, scratch, strict=True):
            assert view.follows == earlier.version != view.version
            assert (view.rows, view.rank_changes, view.columns) == (
                expected.rows,
                expected.rank_changes,
                expected.columns,
            )
        return after

    before = boards(cached=True)
    submitted: dict[str, int] = {}
    for person, accuracy, private, extra in [
        ("cid", 0.55, 0.5, {}),  # a newcomer
        ("ann", 0.7, 0.1, {}),  # a better score moves ann up
        ("ann", 0.1, 0.8, {}),  # not ann's best: only the latest board moves
        ("bob", 0.6, 0.95, {"rescore_of": first}),  # a rescore replaces bob's first score
        ("dan", 0.6, 0.3, {}),  # ties bob's accuracy: the tie break and the earlier submission decide
    ]:
        submitted[person] = ledger.submit(person, accuracy, private, **extra)
        before = check(before)
    assert [(r.person, r.rank) for r in before[0].rows] == [("ann", 1), ("bob", 2), ("dan", 3), ("cid", 4)]
    # cid's only score is invalidated and cid's entries rebuilt: cid leaves every board.
    with sessions.begin() as session:
        invalidate(session, submitted["cid"], "olga", "copied")
        rebuild(session, challenge, "p1", person_id=session.get_one(Submission, submitted["cid"]).person_id)
    assert [r.person for r in check(before)[0].rows] == ["ann", "bob", "dan"]
