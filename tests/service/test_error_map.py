"""The one error map: every ``CoopError`` names its HTTP status, and the service answers with it.

The errors are found by walking ``CoopError``'s subclasses after importing every module of the
scorer and of ``coop_client``, so that a new error without a status fails here rather than
reaching a participant as a 500 by accident.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import coop_client
import scorer
from scorer.exceptions import CoopError, NotAuthenticated, PolicyRefusal, UnknownChallenge
from scorer.service import errors

#: Alembic's scripts, which run only inside Alembic.
NOT_IMPORTED = ("scorer.ledger.migrations",)
#: Where the service's errors are raised; ``coop_widgets``' errors are shown by the widgets.
PACKAGES = (scorer, coop_client)


def _subclasses(cls: type[CoopError]) -> Iterator[type[CoopError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def coop_errors() -> list[type[CoopError]]:
    for package in PACKAGES:
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not module.name.startswith(NOT_IMPORTED):
                importlib.import_module(module.name)
    roots = tuple(f"{package.__name__}." for package in PACKAGES)
    found = {cls for cls in _subclasses(CoopError) if cls.__module__.startswith(roots)}
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


ERRORS = coop_errors()


def representative(cls: type[CoopError]) -> CoopError:
    """An instance of ``cls`` with known messages, whatever its constructor asks for."""
    error = cls.__new__(cls)
    CoopError.__init__(
        error, f"what a person reads about {cls.__name__}", f"what the log keeps: {cls.__name__}"
    )
    return error


def app_raising(error: BaseException) -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.get("/api/fail")
    @app.get("/git/curve.git/info/refs")
    def fail() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


def test_the_walk_finds_the_errors_of_every_part():
    names = {cls.__name__ for cls in ERRORS}
    assert {"UnknownChallenge", "MissingScope", "SignatureMismatch", "ConcurrentChange", "NotServed"} <= names
    assert CoopError.http_status == 500  # what an error nobody classified would get


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_names_its_own_status(cls: type[CoopError]):
    assert "http_status" in vars(cls), f"{cls.__module__}.{cls.__qualname__} names no http_status"
    assert 400 <= HTTPStatus(cls.http_status) < 600


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_the_service_answers_each_error_with_its_status_and_message(cls: type[CoopError], caplog):
    error = representative(cls)
    with app_raising(error) as client, caplog.at_level(logging.INFO, logger="coop.service"):
        answer = client.get("/api/fail")
        plain = client.get("/git/curve.git/info/refs")
    assert answer.status_code == plain.status_code == cls.http_status
    assert answer.json() == {"error": error.user_message, "code": error.code}
    assert plain.headers["content-type"].startswith("text/plain")
    assert plain.text == f"{error.user_message}\n"
    assert error.log_message in caplog.text and error.log_message not in answer.text + plain.text
    asks_for_credentials = "www-authenticate" in answer.headers
    assert asks_for_credentials == (cls.http_status == 401)


def test_the_reason_code_is_the_class_name_unless_the_error_gives_one():
    assert UnknownChallenge("nope").code == "unknown-challenge"
    assert NotAuthenticated("log in").code == "not-authenticated"
    assert PolicyRefusal("no-challenge", "refusing the push").code == "no-challenge"


def test_an_unexpected_exception_is_a_500_that_tells_nothing(caplog):
    with app_raising(RuntimeError("/srv/secret/path exploded")) as client, caplog.at_level(logging.ERROR):
        answer = client.get("/api/fail")
        plain = client.get("/git/curve.git/info/refs")
    assert answer.status_code == plain.status_code == 500
    assert answer.json() == {"error": errors.INTERNAL_ERROR, "code": "internal-error"}
    assert plain.text == f"{errors.INTERNAL_ERROR}\n"
    assert "/srv/secret/path exploded" in caplog.text
