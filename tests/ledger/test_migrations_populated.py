"""A populated ledger upgraded through every migration keeps every row, on SQLite and PostgreSQL.

The database starts at the first revision; each revision's rows are written in plain SQL for
that revision's schema (as the platform of the time stored them: a time as SQLAlchemy wrote it
to SQLite, JSON as text), then the next migration runs, one at a time up to head. At head the
platform's own reading code (leaderboards, submissions, scores, events, attribution, deliveries,
audit, rewards, likes, settlements, invalidations, profiles, credentials) finds every row with
its values; the stored boards are those the platform ranks again from the migrated submissions;
the schema equals a freshly migrated one; and the ledger takes new work (ids follow the old ones).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from ledger_helpers import END, START, Ledger, challenge_spec, sha
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from test_migrations import diff

from scorer.ledger import (
    audit,
    commits,
    credentials,
    deliveries,
    entries,
    invalidations,
    likes,
    profiles,
    queries,
    rewards,
    settlements,
)
from scorer.ledger.db import alembic_config, current_revision, make_engine, session_factory, upgrade
from scorer.ledger.models import Base, append_only_tables
from scorer.ledger.store import spec_digest
from tests.pg import schema_url

#: Every migration, oldest first; a new one fails this test until its rows are written below.
REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009"]
NOW = END + timedelta(days=400)  # p1 ended: its private scores are shown, its code open
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
ENVIRONMENT = "e" * 64


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database (no migration run yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger' / 'coop.db'}"
        return
    with schema_url("populated") as url:
        yield url


@dataclass
class Written:
    """What the test wrote at each revision: ids by name, and each submission's columns."""

    people: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: dict[str, tuple[dict[str, float], dict[str, float]]] = field(default_factory=dict)
    rewards: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


class Rows:
    """Plain SQL on one connection, for the schema of the revision the database is at."""

    def __init__(self, connection: Connection, written: Written) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.w = written

    def time(self, moment: datetime) -> object:
        # SQLAlchemy's SQLite DateTime: naive UTC text with microseconds
        return moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else moment

    def insert(self, table: str, returning: str | None = None, **values: Any) -> Any:
        bound = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()}
        bound = {k: self.time(v) if isinstance(v, datetime) else v for k, v in bound.items()}
        sql = f"INSERT INTO {table} ({', '.join(bound)}) VALUES ({', '.join(':' + k for k in bound)})"
        if returning:
            return self.connection.execute(text(f"{sql} RETURNING {returning}"), bound).scalar_one()
        self.connection.execute(text(sql), bound)
        return None

    def person(self, username: str, minutes: int) -> None:
        self.w.people[username] = self.insert(
            "people", "id", username=username, display_name=username.title(), created_at=at(minutes)
        )

    def submission(
        self,
        name: str,
        username: str,
        n: int,
        *,
        phase: str = "p1",
        status: str = "scored",
        public: dict[str, float] | None = None,
        private: dict[str, float] | None = None,
        **columns: Any,
    ) -> int:
        """A submission made at minute ``10 n``, with its events and (scored) its scores."""
        made, started, finished = at(10 * n), at(10 * n + 1), at(10 * n + 2)
        row: dict[str, Any] = {
            "challenge_id": "higgs",
            "phase_id": phase,
            "commit_sha": sha(n),
            "notebook_path": f"solutions/{username}/main.ipynb",
            "person_id": self.w.people[username],
            "status": status,
            "failure_class": None,
            "failure_reason": None,
            "attempts": 0 if status == "queued" else 1,
            "worker": None if status == "queued" else "tcp://127.0.0.1:4001",
            "created_at": made,
            "started_at": None if status == "queued" else started,
            "finished_at": finished if status in {"scored", "failed"} else None,
            "run_time": 2.0 + n if status == "scored" else None,
            "peak_memory": 100.0 + n if status == "scored" else None,
            "parameters": {"seed": n},
            "input_hash": f"in-{n}" if status == "scored" else None,
            "scorer_version": "0.1.0" if status == "scored" else None,
            "environment_hash": "env-1" if status == "scored" else None,
            "provenance": {"scorer_version": "0.1.0", "input_hash": f"in-{n}"}
            if status == "scored"
            else None,
            "executed_notebook": NOTEBOOK if status in {"scored", "failed"} else None,
            "rescore_of": None,
            **columns,
        }
        self.w.ids[name] = self.insert("submissions", "id", **row)
        self.w.submissions[name] = row
        self.event(name, None, "queued", made, {"commit": sha(n)})
        if status != "queued":
            self.event(name, "queued", "running", started, {"worker": row["worker"]})
        if status in {"scored", "failed"}:
            self.event(name, "running", status, finished, {"run_time": row["run_time"]})
        if status == "scored":
            assert public is not None and private is not None
            self.w.scores[name] = (public, private)
            for split, metrics in (("public", public), ("private", private)):
                for metric, value in metrics.items():
                    self.insert(
                        "scores", submission_id=self.w.ids[name], metric=metric, split=split, value=value
                    )
        return self.w.ids[name]

    def event(self, name: str, source: str | None, target: str, moment: datetime, detail: dict) -> None:
        self.insert(
            "submission_events",
            submission_id=self.w.ids[name],
            at=moment,
            status_from=source,
            status_to=target,
            detail=detail,
        )

    def entry(self, board: str, username: str, name: str, *, counted_as: str | None = None) -> None:
        """``name`` on ``board`` for ``username``, as the platform kept it (a rescore counts as
        submitted when its original was)."""
        row = self.w.submissions[name]
        public, private = self.w.scores[name]
        submitted = self.w.submissions[counted_as or name]["created_at"]
        self.insert(
            "leaderboard_entries",
            challenge_id="higgs",
            phase_id=row["phase_id"],
            board=board,
            person_id=self.w.people[username],
            submission_id=self.w.ids[name],
            submitted_at=submitted,
            public=entries.values_of(public, row["run_time"], row["peak_memory"]),
            private=entries.values_of(private, row["run_time"], row["peak_memory"]),
        )

    def reward(self, name: str, key: str, username: str, amount_micro: int, **columns: Any) -> None:
        self.w.rewards[name] = self.insert(
            "rewards",
            "id",
            idempotency_key=key,
            at=at(300),
            challenge_id="higgs",
            phase_id="p1",
            person_id=self.w.people[username],
            rewarder_index=0,
            moment="live",
            amount_micro=amount_micro,
            unit="points",
            **columns,
        )

    def like(self, submission: str, username: str, seq: int, liked: bool) -> None:
        self.insert(
            "likes",
            submission_id=self.w.ids[submission],
            person_id=self.w.people[username],
            seq=seq,
            liked=liked,
            at=at(400 + seq),
        )


def rows_0001(r: Rows) -> None:
    """Challenges, people, submissions in every state (a rescore too), scores, events, boards."""
    spec = challenge_spec().model_dump(mode="json")
    created = at(0)
    r.insert(
        "challenges",
        id="higgs",
        title="Higgs boson",
        repo_url="https://git.example.org/higgs.git",
        spec=spec,
        spec_hash=spec_digest(spec),
        created_at=created,
        updated_at=created,
    )
    for username in ("alice", "bob", "carol", "olga"):
        r.person(username, 0)
    r.submission(
        "a1", "alice", 1, public={"accuracy": 0.9, "loss": 0.3}, private={"accuracy": 0.88, "loss": 0.31}
    )
    r.submission(
        "b1", "bob", 2, public={"accuracy": 0.85, "loss": 0.4}, private={"accuracy": 0.9, "loss": 0.35}
    )
    r.submission("c1", "carol", 3, status="failed", failure_class="timeout", failure_reason="ran over 120 s")
    r.submission(
        "a2", "alice", 4, public={"accuracy": 0.8, "loss": 0.5}, private={"accuracy": 0.85, "loss": 0.45}
    )
    r.submission(
        "r1",
        "alice",
        5,
        public={"accuracy": 0.91, "loss": 0.29},
        private={"accuracy": 0.87, "loss": 0.3},
        rescore_of=r.w.ids["a1"],
    )
    r.submission("b2", "bob", 6, status="queued")
    r.entry("main", "alice", "r1", counted_as="a1")
    r.entry("main", "bob", "b1")
    r.entry("latest", "alice", "a2")
    r.entry("latest", "bob", "b1")
    r.w.tokens["p1"] = uuid.uuid4().hex
    r.insert("leaderboard_versions", challenge_id="higgs", phase_id="p1", token=r.w.tokens["p1"])


def rows_0002(r: Rows) -> None:
    """Commits as they arrived (a co-author named by a verified alias) and the alias."""
    for name, pusher, co_authors in (
        ("a1", "alice", [{"name": "Bob", "email": "bob@example.org"}]),
        ("b1", "bob", []),
    ):
        r.insert(
            "commits",
            challenge_id="higgs",
            sha=r.w.submissions[name]["commit_sha"],
            pusher_id=r.w.people[pusher],
            pushed_at=r.w.submissions[name]["created_at"],
            ref=f"refs/heads/{pusher}/work",
            parents=[sha(99)],
            author_name=pusher.title(),
            author_email=f"{pusher}@example.org",
            committer_name=pusher.title(),
            committer_email=f"{pusher}@example.org",
            committed_at=1_704_067_200,
            co_authors=co_authors,
            notebooks={"solutions/alice/main.ipynb": {"fingerprint": [1, 2, 3]}},
        )
    r.insert("email_aliases", email="bob@example.org", person_id=r.w.people["bob"], created_at=at(200))


def rows_0003(r: Rows) -> None:
    """A forge delivery and an organiser's audited change."""
    r.insert(
        "webhook_deliveries",
        forge="github",
        delivery_id="delivery-1",
        challenge_id="higgs",
        event="push",
        received_at=at(210),
        outcome={"queued": [r.w.ids["b2"]]},
    )
    r.insert(
        "audit_events",
        at=at(220),
        actor_id=r.w.people["olga"],
        challenge_id="higgs",
        action="rescore",
        detail={"submission": r.w.ids["a1"], "rescore": r.w.ids["r1"]},
    )


def rows_0004(r: Rows) -> None:
    """Grants, the compensation of one (the rescore), a rewarder failure, likes and an unlike."""
    r.reward(
        "grant-a1",
        "higgs/p1/new-record/0/submission:a1",
        "alice",
        5_000_000,
        kind="grant",
        rewarder_type="new-record",
        scope=f"submission:{r.w.ids['a1']}",
        submission_id=r.w.ids["a1"],
        commit_sha=sha(1),
        evidence={"accuracy": 0.9},
    )
    r.reward(
        "grant-b1",
        "higgs/p1/beat-baseline/0/submission:b1",
        "bob",
        10_500_000,
        kind="grant",
        rewarder_type="beat-baseline",
        scope=f"submission:{r.w.ids['b1']}",
        submission_id=r.w.ids["b1"],
        commit_sha=sha(2),
        evidence={"baseline": 0.5},
    )
    r.reward(
        "compensation-a1",
        "higgs/p1/new-record/0/submission:a1/compensation",
        "alice",
        -5_000_000,
        kind="compensation",
        compensates=r.w.rewards["grant-a1"],
        rewarder_type="new-record",
        scope=f"submission:{r.w.ids['a1']}",
        submission_id=r.w.ids["a1"],
        commit_sha=sha(1),
        evidence={"reason": "rescored"},
    )
    r.insert(
        "rewarder_failures",
        at=at(310),
        challenge_id="higgs",
        phase_id="p1",
        rewarder_type="organiser-check",
        rewarder_index=1,
        moment="live",
        submission_id=r.w.ids["b1"],
        error="ValueError: no such column",
    )
    r.like("a2", "bob", 1, True)
    r.like("a2", "carol", 1, True)
    r.like("a2", "carol", 2, False)
    r.like("b1", "carol", 1, True)


def rows_0005(r: Rows) -> None:
    """The phase settled; an exploit invalidated (kept off the boards); a re-run of bob's."""
    r.insert(
        "settlements",
        challenge_id="higgs",
        phase_id="p1",
        at=END,
        actor="olga",
        summary={"granted": 2, "failed": 0},
    )
    r.person("dave", 500)
    r.submission(
        "d1", "dave", 7, public={"accuracy": 0.99, "loss": 0.01}, private={"accuracy": 0.99, "loss": 0.01}
    )
    r.insert(
        "invalidations", submission_id=r.w.ids["d1"], at=at(510), actor="olga", reason="read the answer key"
    )
    r.submission(
        "x1",
        "bob",
        8,
        public={"accuracy": 0.85, "loss": 0.4},
        private={"accuracy": 0.9, "loss": 0.35},
        reproduces=r.w.ids["b1"],
    )


def rows_0006(r: Rows) -> None:
    """alice's profile, and bob's hidden one."""
    r.insert(
        "profiles",
        person_id=r.w.people["alice"],
        display_name="Alice Doe",
        affiliation="CERN",
        orcid="0000-0002-1825-0097",
        links=["https://example.org/alice"],
        hidden=False,
        updated_at=at(600),
    )
    r.insert("profiles", person_id=r.w.people["bob"], links=[], hidden=True, updated_at=at(601))


def rows_0007(r: Rows) -> None:
    """A credential alice imported from another instance, and a link code of bob's."""
    r.insert(
        "imported_credentials",
        person_id=r.w.people["alice"],
        issuer="https://other.example.org/services/coop",
        jti="urn:uuid:1",
        issued_to="alice-there",
        kind="achievement",
        name="beat-baseline in trackml/toy",
        skills=["numpy", "clustering"],
        evidence_url="https://other.example.org/services/coop/api/submissions/3",
        payload={"vc": {"type": ["VerifiableCredential", "OpenBadgeCredential"]}},
        token="header.payload.signature",
        issued_at=at(700),
        expires_at=datetime(2031, 1, 1, tzinfo=UTC),
        imported_at=at(701),
    )
    r.insert(
        "link_codes",
        code_hash="c" * 64,
        person_id=r.w.people["bob"],
        created_at=at(710),
        expires_at=at(720),
    )


def rows_0008(r: Rows) -> None:
    """A submission of phase p2 run in a challenge environment, on p2's board."""
    r.submission(
        "e1",
        "carol",
        9,
        phase="p2",
        public={"accuracy": 0.7, "loss": 0.6},
        private={"accuracy": 0.72, "loss": 0.58},
        challenge_environment=ENVIRONMENT,
    )
    r.entry("main", "carol", "e1")
    r.w.tokens["p2"] = uuid.uuid4().hex
    r.insert("leaderboard_versions", challenge_id="higgs", phase_id="p2", token=r.w.tokens["p2"])


def rows_0009(r: Rows) -> None:
    """bob's better submission moves his entries; the version names the one person who changed."""
    r.submission(
        "b3", "bob", 10, public={"accuracy": 0.95, "loss": 0.2}, private={"accuracy": 0.8, "loss": 0.5}
    )
    bob = r.w.people["bob"]
    r.connection.execute(
        text("DELETE FROM leaderboard_entries WHERE phase_id = 'p1' AND person_id = :bob"), {"bob": bob}
    )
    r.entry("main", "bob", "b3")
    r.entry("latest", "bob", "b3")
    previous, r.w.tokens["p1"] = r.w.tokens["p1"], uuid.uuid4().hex
    r.connection.execute(
        text(
            "UPDATE leaderboard_versions SET token = :token, previous = :previous, person_id = :bob"
            " WHERE challenge_id = 'higgs' AND phase_id = 'p1'"
        ),
        {"token": r.w.tokens["p1"], "previous": previous, "bob": bob},
    )


ROWS = {
    "0001": rows_0001,
    "0002": rows_0002,
    "0003": rows_0003,
    "0004": rows_0004,
    "0005": rows_0005,
    "0006": rows_0006,
    "0007": rows_0007,
    "0008": rows_0008,
    "0009": rows_0009,
}


def test_every_migration_has_rows_here():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert [s.revision for s in reversed(list(script.walk_revisions()))] == REVISIONS == list(ROWS)


def test_a_populated_ledger_upgraded_one_migration_at_a_time_keeps_every_row(blank_url):
    url, written = blank_url, Written()
    engine = make_engine(url)
    try:
        for revision in REVISIONS:
            upgrade(url, revision)
            assert current_revision(url) == revision
            with engine.begin() as connection:
                ROWS[revision](Rows(connection, written))
        assert diff(engine, Base.metadata) == []  # the same schema as a freshly migrated ledger
        sessions = session_factory(engine)
        with sessions.begin() as session:
            check_submissions(session, written)
            check_boards(session, written)
            check_the_rest(session, written)
        with sessions.begin() as session:  # the stored boards are the ones the platform ranks
            challenge = queries.load_challenge(session, "higgs")
            stored = {key: boards(session, *key) for key in BOARDS}
            for phase in ("p1", "p2"):
                entries.rebuild(session, challenge, phase)
        with sessions.begin() as session:
            assert {key: boards(session, *key) for key in BOARDS} == stored
        check_new_work(sessions, written)
        for table in sorted(append_only_tables()):
            with engine.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
                connection.execute(text(f"DELETE FROM {table}"))
    finally:
        engine.dispose()


BOARDS = [
    ("p1", "main", "public"),
    ("p1", "main", "private"),
    ("p1", "latest", "public"),
    ("p2", "main", "private"),
]


def boards(session, phase: str, board: str, split: str) -> list[tuple]:
    challenge = queries.load_challenge(session, "higgs")
    view = queries.leaderboard(
        session, challenge, phase, board, split=split, viewer_is_organiser=True, now=NOW, cached=False
    )
    return [(r.rank, r.person, r.submission_id, r.submitted_at, r.columns) for r in view.rows]


def check_submissions(session, w: Written) -> None:
    names = {ident: name for name, ident in w.ids.items()}
    shown = queries.submissions(session, challenge_id="higgs", limit=None)
    assert [names[s.id] for s in shown] == sorted(w.ids, key=w.ids.get, reverse=True)
    for name, ident in w.ids.items():
        row, view = w.submissions[name], queries.submission(session, ident)
        username = next(u for u, p in w.people.items() if p == row["person_id"])
        expected = {k: v for k, v in row.items() if k not in {"person_id", "executed_notebook", "reproduces"}}
        expected.setdefault("challenge_environment", None)
        got = {k: getattr(view, k) for k in expected}
        got["status"], got["failure_class"] = str(view.status), view.failure_class
        assert got == expected, name
        assert view.username == username
        notebook = queries.executed_notebook(session, ident, viewer=None, viewer_is_organiser=True, now=NOW)
        assert notebook == row["executed_notebook"], name
        scores = queries.scores(session, ident, include_private=True, viewer_is_organiser=True, now=NOW)
        assert (scores.public, scores.private) == w.scores.get(name, ({}, {})), name
        trail = [(e.status_from, e.status_to, e.at) for e in queries.events(session, ident)]
        steps = {"queued": ["queued"], "failed": ["queued", "running", "failed"]}
        states = steps.get(row["status"], ["queued", "running", row["status"]])
        assert [str(t) for _, t, _ in trail] == states, name
        assert trail[0][2] == row["created_at"] and trail[0][0] is None
    assert queries.queued_ids(session) == [w.ids["b2"]]
    assert sorted(queries.counted_times(session, "higgs", "p1", "bob")) == [at(20), at(60), at(100)]  # not x1


def check_boards(session, w: Written) -> None:
    ids = w.ids
    main = boards(session, "p1", "main", "public")
    assert [(rank, person, ident) for rank, person, ident, _, _ in main] == [
        (1, "bob", ids["b3"]),
        (2, "alice", ids["r1"]),
    ]  # dave's invalidated 0.99 is not there; alice's rescore counts when a1 was submitted
    assert main[1][3] == at(10) and main[1][4] == {"accuracy": 0.91, "loss": 0.29, "time": 7.0}
    private = boards(session, "p1", "main", "private")
    assert [(person, row["accuracy"]) for _, person, _, _, row in private] == [("alice", 0.87), ("bob", 0.8)]
    latest = boards(session, "p1", "latest", "public")
    assert [(person, ident) for _, person, ident, _, _ in latest] == [
        ("bob", ids["b3"]),
        ("alice", ids["a2"]),
    ]
    assert [(p, i, c["accuracy"]) for _, p, i, _, c in boards(session, "p2", "main", "private")] == [
        ("carol", ids["e1"], 0.72)
    ]
    version = queries.version(session, "higgs", "p1")
    assert (version.token, version.person_id) == (w.tokens["p1"], w.people["bob"])


def check_the_rest(session, w: Written) -> None:
    ids = w.ids
    assert commits.credited(session, "higgs", sha(1)) == ["alice", "bob"]
    assert commits.credited(session, "higgs", sha(2)) == ["bob"]
    assert commits.aliases(session, ["bob@example.org"]) == {"bob@example.org": "bob"}
    delivery = deliveries.recorded_delivery(session, "github", "delivery-1")
    assert delivery is not None and (delivery.event, delivery.outcome) == ("push", {"queued": [ids["b2"]]})
    [event] = audit.audit_events(session, "higgs")
    assert (event.actor, event.action, event.at) == ("olga", "rescore", at(220))
    assert event.detail == {"submission": ids["a1"], "rescore": ids["r1"]}

    history = rewards.history(session, "higgs", phase_id="p1")
    assert [(h.kind, h.person, h.rewarder_type, h.amount, h.submission_id, h.evidence) for h in history] == [
        ("grant", "alice", "new-record", Decimal(5), ids["a1"], {"accuracy": 0.9}),
        ("grant", "bob", "beat-baseline", Decimal("10.5"), ids["b1"], {"baseline": 0.5}),
        ("compensation", "alice", "new-record", Decimal(-5), ids["a1"], {"reason": "rescored"}),
    ]
    assert history[2].compensates == w.rewards["grant-a1"] and history[0].at == at(300)
    assert [(b.person, b.unit, b.amount) for b in rewards.balances(session, "higgs")] == [
        ("alice", "points", Decimal(0)),
        ("bob", "points", Decimal("10.5")),
    ]
    [failure] = rewards.rewarder_failures(session, "higgs", "p1")
    assert (failure.rewarder_type, failure.submission_id, failure.error) == (
        "organiser-check",
        ids["b1"],
        "ValueError: no such column",
    )
    assert likes.like_counts(session, [ids["a2"], ids["b1"]]) == {ids["a2"]: 1, ids["b1"]: 1}
    assert likes.likes_given(session, "carol") == [ids["b1"]]
    assert likes.likes_received(session, "higgs", "p1") == {"alice": 1, "bob": 1}

    settled = settlements.settlement_of(session, "higgs", "p1")
    assert settled is not None and (settled.actor, settled.at, settled.summary) == (
        "olga",
        END,
        {"granted": 2, "failed": 0},
    )
    invalid = invalidations.invalidation_of(session, ids["d1"])
    assert invalid is not None and (invalid.actor, invalid.reason) == ("olga", "read the answer key")
    assert invalidations.invalidated_ids(session, "higgs", "p1") == {ids["d1"]}

    alice = profiles.fields(session, "alice")
    assert (alice.display_name, alice.affiliation, alice.orcid, alice.links, alice.hidden) == (
        "Alice Doe",
        "CERN",
        "0000-0002-1825-0097",
        ["https://example.org/alice"],
        False,
    )
    assert (
        profiles.fields(session, "bob").hidden and profiles.fields(session, "carol").display_name == "Carol"
    )
    [imported] = credentials.imported_credentials(session, "alice")
    assert (imported.issuer, imported.jti, imported.issued_to, imported.skills, imported.expires_at) == (
        "https://other.example.org/services/coop",
        "urn:uuid:1",
        "alice-there",
        ("numpy", "clustering"),
        datetime(2031, 1, 1, tzinfo=UTC),
    )
    link = credentials.link_code(session, "c" * 64)
    assert link is not None and (link.person, link.expires_at, link.issuer) == ("bob", at(720), None)


def check_new_work(sessions, w: Written) -> None:
    """New rows take ids after the migrated ones, on every table that numbers its rows."""
    ledger = Ledger(sessions, challenge_spec())
    ledger.count = 20  # commits not used above
    fresh = ledger.submit("erin", 0.97, loss=0.1)
    assert fresh > max(w.ids.values())
    with sessions.begin() as session:
        main = boards(session, "p1", "main", "public")
        assert main[0][1:3] == ("erin", fresh)
        likes.set_like(session, w.ids["b3"], "erin", True, now=END)
        granted = rewards.record_grant(
            session,
            rewards.Grant(
                "higgs", "p1", "erin", "new-record", 0, f"submission:{fresh}", Decimal(1), "points", {}
            ),
            now=NOW,
        )
        assert granted.created and granted.reward.id > max(w.rewards.values())
        assert audit.record_audit_event(session, "olga", "higgs", "open-phase", {}) > 0
