"""A challenge environment at run time: the scorer's sandbox runs the kernel from it (papermill
stays in the platform's Python), JupyterLab gets a kernel for it, Easy start names that kernel.

One real environment is built (uncertainties 3.2.3, which the platform does not have) with the
environments package's own build, offline from the local wheels, once for the module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
import yaml
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel
from nbformat.v4 import new_code_cell, new_notebook

from coop_client.layout import Layout
from coop_widgets.easystart import easy_start
from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.challenge.spec import EnvironmentSpec, RunLimits
from scorer.config import ScorerSettings
from scorer.environments.build import build
from scorer.environments.inputs import environment_inputs
from scorer.environments.kernelspecs import install_kernelspec, jupyter_path
from scorer.environments.model import KERNEL_NAME, Environment
from scorer.scoring.sandbox.bwrap import BwrapRunner
from scorer.scoring.sandbox.runner import RunFolders, RunOutcome, RunRequest, UnsandboxedRunner
from scorer.scoring.sanitize import KERNELSPEC, sanitize
from tests.conftest import git

LIMITS = RunLimits(wall_time=120, cell_time=60, memory="1GiB", disk="20MB", output="1MB", processes=48)
#: What the kernel reports: where it runs from and what it could import.
REPORT = """
import json, sys
try:
    from uncertainties import ufloat
    found = str(ufloat(4.0, 0.3) * 2)
except ImportError as exc:
    found = f"ImportError: {exc}"
try:
    open(sys.prefix + "/written-by-a-notebook", "w").close()
    written = "written"
except OSError as exc:
    written = type(exc).__name__
json.dump({"prefix": sys.prefix, "found": found, "written": written}, open(predictions_path, "w"))
"""


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScorerSettings, Environment]]:
    home = tmp_path_factory.mktemp("coop-home")
    tree = tmp_path_factory.mktemp("challenge")
    (tree / "requirements.txt").write_text("uncertainties==3.2.3\n")
    settings = ScorerSettings(home=str(home))
    inputs = environment_inputs(EnvironmentSpec(requirements="requirements.txt"), tree)
    yield settings, build(settings, inputs)


def run(root: Path, environment: Environment | None, runner: BwrapRunner | UnsandboxedRunner) -> RunOutcome:
    parameters = new_code_cell(
        'inputs_dir = "data"\npredictions_path = "facts.json"', metadata={"tags": ["parameters"]}
    )
    notebook = new_notebook(cells=[parameters, new_code_cell(REPORT)])
    folders = RunFolders.create(root / "run")
    inputs = root / "inputs"
    inputs.mkdir()
    (folders.work / "nb.ipynb").write_text(nbformat.writes(notebook))
    # A participant's module named like ipykernel's launcher, where the kernel starts: never run.
    (folders.work / "ipykernel_launcher.py").write_text('raise SystemExit("not the kernel")\n')
    request = RunRequest(folders, "nb.ipynb", {}, inputs, LIMITS, "facts.json", environment)
    return runner.run(request)


def facts(root: Path) -> dict[str, str]:
    return json.loads((root / "run" / "output" / "facts.json").read_text())


@pytest.mark.needs("bwrap")
def test_the_sandbox_runs_the_kernel_from_the_challenge_environment(environment, tmp_path):
    _settings, env = environment
    platform, challenge = tmp_path / "platform", tmp_path / "challenge"
    for root in (platform, challenge):
        root.mkdir()

    outcome = run(platform, None, BwrapRunner())
    assert outcome.report == {"event": "finished", "status": "ok"}, outcome.log_tail
    assert facts(platform)["found"] == "ImportError: No module named 'uncertainties'"

    outcome = run(challenge, env, BwrapRunner())
    assert outcome.report == {"event": "finished", "status": "ok"}, outcome.log_tail
    seen = facts(challenge)
    assert seen["found"] == "8.0+/-0.6"
    assert seen["prefix"] == str(env.path)
    assert seen["written"] in {"OSError", "PermissionError"}  # read-only
    assert not (env.path / "written-by-a-notebook").exists()


@pytest.mark.needs("bwrap")
def test_the_environment_is_bound_after_the_tmp_tmpfs_with_the_kernels_path(environment, tmp_path):
    _settings, env = environment
    runner = BwrapRunner()
    folders = RunFolders.create(tmp_path / "run")
    (tmp_path / "in").mkdir()
    request = RunRequest(folders, "nb.ipynb", {}, tmp_path / "in", LIMITS, "facts.json", env)
    argv = runner.argv(request, folders.job / "job.json", 3)
    tmpfs = argv.index("/tmp", argv.index("--tmpfs"))
    bound = [i for i, arg in enumerate(argv) if arg == "--ro-bind" and argv[i + 1] == str(env.path)]
    assert bound and bound[0] > tmpfs
    assert argv[bound[0] + 2] == str(env.path)
    assert str(env.base_prefix()) in argv or str(env.base_prefix()).startswith("/usr/")
    setenv = {argv[i + 1]: argv[i + 2] for i, arg in enumerate(argv) if arg == "--setenv"}
    assert setenv["JUPYTER_PATH"] == str(env.jupyter_path)
    assert runner.job(request)["kernel_name"] == KERNEL_NAME


@pytest.mark.needs("bwrap")  # the build runs in bubblewrap
def test_the_unsandboxed_runner_uses_the_environment_too(environment, tmp_path):
    _settings, env = environment
    outcome = run(tmp_path, env, UnsandboxedRunner())
    assert outcome.report == {"event": "finished", "status": "ok"}, outcome.log_tail
    assert facts(tmp_path)["prefix"] == str(env.path)
    (env.path / "written-by-a-notebook").unlink(missing_ok=True)  # no sandbox: nothing stops it


@pytest.mark.needs("bwrap")  # the build runs in bubblewrap
def test_jupyterlab_gets_a_kernel_per_challenge_environment_that_runs_from_it(environment, monkeypatch):
    settings, env = environment
    folder = install_kernelspec(settings, env, "higgs")
    assert folder == jupyter_path(settings) / "kernels" / "coop-higgs"
    install_kernelspec(settings, env, "higgs", "realistic")
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path(settings)))
    specs = KernelSpecManager().get_all_specs()
    assert specs["coop-higgs"]["spec"]["display_name"] == "Python (higgs)"
    assert specs["coop-higgs-realistic"]["spec"]["display_name"] == "Python (higgs, realistic)"
    assert specs["coop-higgs"]["spec"]["metadata"]["coop"]["environment"] == env.key
    manager, client = start_new_kernel(kernel_name="coop-higgs")
    printed: list[str] = []

    def output(message: dict) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    try:
        code = "import sys, uncertainties; print(sys.prefix, uncertainties.__version__)"
        reply = client.execute_interactive(code, timeout=60, output_hook=output)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert "".join(printed).split() == [str(env.path), "3.2.3"]
    assert os.access(folder / "kernel.json", os.R_OK)


def test_sanitize_pins_the_environments_kernel_whatever_the_notebook_says():
    notebook = new_notebook(cells=[new_code_cell("x = 1", metadata={"tags": ["parameters"]})])
    notebook.metadata["kernelspec"] = {"name": "evil", "display_name": "x", "language": "python"}
    data = nbformat.writes(notebook).encode()
    assert sanitize(data, "nb.ipynb", None, True).notebook.metadata["kernelspec"]["name"] == KERNEL_NAME
    assert sanitize(data, "nb.ipynb", None).notebook.metadata["kernelspec"] == KERNELSPEC


OWN = {"requirements": "own.txt"}
DECLARED = {"requirements": "requirements.txt"}


def test_easy_start_names_the_kernel_of_the_phases_environment():
    phases = [
        {"id": "toy", "start": "2026-01-01T00:00:00Z", "baseline": "b/toy.ipynb"},
        {
            "id": "own",
            "start": "2026-01-01T00:00:00Z",
            "baseline": "b/own.ipynb",
            "environment": {"requirements": "o.txt"},
        },
    ]
    declared = Layout.model_validate(
        {"id": "higgs", "environment": {"requirements": "r.txt"}, "phases": phases}
    )
    assert declared.kernelspec(declared.phase("toy")) == {
        "name": "coop-higgs",
        "display_name": "Python (higgs)",
        "language": "python",
    }
    assert declared.kernelspec(declared.phase("own"))["name"] == "coop-higgs-own"
    plain = Layout.model_validate({"id": "higgs", "phases": phases[:1]})
    assert plain.kernelspec(plain.phase("toy")) is None


@pytest.mark.parametrize("declared", [True, False], ids=["environment", "platform"])
def test_easy_start_copies_the_baseline_with_the_challenges_kernel(tmp_path, declared):
    folder = scaffold("Curve", tmp_path / "organiser")
    if declared:
        (folder / "requirements.txt").write_text("uncertainties==3.2.3\n")
        spec = yaml.safe_load((folder / "challenge.yaml").read_text())
        spec["environment"] = {"requirements": "requirements.txt"}
        (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    bare = tmp_path / "curve.git"
    publish(folder, bare, message="publish", author="Organiser", email="organiser@example.org")
    git(tmp_path, "clone", "-q", str(bare), str(tmp_path / "clone"))
    copied = tmp_path / "clone" / easy_start(tmp_path / "clone", "alice")
    kernelspec = json.loads(copied.read_text())["metadata"]["kernelspec"]
    assert kernelspec["name"] == ("coop-curve" if declared else "python3")
    assert not declared or kernelspec["display_name"] == "Python (curve)"
