"""A profile's credit read from a real git history and a real ledger (SQLite): the commits that
earned it are the contribution graph's versions crediting the person, and they add up to the
person's credit table entry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import nbformat

from coop_client.git import run
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ingest.attribution import LOG_FORMAT, parse_log
from scorer.ledger import store
from scorer.ledger.bulk import ScoredRecord, import_scored
from scorer.ledger.commits import add_alias, record_commits
from scorer.profiles.read import read_profile
from tests.ledger.ledger_helpers import START, challenge_spec

IDENTITY = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org", "GIT_COMMITTER_NAME": "A"}
IDENTITY |= {"GIT_COMMITTER_EMAIL": "a@example.org"}


def commit(repo: Path, path: str, source: str, trailers: str = "") -> str:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, repo / path)
    run(repo, "add", "-A")
    message = f"{path}: {source}" + (f"\n\n{trailers}" if trailers else "")
    run(repo, "commit", "-q", "-m", message, env=IDENTITY)
    return run(repo, "rev-parse", "HEAD").strip()


def test_credit_per_phase_with_the_commits_that_earned_it(tmp_path):
    repo = tmp_path / "higgs"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    alice, bob = "solutions/alice/main.ipynb", "solutions/bob/main.ipynb"
    plan = [
        ("alice", alice, "model = 1", 0.5),
        ("bob", bob, "other = 1", 0.6),
        ("alice", alice, "model = 2", 0.7),
        ("alice", alice, "model = 3", 0.65),
        ("bob", bob, "other = 2", 0.8),
    ]
    shas = [commit(repo, path, source) for _, path, source, _ in plan]
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    try:
        with api.sessions.begin() as session:
            store.upsert_challenge(session, challenge_spec(), str(repo))
            records = [
                ScoredRecord(
                    who,
                    sha,
                    START + timedelta(hours=n),
                    {"accuracy": value, "loss": 1.0},
                    {"accuracy": value, "loss": 1.0},
                    1.0,
                    10.0,
                    notebook_path=path,
                )
                for n, ((who, path, _, value), sha) in enumerate(zip(plan, shas, strict=True))
            ]
            import_scored(session, "higgs", "p1", records)
        found = read_profile(api, "alice", viewer=None)
        table = api.credit_table("higgs", "p1", split="private")
    finally:
        api.close()
    [credit] = found.credit
    assert (credit.challenge_id, credit.phase_id, credit.measure, credit.split) == (
        "higgs",
        "p1",
        "main.accuracy",
        "private",
    )
    # alice's first version starts the ladder, her third falls back: only 0.5 → 0.7 earned credit
    assert [(c.commit, c.notebook, c.metric) for c in credit.commits] == [(shas[2], alice, "main.accuracy")]
    assert abs(credit.commits[0].increment - 0.2) < 1e-9
    assert credit.credit == table.credit["alice"] > 0
    assert abs(sum(c.credit for c in credit.commits) - table.credit["alice"]) < 1e-12


def test_a_verified_co_author_who_never_submitted_has_the_credit_of_the_commit_naming_them(tmp_path):
    """carol submitted nothing: bob's second version names her in a ``Co-authored-by:`` trailer
    (her email verified), so her profile shows that phase's credit and the commit; dave's
    trailer names an email nobody verified, so it credits nobody."""
    repo = tmp_path / "higgs"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    bob = "solutions/bob/main.ipynb"
    first = commit(repo, bob, "model = 1")
    trailers = "Co-authored-by: Carol <Carol@Uni.example>\nCo-authored-by: Dave <dave@x.example>"
    second = commit(repo, bob, "model = 2", trailers)
    facts = parse_log(run(repo, "log", f"--format={LOG_FORMAT}", first + ".." + second))
    assert [p.email for p in facts[0].co_authors] == ["carol@uni.example", "dave@x.example"]
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    try:
        with api.sessions.begin() as session:
            store.upsert_challenge(session, challenge_spec(), str(repo))
            add_alias(session, "carol", "carol@uni.example")
            store.person(session, "dave")
            record_commits(session, "higgs", pusher="bob", ref="refs/heads/bob/main", commits=facts)
            runs = [(first, {"accuracy": 0.5, "loss": 1.0}), (second, {"accuracy": 0.7, "loss": 1.0})]
            records = [
                ScoredRecord(
                    "bob", sha, START + timedelta(hours=n), scores, scores, 1.0, 10.0, notebook_path=bob
                )
                for n, (sha, scores) in enumerate(runs)
            ]
            import_scored(session, "higgs", "p1", records)
        carol = read_profile(api, "carol", viewer=None)
        dave = read_profile(api, "dave", viewer=None)
        table = api.credit_table("higgs", "p1", split="private")
    finally:
        api.close()
    assert carol.joined == [] and carol.submissions.total == 0
    [credit] = carol.credit
    assert (credit.challenge_id, credit.phase_id) == ("higgs", "p1")
    assert [(c.commit, c.notebook) for c in credit.commits] == [(second, bob)]
    assert credit.credit == table.credit["carol"] > 0
    assert "dave" not in table.credit and dave.credit == []
