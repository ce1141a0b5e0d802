"""What credit reads from the ledger (SQLite, migrated): the newest run of each version, who a
commit credits (verified co-authors only), and a token that changes with scores and
invalidations."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scorer.challenge.load import load_spec
from scorer.ingest.attribution import CommitFacts, Person
from scorer.ledger import store
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.ledger.commits import add_alias, record_commits
from scorer.ledger.credit_views import CommitPeople, commit_people, credit_token, scored_versions
from scorer.ledger.db import make_engine, session_factory, upgrade
from scorer.ledger.invalidations import invalidate
from scorer.scoring.results import RunResult

TRACKML = Path(__file__).resolve().parents[2] / "challenge_notebooks" / "trackml"
NOTEBOOK = "solutions/bob/fit.ipynb"


def record(sha: str, accuracy: float) -> ScoredRecord:
    values = {"accuracy": accuracy, "time_per_event": 0.5, "efficiency": 0.5}
    moment = datetime(2026, 6, 2, tzinfo=UTC)
    return ScoredRecord("bob", sha, moment, values, values, 1.0, 100.0, notebook_path=NOTEBOOK)


def test_versions_people_and_the_token(tmp_path):
    url = f"sqlite:///{tmp_path / 'coop.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    challenge = load_spec(TRACKML)
    phase = challenge.phases[-1].id
    first, second = "a" * 40, "b" * 40
    with sessions.begin() as session:
        store.upsert_challenge(session, challenge, "bench")
        import_scored(session, challenge.id, phase, [record(first, 0.5), record(second, 0.6)])
        add_alias(session, "carol", "carol@example.org")
        co = (Person("Carol", "carol@example.org"), Person("Eve", "eve@example.org"))
        who = Person("B", "b@example.org")
        facts = CommitFacts(second, (first,), who, who, 1_700_000_000, "tuned", co)
        record_commits(session, challenge.id, pusher="bob", ref="refs/heads/bob/x", commits=[facts])
    with sessions() as session:
        versions = scored_versions(session, challenge.id, phase)
        assert [(v.commit, v.public["accuracy"], v.private) for v in versions] == [
            (first, 0.5, {}),
            (second, 0.6, {}),
        ]
        assert [
            v.commit for v in scored_versions(session, challenge.id, phase, after=versions[0].submission_id)
        ] == [second]
        assert scored_versions(session, challenge.id, phase, private=True)[1].private["accuracy"] == 0.6
        people = commit_people(session, challenge.id, {first, second})
        assert people == {second: CommitPeople("bob", ("carol",))}  # eve's email is no verified alias
        token = credit_token(session, challenge.id, phase)
    with sessions.begin() as session:
        import_scored(session, challenge.id, phase, [record(second, 0.7)])  # a new run of a version
    with sessions() as session:
        rerun = scored_versions(session, challenge.id, phase)
        assert [v.public["accuracy"] for v in rerun] == [0.5, 0.7]  # the newest run counts
        assert credit_token(session, challenge.id, phase) != token
        token = credit_token(session, challenge.id, phase)
    with sessions.begin() as session:
        invalidate(session, rerun[0].submission_id, "olga", "read the answers")
    with sessions() as session:
        assert credit_token(session, challenge.id, phase) != token
    engine.dispose()


def test_a_reproduction_run_is_no_version_of_its_own(tmp_path):
    """A re-run that checks a score reproduces (``reproduces``) never replaces the version it
    checks, even when it is newer and differs."""
    url = f"sqlite:///{tmp_path / 'coop.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    challenge = load_spec(TRACKML)
    phase = challenge.phases[-1].id
    with sessions.begin() as session:
        store.upsert_challenge(session, challenge, "bench")
        import_scored(session, challenge.id, phase, [record("a" * 40, 0.5)])
    with sessions() as session:
        [original] = scored_versions(session, challenge.id, phase)
    with sessions.begin() as session:
        rerun = store.enqueue(
            session,
            challenge_id=challenge.id,
            phase_id=phase,
            commit_sha="a" * 40,
            notebook_path=NOTEBOOK,
            username="bob",
            parameters={},
            reproduces=original.submission_id,
        ).id
        assert store.claim(session, rerun, "w2")
        values = {"accuracy": 0.9, "time_per_event": 0.5, "efficiency": 0.5}
        moment = datetime(2026, 6, 3, tzinfo=UTC)
        done = RunResult(values, values, 1.0, 100.0, moment, moment, b"{}", {})
        assert store.record_result(session, rerun, done)
    with sessions() as session:
        assert [
            (v.submission_id, v.public["accuracy"]) for v in scored_versions(session, challenge.id, phase)
        ] == [(original.submission_id, 0.5)]
    engine.dispose()
