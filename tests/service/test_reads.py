"""The read-only JSON API against the running service, through the client and plain httpx."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import nbformat
import pytest

from coop_client.client import CoopClient, CoopClientError
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.service.app import create_app
from tests.conftest import make_challenge
from tests.service.conftest import PREFIX, TOKENS, running


def test_anonymous_reads_challenges_and_the_public_leaderboard(service, scored):
    with CoopClient(service) as client:
        [summary] = client.challenges()
        assert (summary.id, summary.current_phase) == ("curve", "phase-1")
        detail = client.challenge("curve")
        [phase] = detail.phases
        assert phase.open and phase.end is None and phase.leaderboards == ["main"]
        assert [m.key for m in detail.metrics] == ["rmse", "mae"]
        board = client.leaderboard("curve", "phase-1", "main")
    assert board.split == "public" and board.primary == "rmse"
    assert [c.key for c in board.columns] == ["rmse", "mae", "time"]
    [row] = board.rows  # bob's notebook failed: only alice ranks
    assert (row.rank, row.person, row.submission) == (1, "alice", scored.alice_id)
    assert 0 < row.values["rmse"] < 0.3 and row.rank_change is None


def test_the_list_of_challenges_counts_participants_and_their_submissions(service, scored):
    with CoopClient(service) as client:
        [summary] = client.challenges()
        bob = client.submission(scored.bob_id)
        detail = client.challenge("curve")
    assert summary.activity is not None and detail.activity is None  # counted in the list only
    assert (summary.activity.participants, summary.activity.submissions) == (2, 2)  # a failure counts
    assert summary.activity.last_at == bob.created_at


def test_a_phase_says_its_run_limits_and_rules_and_a_board_how_it_ranks(service, scored):
    with CoopClient(service) as client:
        [phase] = client.challenge("curve").phases
        board = client.leaderboard("curve", "phase-1", "main")
    limits = phase.run_limits
    assert limits is not None and (limits.wall_time, limits.cell_time, limits.memory) == (60, 30, 1024**3)
    assert phase.open_code is False and phase.public_fraction
    assert board.select == "best" and all(c.computation is None for c in board.columns)


def test_private_leaderboard_is_hidden_from_participants_until_the_end(service):
    with CoopClient(service, token="alice-token") as alice, pytest.raises(CoopClientError) as refused:
        alice.leaderboard("curve", "phase-1", "main", split="private")
    assert refused.value.status == 403
    assert refused.value.message == (
        "private scores of phase 'phase-1' become visible when the phase ends (no end date is set yet)"
    )
    with CoopClient(service, token="org-token") as organiser:
        board = organiser.leaderboard("curve", "phase-1", "main", split="private")
    assert board.split == "private" and board.rows[0].person == "alice"
    assert board.rows[0].rank_change == 0


def test_submission_shows_status_failure_and_only_visible_scores(service, scored):
    with CoopClient(service, token="alice-token") as alice:
        mine = alice.submission(scored.alice_id)
        failed = alice.submission(scored.bob_id)
    assert mine.status == "scored" and mine.person == "alice" and mine.commit == scored.alice_sha
    assert set(mine.public) == {"rmse", "mae"} and mine.private is None
    assert mine.created_at.tzinfo is not None
    assert (failed.status, failed.failure_class) == ("failed", "exception")
    # bob's reason quotes his code, closed in this phase: his and the organisers' to read
    assert failed.reason is None and "traceback" not in (failed.provenance or {})
    with CoopClient(service, token="bob-token") as bob:
        his = bob.submission(scored.bob_id)
    assert his.reason == "ValueError: bad degree (in cell 4: \"raise ValueError('bad degree')\")"
    assert "bad degree" in str((his.provenance or {})["traceback"])
    with CoopClient(service, token="org-token") as organiser:
        assert set(organiser.submission(scored.alice_id).private or {}) == {"rmse", "mae"}
        assert organiser.submission(scored.bob_id).reason == his.reason


def test_submissions_filter_by_person_status_and_commit(service, scored):
    with CoopClient(service) as client:
        assert [s.id for s in client.submissions(person="alice")] == [scored.alice_id]
        assert [s.id for s in client.submissions(status="failed")] == [scored.bob_id]
        assert [s.id for s in client.submissions(commit=scored.alice_sha[:8])] == [scored.alice_id]
        assert {s.id for s in client.submissions(challenge="curve", phase="phase-1")} == {
            scored.alice_id,
            scored.bob_id,
        }
        assert client.submissions(challenge="elsewhere") == []
    answer = httpx.get(f"{service}/api/submissions", params={"status": "lost"})
    assert answer.status_code == 422 and answer.json()["error"].startswith("invalid request: query.status")


def test_the_notebook_route_gives_the_author_valid_nbformat_and_hides_closed_code(service, scored):
    with CoopClient(service, token="bob-token") as bob:
        notebook = nbformat.from_dict(bob.notebook(scored.bob_id))
        nbformat.validate(notebook)
        assert any("bad degree" in str(cell.get("outputs", "")) for cell in notebook.cells)
        with pytest.raises(CoopClientError) as hidden:
            bob.notebook(scored.alice_id)  # this phase keeps code closed
    assert hidden.value.status == 403
    assert (
        hidden.value.message
        == "solutions of phase 'phase-1' are visible only to their authors during this phase"
    )
    raw = httpx.get(
        f"{service}/api/submissions/{scored.bob_id}/notebook", headers={"Authorization": "token org-token"}
    )
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/x-ipynb+json"
    assert httpx.get(f"{service}/api/submissions/{scored.bob_id}/notebook").status_code == 403  # anonymous


@pytest.mark.parametrize(
    ("path", "message", "code"),
    [
        ("/api/submissions/999999", "no submission 999999", "unknown-submission"),
        ("/api/submissions/999999/notebook", "no submission 999999", "unknown-submission"),
        ("/api/challenges/nope", "no challenge 'nope'", "unknown-challenge"),
        (
            "/api/challenges/curve/phases/phase-9/leaderboards/main",
            "challenge 'curve' has no phase 'phase-9'",
            "unknown-phase",
        ),
        (
            "/api/challenges/curve/phases/phase-1/leaderboards/speed",
            "phase 'phase-1' shows no leaderboard 'speed'",
            "unknown-leaderboard",
        ),
        ("/api/nowhere", "Not Found", "not-found"),
    ],
)
def test_unknown_things_are_404_json_without_a_trace(service, path, message, code):
    answer = httpx.get(service + path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {"error": message, "code": code}


def test_a_bad_split_is_a_json_422(service):
    answer = httpx.get(f"{service}/api/challenges/curve/phases/phase-1/leaderboards/main?split=secret")
    assert answer.status_code == 422 and "split" in answer.json()["error"]


def test_private_leaderboard_opens_to_everyone_after_the_phase_ends(tmp_path):
    ended = {"phases.0.start": "2020-01-01T00:00:00Z", "phases.0.end": "2020-02-01T00:00:00Z"}
    fixture = make_challenge(tmp_path, edit=ended)
    api = fixture.api()
    try:
        with (
            running(create_app(api, TOKENS, prefix=PREFIX)) as url,
            CoopClient(url + PREFIX, token="alice-token") as alice,
        ):
            board = alice.leaderboard("curve", "phase-1", "main", split="private")
            assert (board.split, board.rows) == ("private", [])
            assert alice.challenge("curve").current_phase is None
    finally:
        api.close()


def test_a_cached_board_is_served_again_until_the_ledger_changes(tmp_path):
    fixture = make_challenge(tmp_path)
    api = fixture.api()
    record = ScoredRecord(
        "dora", "a" * 40, datetime(2026, 1, 1, tzinfo=UTC), {"rmse": 2.0, "mae": 1.0}, {}, 1.0, 1e6
    )
    try:
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
            board = f"{url}{PREFIX}api/challenges/curve/phases/phase-1/leaderboards/main"
            assert httpx.get(board).json()["rows"] == []
            with api.sessions.begin() as session:
                import_scored(session, "curve", "phase-1", [record])
            first, again = httpx.get(board), httpx.get(board)
            assert first.content == again.content
            assert [(r["person"], r["values"]["rmse"]) for r in first.json()["rows"]] == [("dora", 2.0)]
            with api.sessions.begin() as session:
                import_scored(
                    session, "curve", "phase-1", [replace(record, username="eve", commit_sha="b" * 40)]
                )
            assert [r["person"] for r in httpx.get(board).json()["rows"]] == ["dora", "eve"]
    finally:
        api.close()
