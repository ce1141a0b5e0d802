"""How the scorer reads the scopes JupyterHub reports for a token (``GET /hub/api/user``): the
hub expands a role's ``custom:coop:submit!user`` to ``custom:coop:submit!user=<name>``."""

from __future__ import annotations

import pytest

from scorer.service.auth import ORGANISE, SUBMIT, Identity


@pytest.mark.parametrize(
    ("scopes", "submits"),
    [
        ({SUBMIT}, True),
        ({f"{SUBMIT}!user=alice"}, True),
        ({f"{SUBMIT}!user=bob"}, False),  # filtered to someone else
        ({f"{SUBMIT}!group=participants"}, False),  # a filter the scorer does not interpret
        ({f"{SUBMIT}!user=alice2"}, False),
        ({"read:users:name!user=alice"}, False),
    ],
)
def test_a_filtered_scope_counts_only_for_its_own_user(scopes, submits):
    assert Identity("alice", frozenset(scopes)).has(SUBMIT) is submits


def test_the_organiser_flag_reads_the_same_way():
    assert Identity("olga", frozenset({ORGANISE})).organiser
    assert Identity("olga", frozenset({f"{ORGANISE}!user=olga"})).organiser
    assert not Identity("alice", frozenset({f"{ORGANISE}!user=olga"})).organiser
