"""The push policy as pure functions: refs, deletions, force-pushes, organiser paths, sizes, links."""

from __future__ import annotations

import pytest

from coop_client.git import ZERO_SHA
from scorer.challenge.spec import Solutions
from scorer.ingest.hooks import parse_raw_diff, scan
from scorer.ingest.policy import (
    MAX_FILE_SIZE,
    SYMLINK_MODE,
    ChangedFile,
    NewCommit,
    Push,
    Pusher,
    RefUpdate,
    Rules,
    check_push,
    human_size,
    is_organiser_path,
    solution_owner,
    unknown_spec_refusals,
)
from tests.conftest import git

A, B, C = "a" * 40, "b" * 40, "c" * 40
ALICE, OLGA = Pusher("alice"), Pusher("olga", organiser=True)
RULES = Rules()


def codes(pusher: Pusher, updates: list[RefUpdate], commits: list[NewCommit] = ()) -> list[str]:
    return [r.code for r in check_push(Push(pusher, updates, list(commits)), RULES)]


def one(pusher: Pusher, update: RefUpdate, commits: list[NewCommit] = ()) -> str:
    [refusal] = check_push(Push(pusher, [update], list(commits)), RULES)
    return refusal.message


def test_participants_create_and_update_their_own_refs() -> None:
    assert codes(ALICE, [RefUpdate(ZERO_SHA, A, "refs/heads/alice/idea")]) == []
    assert codes(ALICE, [RefUpdate(A, B, "refs/heads/alice/deep/idea")]) == []


@pytest.mark.parametrize(
    "ref",
    ["refs/heads/main", "refs/heads/bob/x", "refs/heads/alice", "refs/heads/alice/", "refs/tags/alice/v1"],
)
def test_participants_stay_in_their_namespace(ref: str) -> None:
    message = one(ALICE, RefUpdate(ZERO_SHA, A, ref))
    assert message == (
        f"refusing {ref}: participants push to refs/heads/alice/<branch>; "
        "try: git push origin HEAD:refs/heads/alice/my-idea"
    )


def test_a_lookalike_user_prefix_is_not_the_namespace() -> None:
    assert codes(Pusher("ali"), [RefUpdate(ZERO_SHA, A, "refs/heads/alice/x")]) == ["namespace"]


def test_organisers_push_anywhere() -> None:
    assert codes(OLGA, [RefUpdate(A, B, "refs/heads/main"), RefUpdate(ZERO_SHA, C, "refs/tags/v1")]) == []


def test_participants_never_delete_or_force_push() -> None:
    assert "refusing to delete refs/heads/alice/x" in one(ALICE, RefUpdate(A, ZERO_SHA, "refs/heads/alice/x"))
    message = one(ALICE, RefUpdate(A, B, "refs/heads/alice/x", fast_forward=False))
    assert message.startswith("refusing to rewrite refs/heads/alice/x (aaaaaaaaaa is not in bbbbbbbbbb)")


def test_organisers_delete_and_force_push_but_never_the_organiser_ref() -> None:
    assert codes(OLGA, [RefUpdate(A, ZERO_SHA, "refs/heads/alice/x")]) == []
    assert codes(OLGA, [RefUpdate(A, B, "refs/heads/alice/x", fast_forward=False)]) == []
    assert codes(OLGA, [RefUpdate(A, ZERO_SHA, "refs/heads/main")]) == ["delete"]
    assert codes(OLGA, [RefUpdate(A, B, "refs/heads/main", fast_forward=False)]) == ["force"]
    custom = Rules(organiser_ref="trunk")
    refusals = check_push(Push(OLGA, [RefUpdate(A, ZERO_SHA, "refs/heads/trunk")]), custom)
    assert [r.code for r in refusals] == ["delete"]


def test_creation_is_never_a_force_push() -> None:
    assert codes(ALICE, [RefUpdate(ZERO_SHA, A, "refs/heads/alice/x", fast_forward=False)]) == []


@pytest.mark.parametrize(
    ("path", "owned"),
    [
        ("scoring.py", True),
        ("challenge.yaml", True),
        ("baselines/phase-1.ipynb", True),
        ("baselines/deep/x.py", True),
        ("baselines", True),
        ("baselines-old/x.py", False),
        ("scoring.py.bak", False),
        ("solutions/alice/scoring.py", False),
    ],
)
def test_organiser_paths(path: str, owned: bool) -> None:
    assert is_organiser_path(path, RULES.organiser_paths) is owned


def test_participant_commits_never_touch_organiser_paths() -> None:
    commit = NewCommit(B, (ChangedFile("solutions/alice/a.ipynb", 10), ChangedFile("scoring.py", 5)))
    message = one(ALICE, RefUpdate(A, B, "refs/heads/alice/x"), [commit])
    assert message == (
        "refusing commit bbbbbbbbbb: scoring.py is owned by the organiser; undo that change "
        "(git checkout origin/main -- scoring.py) and commit again"
    )
    deletion = NewCommit(B, (ChangedFile("baselines/phase-1.ipynb", None),))
    assert codes(ALICE, [RefUpdate(A, B, "refs/heads/alice/x")], [deletion]) == ["organiser-path"]
    assert codes(OLGA, [RefUpdate(A, B, "refs/heads/main")], [commit, deletion]) == []


def test_participants_keep_to_their_solutions_folder() -> None:
    assert solution_owner("solutions/bob/fit.ipynb", RULES) == "bob"
    assert solution_owner("solutions/README.md", RULES) is None
    assert solution_owner("notes/bob/x", RULES) is None
    commit = NewCommit(B, (ChangedFile("solutions/bob/fit.ipynb", 10),))
    message = one(ALICE, RefUpdate(A, B, "refs/heads/alice/x"), [commit])
    assert "is in bob's folder; put your notebooks under solutions/alice/" in message
    shared = Rules(solutions_per_user=False)
    assert check_push(Push(ALICE, [RefUpdate(A, B, "refs/heads/alice/x")], [commit]), shared) == []


def test_files_over_the_cap() -> None:
    big = NewCommit(B, (ChangedFile("solutions/alice/data.bin", MAX_FILE_SIZE + 1),))
    fits = NewCommit(C, (ChangedFile("solutions/alice/data.bin", MAX_FILE_SIZE),))
    update = RefUpdate(A, B, "refs/heads/alice/x")
    assert "is 10485761 bytes, over the 10485760 bytes limit" in one(ALICE, update, [big])
    huge = NewCommit(B, (ChangedFile("solutions/alice/data.bin", 3 * MAX_FILE_SIZE),))
    assert "is 30.0 MiB, over the 10.0 MiB limit; keep large data out" in one(ALICE, update, [huge])
    assert codes(OLGA, [update], [big]) == ["too-large"]  # organisers too
    assert codes(ALICE, [update], [fits]) == []
    small = Rules(max_file_size=100)
    assert [r.code for r in check_push(Push(ALICE, [update], [fits]), small)] == ["too-large"]


def test_a_challenges_own_cap_is_named_in_the_refusal() -> None:
    capped = Rules(max_file_size=64 * 1024)
    data = NewCommit(B, (ChangedFile("solutions/alice/data.bin", 100 * 1024),))
    [refusal] = check_push(Push(ALICE, [RefUpdate(A, B, "refs/heads/alice/x")], [data]), capped)
    assert refusal.message == (
        f"refusing commit {B[:10]}: solutions/alice/data.bin is 100.0 KiB, over the 64.0 KiB limit; "
        "keep large data out of the repository"
    )
    assert Solutions().max_file_size == MAX_FILE_SIZE  # the spec's default is the policy's


def test_every_problem_is_reported_once() -> None:
    commit = NewCommit(B, (ChangedFile("challenge.yaml", 3),))
    assert codes(ALICE, [RefUpdate(A, B, "refs/heads/main")], [commit, commit]) == [
        "namespace",
        "organiser-path",
    ]


def test_a_ref_reaching_a_commit_closed_to_the_pusher_is_refused_by_name() -> None:
    update = RefUpdate(ZERO_SHA, B, "refs/heads/alice/borrowed")
    closed = Push(ALICE, [update], [NewCommit(B)], closed={update.ref: [C]})
    [refusal] = check_push(closed, RULES)
    assert refusal.code == "closed-ancestor"
    assert refusal.message.startswith(f"refusing refs/heads/alice/borrowed: it builds on {C[:10]}")
    assert check_push(Push(ALICE, [update], [NewCommit(B)], closed={update.ref: []}), RULES) == []


def test_without_a_spec_only_organisers_push() -> None:
    assert unknown_spec_refusals(OLGA, "not published") == []
    [refusal] = unknown_spec_refusals(ALICE, "the challenge is not published yet")
    assert refusal.message.startswith("refusing the push: the challenge is not published yet;")


def test_human_size() -> None:
    assert human_size(512) == "512 B"
    assert human_size(MAX_FILE_SIZE) == "10.0 MiB"
    assert human_size(3 * 1024**3) == "3.0 GiB"


def test_parse_raw_diff_plain_and_combined() -> None:
    z = "0" * 40
    plain = f":000000 100644 {z} {A} A\0new.txt\0:100644 000000 {B} {z} D\0gone.txt\0"
    assert parse_raw_diff(plain) == [("new.txt", "100644", A), ("gone.txt", "000000", z)]
    combined = f"::100644 100644 100644 {A} {A} {C} MM\0odd name.py\0"
    assert parse_raw_diff(combined) == [("odd name.py", "100644", C)]
    assert parse_raw_diff("") == []


def test_links_under_solutions_are_refused_with_what_to_do() -> None:
    """`ln -s /home/jovyan/data solutions/alice/mydata` is a harmless habit in a home folder, and
    a checkout the scorer cannot make: refused at the push, removing it again is fine."""
    link = NewCommit(B, (ChangedFile("solutions/alice/mydata", 17, mode=SYMLINK_MODE),))
    update = RefUpdate(A, B, "refs/heads/alice/x")
    assert one(ALICE, update, [link]) == (
        f"refusing commit {B[:10]}: solutions/alice/mydata is a symbolic link, which the scorer cannot "
        "check out; remove it (git rm --cached solutions/alice/mydata), read the phase's data from "
        "inputs_dir, and commit again"
    )
    assert codes(OLGA, [RefUpdate(A, B, "refs/heads/main")], [link]) == ["link"]  # organisers too
    elsewhere = NewCommit(B, (ChangedFile("notes/mydata", 17, mode=SYMLINK_MODE),))
    assert codes(ALICE, [update], [elsewhere]) == ["link"]  # a participant's anywhere
    assert codes(OLGA, [RefUpdate(A, B, "refs/heads/main")], [elsewhere]) == []
    removed = NewCommit(C, (ChangedFile("solutions/alice/mydata", None, mode="000000"),))
    assert codes(ALICE, [update], [removed]) == []


def test_the_hook_sees_a_committed_link(tmp_path, monkeypatch) -> None:
    """What pre-receive scans in a real repository: the link's mode reaches the policy."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    (work / "solutions" / "alice").mkdir(parents=True)
    (work / "solutions" / "alice" / "mydata").symlink_to("/home/jovyan/data")
    (work / "solutions" / "alice" / "fit.ipynb").write_text("{}")
    git(work, "add", "--all")
    git(work, "commit", "-q", "-m", "with a link")
    monkeypatch.chdir(work)
    [commit] = scan([git(work, "rev-parse", "HEAD")])
    modes = {change.path: change.mode for change in commit.changes}
    assert modes == {"solutions/alice/fit.ipynb": "100644", "solutions/alice/mydata": SYMLINK_MODE}
    assert [
        r.code
        for r in check_push(
            Push(ALICE, [RefUpdate(ZERO_SHA, commit.sha, "refs/heads/alice/x")], [commit]), RULES
        )
    ] == ["link"]
