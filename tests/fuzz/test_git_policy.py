"""Hypothesis over the push policy: any ref names and paths (unicode, ``..``, absolute, very
long, control characters) give refusals of one printable line each, never an exception, and a
participant's push that goes in stays in their namespace and their solutions folder."""

from __future__ import annotations

import posixpath

from hypothesis import given
from hypothesis import strategies as st

from coop_client.git import HEADS, ZERO_SHA
from scorer.ingest.policy import (
    ChangedFile,
    NewCommit,
    Push,
    Pusher,
    RefUpdate,
    Refusal,
    Rules,
    check_push,
    is_organiser_path,
    solution_owner,
)
from tests.fuzz.strategies import FUZZ

RULES = Rules()
PUSHER = "alice"
PART = st.sampled_from(
    [
        "",
        ".",
        "..",
        PUSHER,
        "bob",
        "Alice",
        "solutions",
        "challenge.yaml",
        "baselines",
        "scoring.py",
        "x.ipynb",
    ]
) | st.text(max_size=5)
PARTS = st.lists(PART | st.text(min_size=200, max_size=300), max_size=5).map("/".join)
WORDS = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3).map("/".join)
#: Refs and paths that look like the pusher's (half of them), and anything at all.
REFS = st.one_of(
    WORDS.map(f"{HEADS}{PUSHER}/".__add__),
    st.sampled_from([f"{HEADS}{PUSHER}/", HEADS, "refs/tags/", "/", ""]).flatmap(
        lambda lead: PARTS.map(lead.__add__)
    ),
)
PATHS = st.one_of(
    WORDS.map(f"{RULES.solutions_path}/{PUSHER}/".__add__),
    st.sampled_from([f"{RULES.solutions_path}/{PUSHER}/", "", "/", "./", "../"]).flatmap(
        lambda lead: PARTS.map(lead.__add__)
    ),
)
SHAS = st.sampled_from([ZERO_SHA, "a" * 40, "b" * 40])
UPDATES = st.lists(st.builds(RefUpdate, SHAS, SHAS, REFS, st.booleans()), min_size=1, max_size=2)
CHANGES = st.lists(
    st.builds(
        ChangedFile, PATHS, st.none() | st.integers(0, 2**64), st.sampled_from([None, "100644", "120000"])
    ),
    max_size=3,
)


def one_line_each(refusals: list[Refusal]) -> bool:
    return all(refusal.message.isprintable() for refusal in refusals)


@FUZZ
@given(UPDATES, CHANGES)
def test_a_participant_push_that_goes_in_stays_in_their_namespace(
    updates: list[RefUpdate], changes: list[ChangedFile]
) -> None:
    refusals = check_push(Push(Pusher(PUSHER), updates, [NewCommit("c" * 40, tuple(changes))]), RULES)
    assert one_line_each(refusals)
    if refusals:
        return
    for update in updates:
        assert update.ref.startswith(f"{HEADS}{PUSHER}/") and posixpath.normpath(update.ref) == update.ref
    for change in changes:
        path = change.path
        assert not path.startswith("/") and posixpath.normpath(path) == path
        assert not is_organiser_path(path, RULES.organiser_paths)
        assert solution_owner(path, RULES) in (None, PUSHER)


@FUZZ
@given(UPDATES, CHANGES)
def test_an_organisers_push_gets_one_line_refusals(
    updates: list[RefUpdate], changes: list[ChangedFile]
) -> None:
    push = Push(Pusher("olga", organiser=True), updates, [NewCommit("d" * 40, tuple(changes))])
    assert one_line_each(check_push(push, RULES))
