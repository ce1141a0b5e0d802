"""Hypothesis over the forges' webhook parsers: any headers and any body (JSON or not, the
documented payloads with any value swapped for any JSON) give a push event or a
:class:`MalformedDelivery` / :class:`SignatureMismatch`, never another exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorer.exceptions import MalformedDelivery, SignatureMismatch
from scorer.ingest.forges.base import ForgeWebhooks
from scorer.ingest.forges.gitea import GiteaWebhooks
from scorer.ingest.forges.github import GitHubWebhooks
from scorer.ingest.forges.gitlab import GitLabWebhooks
from tests.fuzz.strategies import FUZZ, JSON
from tests.test_forge import PAYLOADS, SECRET

FORGES = {
    "github-push.json": GitHubWebhooks(),
    "gitlab-push.json": GitLabWebhooks(),
    "gitea-push.json": GiteaWebhooks(),
}
TEXT = st.text(max_size=40)


def swapped(data: Any, draw: st.DrawFn) -> Any:
    """``data`` with some of its values (at any depth) replaced by arbitrary JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    if isinstance(data, dict):
        return {key: swapped(value, draw) for key, value in data.items() if draw(st.integers(0, 19))}
    if isinstance(data, list):
        return [swapped(item, draw) for item in data]
    return data


@st.composite
def bodies(draw: st.DrawFn, payload: str) -> bytes:
    kind = draw(st.sampled_from(["swapped", "json", "bytes", "deep"]))
    if kind == "swapped":
        return json.dumps(swapped(json.loads((PAYLOADS / payload).read_text()), draw)).encode()
    if kind == "json":
        return json.dumps(draw(JSON)).encode()
    if kind == "deep":  # deeper than the JSON decoder's recursion, and over 4300 digits
        depth = draw(st.integers(1, 20_000))
        return draw(st.sampled_from([b"[" * depth, b'{"a":' * depth, b"1" * depth]))
    return draw(st.binary(max_size=200))


@st.composite
def headers(draw: st.DrawFn, forge: ForgeWebhooks) -> dict[str, str]:
    known = [forge.signature_header, forge.event_header, *forge.delivery_headers]
    names = st.sampled_from(known) | st.sampled_from(known).map(str.lower) | TEXT
    return draw(st.dictionaries(names, TEXT | st.sampled_from(["push", "Push Hook", SECRET]), max_size=5))


@pytest.mark.parametrize("payload", sorted(FORGES))
@FUZZ
@given(data=st.data())
def test_any_delivery_is_a_push_or_a_forge_error(payload: str, data: st.DataObject) -> None:
    forge = FORGES[payload]
    given_headers, body = data.draw(headers(forge)), data.draw(bodies(payload))
    try:
        forge.signers(given_headers, body, {"curve": SECRET, "orbit": ""})
    except SignatureMismatch as exc:
        assert str(exc)
    try:
        forge.kind(forge.event(given_headers))
    except MalformedDelivery as exc:
        assert str(exc)
    valid = {**given_headers, forge.delivery_headers[0]: "d-1"}
    for attempt in (given_headers, valid):
        try:
            event = forge.push_event(attempt, body)
        except MalformedDelivery as exc:
            assert str(exc)
        else:
            assert event.forge == forge.name and len(event.after) == 40
