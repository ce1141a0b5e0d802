"""Settings: where each value comes from (command line > config file > environment > built-in),
pluggable classes chosen by class, import string or entry-point name, and what travels to the
Dask workers with every task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from traitlets import TraitError
from traitlets.config.loader import ConfigFileNotFound

from scorer.config import ENVIRONMENT, TRUSTED_INSTANCES, ScorerSettings, load_settings
from scorer.dispatch.executors import LocalClusterExecutor, SchedulerExecutor
from scorer.exceptions import CoopError
from scorer.scoring.sandbox.bwrap import BwrapRunner
from scorer.scoring.sandbox.choose import AutoRunner
from scorer.scoring.sandbox.runner import UnsandboxedRunner


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no coop_config.py and no COOP_* variable set."""
    monkeypatch.chdir(tmp_path)
    for variable in [*ENVIRONMENT.values(), TRUSTED_INSTANCES, "COOP_HUB_PORT"]:
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def write_config(folder: Path, text: str) -> Path:
    path = folder / "coop_config.py"
    path.write_text(f"c = get_config()  # noqa\n{text}")
    return path


def test_built_in_defaults(bare):
    settings = load_settings()
    assert Path(settings.home) == bare / ".coop"
    assert settings.db_url == f"sqlite:///{bare / '.coop' / 'coop.db'}"
    assert (settings.sandbox, settings.executor, settings.gateway_auth) == (
        AutoRunner,
        LocalClusterExecutor,
        "jupyterhub",
    )


def test_the_environment_gives_defaults(bare, monkeypatch):
    monkeypatch.setenv("COOP_HOME", str(bare / "from-env"))
    monkeypatch.setenv("COOP_SANDBOX", "none")
    monkeypatch.setenv("COOP_SCHEDULER", "tcp://127.0.0.1:8786")
    monkeypatch.setenv("COOP_DB_URL", "")  # empty: as if not set
    settings = load_settings()
    assert settings.home == str(bare / "from-env")
    assert settings.db_url == f"sqlite:///{bare / 'from-env' / 'coop.db'}"
    assert settings.sandbox is UnsandboxedRunner
    assert settings.executor is SchedulerExecutor  # a scheduler address implies its executor


def test_the_issuer_and_its_trusted_instances_from_the_environment(bare, monkeypatch):
    assert load_settings().public_url == "http://127.0.0.1:8000/services/coop"
    assert load_settings().trusted_instances == []
    monkeypatch.setenv("COOP_HUB_PORT", "8123")  # the embedded hub's scorer on another port
    monkeypatch.setenv(TRUSTED_INSTANCES, "https://a.example.org/services/coop, https://b.example.org")
    settings = load_settings()
    assert settings.public_url == "http://127.0.0.1:8123/services/coop"
    assert settings.trusted_instances == ["https://a.example.org/services/coop", "https://b.example.org"]
    monkeypatch.setenv("COOP_PUBLIC_URL", "https://coop.example.org/services/coop/")
    assert load_settings().public_url == "https://coop.example.org/services/coop"


def test_settings_travel_to_a_child_process_as_its_environment(bare, monkeypatch):
    """What ``coop up`` and the hub config hand to ``coop serve`` reads back as the same settings."""
    sent = ScorerSettings(
        home=str(bare / "elsewhere"), sandbox="none", trusted_instances=["https://a.example.org"]
    )
    for variable, value in sent.environment().items():
        monkeypatch.setenv(variable, value)
    received = load_settings()
    for name in [*ENVIRONMENT, "trusted_instances"]:
        assert getattr(received, name) == getattr(sent, name), name


def test_the_config_file_wins_over_the_environment(bare, monkeypatch):
    monkeypatch.setenv("COOP_HOME", str(bare / "from-env"))
    monkeypatch.setenv("COOP_SANDBOX", "none")
    monkeypatch.setenv("COOP_SCHEDULER", "tcp://127.0.0.1:8786")
    write_config(
        bare,
        f"c.ScorerSettings.home = {str(bare / 'from-file')!r}\n"
        "c.ScorerSettings.sandbox = 'bwrap'\n"
        "c.ScorerSettings.executor = 'local'\n",
    )
    settings = load_settings()
    assert settings.home == str(bare / "from-file")
    assert settings.sandbox is BwrapRunner
    assert settings.executor is LocalClusterExecutor  # chosen explicitly: the address implies nothing
    assert settings.scheduler_address == "tcp://127.0.0.1:8786"  # what the file leaves, env still gives


def test_the_command_line_wins_over_both(bare, monkeypatch):
    monkeypatch.setenv("COOP_HOME", str(bare / "from-env"))
    (bare / "elsewhere").mkdir()
    given = write_config(
        bare / "elsewhere",
        f"c.ScorerSettings.home = {str(bare / 'from-file')!r}\nc.ScorerSettings.n_workers = 3\n",
    )
    settings = load_settings(given, home=str(bare / "from-cli"), n_workers=None)
    assert settings.home == str(bare / "from-cli")
    assert settings.n_workers == 3  # None: not given on the command line


def test_a_missing_named_config_file_is_an_error(bare):
    with pytest.raises(ConfigFileNotFound):
        load_settings(bare / "nothere.py")


def test_a_pluggable_class_is_a_class_an_import_string_or_an_entry_point_name(bare):
    settings = ScorerSettings()
    settings.sandbox = "scorer.scoring.sandbox.bwrap.BwrapRunner"
    assert settings.sandbox is BwrapRunner
    settings.sandbox = UnsandboxedRunner
    assert settings.sandbox is UnsandboxedRunner
    settings.executor = "Scheduler"  # entry-point names are case-insensitive, as in JupyterHub
    assert settings.executor is SchedulerExecutor
    with pytest.raises(TraitError, match=r"subclass of 'scorer\.scoring\.sandbox\.runner\.Runner'"):
        settings.sandbox = LocalClusterExecutor


def test_an_unknown_name_lists_the_installed_ones(bare):
    with pytest.raises(CoopError, match=r"unknown executor 'kubernetes' \(known: gateway, local, scheduler;"):
        ScorerSettings(executor="kubernetes")
    write_config(bare, "c.ScorerSettings.sandbox = 'docker'\n")
    with pytest.raises(CoopError, match=r"unknown sandbox 'docker' \(known: auto, bwrap, none;"):
        load_settings()


def test_webhook_secrets_never_travel_to_workers():
    settings = ScorerSettings(home="/tmp/x", webhook_secrets={"curve": "s3cret"}, sandbox="none")
    shipped = settings.to_dict()
    assert "s3cret" not in json.dumps(shipped)
    assert shipped["home"] == "/tmp/x"
    assert (
        shipped["sandbox"] == "scorer.scoring.sandbox.runner.UnsandboxedRunner"
    )  # classes as import strings
    again = ScorerSettings(**shipped)
    assert again.webhook_secrets == {} and again.sandbox is UnsandboxedRunner
