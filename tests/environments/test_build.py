"""Building challenge environments for real: uv inside bubblewrap, offline from the wheelhouse
``make`` fills (``<venv>/wheelhouse``). One environment is built for the module (uncertainties,
a local package of the challenge, the platform's kernel side); the bad inputs each fail by name
and leave nothing half-built, and what was built before keeps serving."""

from __future__ import annotations

import socket
import sysconfig
import threading
import zipfile
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from scorer.challenge.load import load_spec
from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import EnvironmentSpec
from scorer.config import ScorerSettings
from scorer.environments.build import build, fetch_wheels
from scorer.environments.inputs import EnvironmentInputs, environment_inputs
from scorer.environments.model import KERNEL_NAME, Environment
from scorer.environments.store import collect, environment_at, environment_for, is_built, lease, record_use
from scorer.exceptions import EnvironmentBuildFailed, EnvironmentNotPrepared
from tests.environments.wheelhouse import WHEELHOUSE, need_wheelhouse

pytestmark = pytest.mark.needs("bwrap")

SPEC = EnvironmentSpec(requirements="requirements.txt")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> ScorerSettings:
    need_wheelhouse()
    extra = tmp_path_factory.mktemp("extra-wheels")
    wheel(extra, "coop-test-alpha", "1.0", "coop-test-beta==1.0")
    wheel(extra, "coop-test-beta", "1.0")
    wheel(extra, "coop-test-beta", "2.0")
    home = tmp_path_factory.mktemp("home")
    return ScorerSettings(
        home=str(home), environment_find_links=[str(WHEELHOUSE), str(extra)], environment_offline=True
    )


def wheel(folder: Path, name: str, version: str, *requires: str) -> None:
    """A tiny pure-Python wheel, written by hand (no build tool runs)."""
    module, dist = name.replace("-", "_"), f"{name.replace('-', '_')}-{version}"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{module}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist}.dist-info/METADATA": metadata,
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    files[f"{dist}.dist-info/RECORD"] = "".join(
        f"{path},,\n" for path in [*files, f"{dist}.dist-info/RECORD"]
    )
    with zipfile.ZipFile(folder / f"{dist}-py3-none-any.whl", "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)


def repository(folder: Path, requirements: str, **packages: str) -> Path:
    """A challenge tree with ``requirements.txt`` and local packages (name → setup.py text)."""
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text(requirements)
    for name, setup in packages.items():
        (folder / name).mkdir()
        (folder / name / "setup.py").write_text(setup)
    return folder


def inputs_of(tree: Path) -> EnvironmentInputs:
    return environment_inputs(SPEC, tree)


HELPER = """\
from setuptools import setup
setup(name="coop-test-helper", version="1.0", py_modules=["coop_test_helper"])
"""


@pytest.fixture(scope="module")
def built(settings: ScorerSettings, tmp_path_factory: pytest.TempPathFactory) -> Environment:
    tree = repository(
        tmp_path_factory.mktemp("good") / "repo", "uncertainties==3.2.3\n./helper\n", helper=HELPER
    )
    (tree / "helper" / "coop_test_helper.py").write_text("ANSWER = 42\n")
    said: list[str] = []
    environment = build(settings, inputs_of(tree), said.append)
    assert said[0] == "fetching wheels" and said[-1] == "built"
    return environment


def test_built_once_then_reused(built: Environment, settings: ScorerSettings, tmp_path: Path):
    assert is_built(built) and built.path.name == built.key[:16]
    before = (built.path.stat().st_ino, (built.path / ".coop-environment.json").stat().st_mtime_ns)
    tree = repository(tmp_path / "repo", "# the same inputs\n./helper\nuncertainties==3.2.3\n", helper=HELPER)
    (tree / "helper" / "coop_test_helper.py").write_text("ANSWER = 42\n")
    said: list[str] = []
    again = build(settings, inputs_of(tree), said.append)
    assert again == built and said == []  # nothing fetched, nothing installed
    assert (built.path.stat().st_ino, (built.path / ".coop-environment.json").stat().st_mtime_ns) == before


def test_the_environment_imports_its_packages_and_runs_a_kernel(built: Environment):
    specs = KernelSpecManager(kernel_dirs=[str(built.jupyter_path / "kernels")])
    spec = specs.get_kernel_spec(KERNEL_NAME)
    assert spec.argv[0] == str(built.python.absolute()) and Path(spec.argv[1]).is_file()
    assert Path(spec.argv[1]).is_relative_to(built.path) and spec.argv[1].endswith("/ipykernel_launcher.py")
    manager = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
    manager.start_kernel()
    try:
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=60)
        code = "import sys, uncertainties, coop_widgets, coop_test_helper\n"
        code += "print(sys.prefix, coop_test_helper.ANSWER)"
        printed: list[str] = []
        reply = client.execute_interactive(
            code, timeout=60, output_hook=lambda m: printed.append(m["content"].get("text", ""))
        )
        assert reply["content"]["status"] == "ok"
        assert "".join(printed).split() == [str(built.path), "42"]
        client.stop_channels()
    finally:
        manager.shutdown_kernel(now=True)


def test_environment_for_a_phase(built: Environment, settings: ScorerSettings, tmp_path: Path):
    folder = scaffold("Env test", tmp_path / "challenge")
    challenge = load_spec(folder)
    phase = challenge.phases[0].id
    assert environment_for(settings, challenge, phase, folder) is None  # no environment: the platform's
    spec_file = folder / "challenge.yaml"
    spec_file.write_text(spec_file.read_text() + "environment:\n  requirements: env/requirements.txt\n")
    (folder / "env").mkdir()
    (folder / "env" / "requirements.txt").write_text("uncertainties==3.2.3\n")
    declared = load_spec(folder)
    with pytest.raises(EnvironmentNotPrepared, match="not ready yet"):
        environment_for(settings, declared, phase, folder)
    good = folder / "env" / "requirements.txt"
    good.write_text("uncertainties==3.2.3\n./helper\n")
    (folder / "env" / "helper").mkdir()
    (folder / "env" / "helper" / "setup.py").write_text(HELPER)
    (folder / "env" / "helper" / "coop_test_helper.py").write_text("ANSWER = 42\n")
    assert environment_for(settings, declared, phase, folder) == built


def test_an_unknown_package_is_named(settings: ScorerSettings, tmp_path: Path):
    inputs = inputs_of(repository(tmp_path / "repo", "coop-no-such-package==1.0\nuncertainties==3.2.3\n"))
    with pytest.raises(EnvironmentBuildFailed) as failed:
        build(settings, inputs)
    assert failed.value.package == "coop-no-such-package"
    assert "no wheel of coop-no-such-package==1.0 is available" in failed.value.user_message
    assert not environment_at(settings, inputs.key).path.exists()


def test_pins_that_conflict_through_a_dependency(settings: ScorerSettings):
    with pytest.raises(EnvironmentBuildFailed, match=r"the pinned packages conflict: .*coop-test-alpha"):
        fetch_wheels(settings, ["coop-test-alpha==1.0", "coop-test-beta==2.0"], "3.11")


class Listener:
    """A loopback port that counts connections: a build reaching it had the host's network."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()


def test_a_package_whose_build_reaches_the_network_fails_by_name(
    built: Environment, settings: ScorerSettings, tmp_path: Path
):
    listener = Listener()
    setup = f"import socket\nsocket.create_connection(('127.0.0.1', {listener.port}), timeout=5)\n" + HELPER
    inputs = inputs_of(repository(tmp_path / "repo", "uncertainties==3.2.3\n./phoning\n", phoning=setup))
    try:
        with pytest.raises(EnvironmentBuildFailed) as failed:
            build(settings, inputs)
    finally:
        listener.socket.close()
    assert failed.value.package == "phoning" and "installing phoning failed" in failed.value.user_message
    assert "Connection refused" in failed.value.log_tail and listener.accepted == 0
    assert not environment_at(settings, inputs.key).path.exists()
    assert list((Path(settings.environments) / ".building").iterdir()) == []
    assert is_built(built)  # what was built before still serves


def test_a_package_whose_build_writes_outside_the_environment_fails(settings: ScorerSettings, tmp_path: Path):
    target = Path(sysconfig.get_paths()["purelib"]) / f"coop-test-escape-{tmp_path.name}.pth"
    setup = f"open({str(target)!r}, 'w').write('# planted')\n" + HELPER
    inputs = inputs_of(repository(tmp_path / "repo", "./planting\n", planting=setup))
    try:
        with pytest.raises(EnvironmentBuildFailed) as failed:
            build(settings, inputs)
        assert failed.value.package == "planting"
        assert "Read-only file system" in failed.value.log_tail
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)
    assert not environment_at(settings, inputs.key).path.exists()


def test_gc_keeps_used_and_leased_environments(built: Environment, settings: ScorerSettings):
    root = settings.environments
    record_use(settings, "higgs", "toy", built)
    forgotten, held = (Environment(c * 64, root / (c * 16)) for c in "ab")
    for unused in (forgotten, held):  # folders as a build leaves them, their content does not matter here
        unused.path.mkdir()
        (unused.path / ".coop-lease").touch()
        (unused.path / ".coop-environment.json").write_text("{}")
    with lease(held):
        rows = {row.folder: row.kept_for for row in collect(settings, {"higgs"})}
    assert rows == {
        built.path.name: "used by higgs/toy",
        "a" * 16: None,
        "b" * 16: "held by a running submission",
    }
    assert built.path.is_dir() and held.path.is_dir() and not forgotten.path.exists()
    rows = {row.folder: row.kept_for for row in collect(settings, set(), dry_run=True)}
    assert rows == {built.path.name: None, "b" * 16: None}  # a challenge gone from the ledger keeps nothing
    assert built.path.is_dir()
    with pytest.raises(EnvironmentNotPrepared), lease(forgotten):
        pass
