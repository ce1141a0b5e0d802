"""The participant server's extension as configuration sees it: traits set by a config dict, the
command line or the environment the hub gives a server, and a real ServerApp that loads it.

(Attaching, Easy start and the routes at work are in ``tests/hub/``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_server.serverapp import ServerApp
from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from traitlets import TraitError
from traitlets.config import Config

from coop_widgets.server import AttachStatusHandler, CoopServerApp, EasyStartHandler

HUB_ENV = {
    "COOP_SERVICE_URL": "http://127.0.0.1:8081/services/coop",
    "JUPYTERHUB_USER": "alice",
    "JUPYTERHUB_API_TOKEN": "from-the-hub",
}


@pytest.fixture
def hub_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in HUB_ENV.items():
        monkeypatch.setenv(name, value)


def test_without_a_hub_nothing_is_attached(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in HUB_ENV:
        monkeypatch.delenv(name, raising=False)
    app = CoopServerApp()
    assert (app.service_url, app.user, app.api_token) == ("", "", "")
    assert (app.challenges_dir, app.retry_delays) == ("challenges", [2, 4, 8, 16, 30])
    assert app.participant() is None


@pytest.mark.usefixtures("hub_environment")
def test_the_environment_feeds_the_defaults() -> None:
    participant = CoopServerApp().participant()
    assert participant is not None
    assert (participant.name, participant.token) == ("alice", "from-the-hub")
    assert participant.service_url == "http://127.0.0.1:8081/services/coop/"


@pytest.mark.usefixtures("hub_environment")
def test_configuration_wins_over_the_environment() -> None:
    config = Config(
        {
            "CoopServerApp": {
                "service_url": "http://scorer.example/services/coop/",
                "api_token": "configured",
                "challenges_dir": "work/clones",
                "retry_delays": [0.5, 1],
            }
        }
    )
    app = CoopServerApp(config=config)
    participant = app.participant()
    assert participant is not None
    assert (participant.name, participant.token) == ("alice", "configured")
    assert participant.service_url == "http://scorer.example/services/coop/"
    assert (app.challenges_dir, app.retry_delays) == ("work/clones", [0.5, 1.0])


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        ("challenges_dir", "/srv/clones"),
        ("challenges_dir", "../outside"),
        ("challenges_dir", ""),
        ("retry_delays", [-1]),
    ],
)
def test_settings_that_cannot_work_are_refused(trait: str, value: object) -> None:
    with pytest.raises(TraitError, match=trait):
        CoopServerApp(config=Config({"CoopServerApp": {trait: value}}))


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_environment: None) -> Iterator[ServerApp]:
    """A ServerApp initialised (never started: no port, no attaching) with only this extension,
    and no config file but the test's own."""
    for name, folder in [
        ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "run"),
    ]:
        monkeypatch.setenv(name, str(tmp_path / folder))
    monkeypatch.setenv("JUPYTER_NO_CONFIG", "1")
    (tmp_path / "home").mkdir()
    app = ServerApp.instance(
        root_dir=str(tmp_path / "home"),
        sock=str(tmp_path / "server.sock"),
        jpserver_extensions={"coop_widgets.server": True},
    )
    try:
        app.initialize(argv=["--CoopServerApp.challenges_dir=clones", "--CoopServerApp.user=olga"])
        yield app
    finally:
        ServerApp.clear_instance()


def test_a_server_loads_the_extension_with_its_command_line_settings(server: ServerApp) -> None:
    [extension] = [
        app
        for app in server.extension_manager.extension_apps["coop_widgets.server"]
        if isinstance(app, CoopServerApp)
    ]
    assert (extension.challenges_dir, extension.user, extension.api_token) == (
        "clones",
        "olga",
        "from-the-hub",
    )
    assert extension.attacher.root == Path(server.root_dir) / "clones"
    assert extension.attacher.state == "pending"  # starts with the server's loop, not before

    def route(path: str) -> type:
        request = HTTPServerRequest(
            start_line=RequestStartLine("GET", path, "HTTP/1.1"), headers=HTTPHeaders({"Host": "localhost"})
        )
        return server.web_app.find_handler(request).handler_class

    assert route("/coop/attach") is AttachStatusHandler
    assert route("/coop/start/curve") is EasyStartHandler
