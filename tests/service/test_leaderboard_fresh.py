"""A new score shows in the next read of a board, the cached view updated for that one person."""

from __future__ import annotations

import httpx

from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ledger import store
from scorer.ledger.entries import touch
from scorer.service.app import create_app
from tests.ledger.ledger_helpers import Ledger, challenge_spec
from tests.service.conftest import PREFIX, TOKENS, running

ORGANISER = {"Authorization": "token org-token"}


def test_a_new_score_shows_in_the_next_read(tmp_path):
    api = CoopAPI(ScorerSettings(home=str(tmp_path)))
    spec = challenge_spec()
    with api.sessions.begin() as session:
        store.upsert_challenge(session, spec, "repo")
    ledger = Ledger(api.sessions, spec)
    ledger.submit("ann", 0.7, 0.6)
    liked = ledger.submit("bob", 0.8, 0.5)
    api.like(liked, "ann")  # likes read once ride along as the board is updated
    try:
        with running(create_app(api, TOKENS, prefix=PREFIX)) as url, httpx.Client() as http:
            board = f"{url}{PREFIX}api/challenges/higgs/phases/p1/leaderboards"
            reads = {  # a public page, its first row, and the organisers' private board
                "public": (f"{board}/main", {}),
                "first": (f"{board}/main?limit=1", {}),
                "private": (f"{board}/main?split=private", ORGANISER),
                "latest": (f"{board}/latest", {}),
            }

            def read() -> dict[str, httpx.Response]:
                return {name: http.get(u, headers=h).raise_for_status() for name, (u, h) in reads.items()}

            def ranks(response: httpx.Response) -> list[tuple[str, int, int | None]]:
                return [(r["person"], r["rank"], r["rank_change"]) for r in response.json()["rows"]]

            assert ranks(read()["public"]) == [
                ("bob", 1, None),
                ("ann", 2, None),
            ]
            for person, public, private in [
                ("cid", 0.75, 0.9),  # a newcomer between them
                ("ann", 0.9, 0.4),  # ann moves from last to first
                ("bob", 0.1, 0.95),  # not bob's best: only the latest board changes
            ]:
                before = api.leaderboard("higgs", phase_id="p1", board="main").version
                ledger.submit(person, public, private)
                fresh = read()
                view = api.leaderboard("higgs", phase_id="p1", board="main")
                assert view.follows == before != view.version  # updated for one person, not re-ranked
            assert ranks(fresh["public"]) == [("ann", 1, None), ("bob", 2, None), ("cid", 3, None)]
            assert ranks(fresh["first"]) == [("ann", 1, None)] and fresh["first"].json()["total"] == 3
            assert ranks(fresh["private"]) == [("cid", 1, 2), ("bob", 2, 0), ("ann", 3, -2)]
            assert "time" in fresh["private"].json()["rows"][0]["values"]  # hidden, but organisers see it
            assert "time" not in fresh["public"].json()["rows"][0]["values"]
            assert [r["person"] for r in fresh["latest"].json()["rows"]] == ["ann", "cid", "bob"]
            assert [r["likes"] for r in fresh["public"].json()["rows"]] == [0, 1, 0]
            # Ranked and encoded from scratch, every board reads the same, byte for byte.
            with api.sessions.begin() as session:
                touch(session, "higgs", "p1")
            again = read()
            assert api.leaderboard("higgs", phase_id="p1", board="main").follows is None
            assert {name: r.content for name, r in again.items()} == {
                name: r.content for name, r in fresh.items()
            }
    finally:
        api.close()
