"""Which solution notebooks a commit submits: its own changes, and for a merge only its resolution."""

from __future__ import annotations

from scorer.challenge.spec import Solutions
from scorer.ingest.repo import ChallengeRepo
from tests.conftest import git

SOLUTIONS = Solutions()


def _repo(tmp_path):
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "root")
    return repo


def _commit(repo, path: str, text: str, message: str) -> str:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def _changed(repo, sha: str) -> list[str]:
    return [c.path for c in ChallengeRepo(repo).changed_notebooks(sha, SOLUTIONS)]


def test_an_ordinary_commit_submits_the_notebooks_it_changes(tmp_path):
    repo = _repo(tmp_path)
    sha = _commit(repo, "solutions/bob/a.ipynb", "{}", "bob")
    assert _changed(repo, sha) == ["solutions/bob/a.ipynb"]
    assert _changed(repo, _commit(repo, "notes.txt", "n", "not a notebook")) == []


def test_a_clean_merge_submits_nothing_a_resolved_conflict_submits_the_resolution(tmp_path):
    repo = _repo(tmp_path)
    git(repo, "checkout", "-qb", "alice")
    _commit(repo, "solutions/alice/a.ipynb", '{"v": 1}', "alice")
    git(repo, "checkout", "-q", "main")
    _commit(repo, "solutions/bob/b.ipynb", '{"v": 1}', "bob")
    git(repo, "merge", "-q", "--no-edit", "alice")
    # alice's notebook came from her side: merging it is not bob submitting it
    assert _changed(repo, git(repo, "rev-parse", "HEAD")) == []

    git(repo, "checkout", "-qb", "other", "HEAD~1")
    _commit(repo, "solutions/bob/b.ipynb", '{"v": 2}', "bob on a branch")
    git(repo, "checkout", "-q", "main")
    _commit(repo, "solutions/bob/b.ipynb", '{"v": 3}', "bob on main")
    git(repo, "merge", "-q", "--no-edit", "other", "-X", "ours")
    (repo / "solutions/bob/b.ipynb").write_text('{"v": 4}')
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    assert _changed(repo, git(repo, "rev-parse", "HEAD")) == ["solutions/bob/b.ipynb"]
