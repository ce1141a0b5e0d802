"""Schemathesis over the service's OpenAPI document, in process, over the authorization matrix's
world: no request, anonymous or an organiser's, gets a 5xx or a body its schema does not allow.

Every operation is fuzzed, those that change state too (they must not 5xx either; the world is
this module's own): with valid data, with valid data at the world's real path parameters (so
the 2xx bodies are checked, not only the 404s) and with invalid data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from scorer.service.app import create_app
from tests.service.authz_world import World, build
from tests.service.test_authz_matrix import HEADERS, PATH, TOKENS

#: Per operation; each example is sent as every caller (the file takes ~1 min, half of it the world).
EXAMPLES = 25
CALLERS = ("anonymous", "olga")
CHECKS = [not_a_server_error, response_schema_conformance]


@dataclass
class Fuzzed:
    world: World
    schema: schemathesis.BaseSchema


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    world = build(Path(tmp_path_factory.mktemp("fuzz")))
    try:
        yield Fuzzed(world, schemathesis.openapi.from_asgi("/openapi.json", create_app(world.api, TOKENS)))
    finally:
        world.api.close()


def test_no_server_error_and_every_body_matches_its_schema(fuzzed: Fuzzed) -> None:
    real = {key: getattr(fuzzed.world, value, value) for key, value in PATH.items()}
    failures = []
    for result in fuzzed.schema.get_all_operations():
        operation = result.ok()
        at_real = {key: value for key, value in real.items() if f"{{{key}}}" in operation.path}
        cases = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=at_real),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(cases)
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            for caller in CALLERS:
                case.call_and_validate(headers=HEADERS[caller], checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:
            failures.append(f"{operation.label}: {str(exc)[:3000]}")
    assert not failures, "\n\n".join(failures)
