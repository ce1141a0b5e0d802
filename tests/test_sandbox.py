"""Direct tests of scorer.scoring.sandbox.runner: how a run is isolated, seen from inside and from outside."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import scorer.scoring.sandbox.choose
from scorer.challenge.spec import RunLimits
from scorer.exceptions import ExecutionTimeout, SandboxUnavailable
from scorer.scoring.outcome import check_outcome
from scorer.scoring.sandbox import bwrap
from scorer.scoring.sandbox.bwrap import MOUNT, SANDBOX_UID_RANGE, BwrapRunner
from scorer.scoring.sandbox.choose import make_runner
from scorer.scoring.sandbox.runner import BLOCK, ENTRY, RunFolders, RunOutcome, RunRequest, UnsandboxedRunner
from scorer.scoring.sandbox.watchdog import memory_use

LIMITS = RunLimits(wall_time=60, cell_time=30, memory="1GiB", disk="20MB", output="1MB", processes=48)


def make_request(root: Path, notebook: nbformat.NotebookNode, limits: RunLimits = LIMITS) -> RunRequest:
    folders = RunFolders.create(root / "run")
    inputs = root / "inputs"
    inputs.mkdir()
    (inputs / "train.csv").write_text("id,x,y\n0,1.0,2.0\n")
    (folders.work / "nb.ipynb").write_text(nbformat.writes(notebook))
    return RunRequest(folders, "nb.ipynb", {"degree": 3}, inputs, limits, "facts.json")


def notebook(*sources: str) -> nbformat.NotebookNode:
    parameters = new_code_cell(
        'inputs_dir = "data"\npredictions_path = "facts.json"', metadata={"tags": ["parameters"]}
    )
    return new_notebook(cells=[parameters, *(new_code_cell(s) for s in sources)])


# --- refusing to run without a sandbox ---------------------------------------------------------


def test_no_sandbox_is_refused_unless_allowed():
    with pytest.raises(SandboxUnavailable) as caught:
        make_runner("none", allow_unsandboxed=False)
    message = caught.value.user_message
    assert "refusing to run untrusted notebooks without a sandbox" in message
    assert "sandbox setting is `none`" in message
    assert "install `bubblewrap`" in message
    assert "allow_unsandboxed: true" in message and "--allow-unsandboxed" in message


def test_auto_without_bwrap_is_refused(monkeypatch):
    monkeypatch.setattr(scorer.scoring.sandbox.choose.shutil, "which", lambda _name: None)
    with pytest.raises(SandboxUnavailable, match="bubblewrap is not installed"):
        make_runner("auto", allow_unsandboxed=False)
    with pytest.raises(SandboxUnavailable, match="install the `bubblewrap` package"):
        BwrapRunner()
    assert isinstance(make_runner("auto", allow_unsandboxed=True), UnsandboxedRunner)


def test_explicitly_unsandboxed_runner_says_so():
    runner = make_runner("none", allow_unsandboxed=True)
    assert isinstance(runner, UnsandboxedRunner) and runner.sandboxed is False


# --- the command line and the job, without running them ----------------------------------------


@pytest.fixture
def request_(tmp_path: Path) -> RunRequest:
    return make_request(tmp_path, notebook("pass"))


def test_runner_uid_is_unprivileged_and_random():
    uids = {BwrapRunner(bwrap="/bin/true").uid for _ in range(20)}
    assert all(SANDBOX_UID_RANGE[0] <= uid < SANDBOX_UID_RANGE[1] for uid in uids)
    assert len(uids) > 1


def test_argv_isolates_and_binds_only_what_the_run_needs(request_):
    runner = BwrapRunner(bwrap="/bin/true")
    argv = runner.argv(request_, request_.folders.job / "job.json", 9)
    text = " ".join(argv)
    for flag in ("--unshare-pid", "--unshare-net", "--unshare-ipc", "--die-with-parent", "--clearenv"):
        assert flag in argv
    assert "--ro-bind / /" not in text and "--bind / /" not in text
    assert f"--ro-bind {request_.inputs} {MOUNT}/data" in text
    assert f"--bind {request_.folders.work} {MOUNT}/work" in text
    assert f"--bind {request_.folders.output} {MOUNT}/output" in text
    entry = str(ENTRY)
    assert str(Path(__file__).parents[1] / "scorer") not in text.replace(entry, "")
    if os.geteuid() == 0:
        assert f"--reuid={runner.uid}" in argv and "--no-new-privs" in argv and "--inh-caps=-all" in argv


def test_job_applies_the_limits_as_rlimits(request_):
    job = BwrapRunner(bwrap="/bin/true").job(request_)
    assert job["rlimits"]["FSIZE"] == int(LIMITS.disk)
    assert job["rlimits"]["NPROC"] == LIMITS.processes
    assert job["rlimits"]["CORE"] == 0
    assert job["rlimits"]["AS"] > int(LIMITS.memory)
    assert job["cell_timeout"] == LIMITS.cell_time and job["output_cap"] == int(LIMITS.output)
    assert job["parameters"] == {
        "degree": 3,
        "inputs_dir": f"{MOUNT}/data",
        "predictions_path": f"{MOUNT}/output/facts.json",
    }


def test_environment_is_built_from_scratch(request_, monkeypatch):
    for name in ("COOP_SECRET_TOKEN", "DATABASE_URL", "JUPYTERHUB_API_TOKEN", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "secret")
    for runner in (BwrapRunner(bwrap="/bin/true"), UnsandboxedRunner()):
        env = runner.env(request_)
        assert "secret" not in env.values()
        assert not [k for k in env if k.startswith(("COOP", "DATABASE", "JUPYTERHUB", "AWS"))]
    assert BwrapRunner(bwrap="/bin/true").env(request_)["HOME"] == "/tmp"


def test_disk_usage_counts_links_not_their_targets(tmp_path):
    folders = RunFolders.create(tmp_path / "run")
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 1_000_000)
    (folders.output / "link").symlink_to(big)
    (folders.work / "small.bin").write_bytes(b"x" * 1000)
    assert folders.disk_usage() == 2 * BLOCK  # a block each, whatever a link points to
    (folders.work / "empty").mkdir()
    (folders.work / "empty.txt").touch()
    (folders.work / "large.bin").write_bytes(b"x" * 10 * BLOCK)
    assert folders.disk_usage() == 14 * BLOCK  # an empty file or folder takes a block too


def test_tree_memory_measures_a_process_tree():
    assert memory_use(psutil.Process()).processes > 10 * 1024**2


# --- inside the sandbox ------------------------------------------------------------------------

INSPECT = r"""
import errno, json, os, resource, socket

def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))

def write(path):
    with open(path, "w") as handle:
        handle.write("x")

def listing(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return errno.errorcode.get(exc.errno)

status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
facts = {
    "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "root": listing("/"), "work": listing("/work"), "work_main": listing("/work/main"),
    "home_root": listing("/root"), "etc": listing("/etc"), "coop": listing("/coop"),
    "read_shadow": attempt(lambda: open("/etc/shadow").read()),
    "read_ld_cache": attempt(lambda: open("/etc/ld.so.cache", "rb").read(1)),
    "write_data": attempt(lambda: write(f"{inputs_dir}/new.csv")),
    "write_work": attempt(lambda: write("/coop/work/new.txt")),
    "write_venv": attempt(lambda: write(os.path.join(os.path.dirname(os.__file__), "evil.py"))),
    "write_usr": attempt(lambda: write("/usr/evil")),
    "read_data": open(f"{inputs_dir}/train.csv").read(),
    "interfaces": [name for _index, name in socket.if_nameindex()],
    "hostname": socket.gethostname(),
    "no_new_privs": status["NoNewPrivs"].strip(), "cap_eff": status["CapEff"].strip(),
    "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
    "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
    "pid1": open("/proc/1/cmdline", "rb").read().split(b"\0")[0].decode(),
    "parent_environ": attempt(lambda: open(f"/proc/{os.getppid()}/environ", "rb").read()),
    "pids": listing("/proc") and sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
}
with open(predictions_path, "w") as handle:
    json.dump(facts, handle)
"""


@pytest.fixture(scope="module")
def inside(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, RunOutcome, int]]:
    """Run one notebook that describes the sandbox it runs in (3-4 s)."""
    request = make_request(tmp_path_factory.mktemp("inside"), notebook(INSPECT))
    runner = BwrapRunner()
    outcome = runner.run(request)
    facts_file = request.folders.output / "facts.json"
    assert facts_file.is_file(), outcome.log_tail
    yield json.loads(facts_file.read_text()), outcome, runner.uid


@pytest.mark.needs("bwrap")
class TestInside:
    def test_the_run_finished(self, inside):
        _facts, outcome, _uid = inside
        assert outcome.report == {"event": "finished", "status": "ok"}
        assert outcome.started and outcome.returncode == 0 and outcome.sandboxed
        assert outcome.killed_for is None and outcome.peak_memory > 0

    def test_runs_as_the_unprivileged_sandbox_user(self, inside):
        facts, _outcome, uid = inside
        assert facts["uid"] == facts["euid"] == uid != 0
        if os.geteuid() == 0:
            assert facts["gid"] == uid and facts["groups"] == []
        assert facts["no_new_privs"] == "1"
        assert int(facts["cap_eff"], 16) == 0

    def test_sees_no_host_checkout_but_the_environment(self, inside):
        facts, _outcome, _uid = inside
        venv = Path(sys.prefix)
        assert not {"home", "var", "srv", "mnt", "opt", "media", "boot", "run"} & set(facts["root"])
        assert set(facts["root"]) <= {
            "usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc",
            "proc", "dev", "tmp", "coop", *Path(sys.prefix).resolve().parts[1:2],
            *Path(sys.base_prefix).resolve().parts[1:2],
        }  # fmt: skip
        if venv.resolve() == Path("/work/main/.venv"):
            assert facts["work"] == ["main"]
            assert facts["work_main"] == [".venv"]  # no scorer/, no tests/, no .git
        assert facts["coop"] == ["data", "job", "output", "work"]

    def test_etc_holds_only_the_few_files_bound(self, inside):
        facts, _outcome, _uid = inside
        assert facts["etc"] == "EACCES" or set(facts["etc"]) <= set(bwrap.ETC_FILES)
        assert facts["read_shadow"] in {"ENOENT", "EACCES"}

    def test_the_etc_files_bound_are_readable(self, inside):
        facts, _outcome, _uid = inside
        if not Path("/etc/ld.so.cache").exists():
            pytest.skip("no /etc/ld.so.cache on this host")
        assert facts["read_ld_cache"] == "ok"

    def test_data_is_read_only_and_work_writable(self, inside):
        facts, _outcome, _uid = inside
        assert facts["read_data"].startswith("id,x,y")
        assert facts["write_data"] == "EROFS"
        assert facts["write_work"] == "ok"
        assert facts["write_venv"] in {"EROFS", "EACCES"}
        assert facts["write_usr"] in {"EROFS", "EACCES"}

    def test_no_network_but_loopback(self, inside):
        facts, _outcome, _uid = inside
        assert facts["interfaces"] == ["lo"]
        assert facts["hostname"] == "sandbox"

    def test_own_process_tree_and_limits(self, inside):
        facts, _outcome, _uid = inside
        assert "bwrap" in facts["pid1"]  # pid 1 is the sandbox's init, not the host's
        assert len(facts["pids"]) <= 4  # init, papermill, the kernel (and maybe a helper)
        assert facts["parent_environ"] == "EACCES"  # papermill is not dumpable
        assert facts["nproc"] == LIMITS.processes
        assert facts["fsize"] == int(LIMITS.disk)


@pytest.mark.needs("bwrap")
def test_watchdog_kills_a_run_over_its_wall_time(tmp_path):
    limits = RunLimits(wall_time=4, cell_time=60, memory="1GiB", disk="20MB", output="1MB")
    request = make_request(tmp_path, notebook("import time\ntime.sleep(60)"), limits)
    runner = BwrapRunner()
    outcome = runner.run(request)
    assert outcome.killed_for == "wall_time" and outcome.report is None
    with pytest.raises(ExecutionTimeout, match="took longer than the phase's limit of 4 s"):
        check_outcome(outcome, limits, None, ())
    left = [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == runner.uid]
    _gone, alive = psutil.wait_procs(left, timeout=5)  # one may still be dying as we look
    assert alive == []  # the whole tree went with it (a survivor would sleep for a minute)


def test_an_environment_under_tmp_is_bound_after_the_private_tmp(monkeypatch, tmp_path):
    """A checkout under /tmp (a fresh clone, a CI folder) keeps its venv visible in the sandbox."""
    venv = Path("/tmp/somewhere/.venv")
    monkeypatch.setattr(bwrap, "python_roots", lambda: [venv])
    folders = RunFolders.create(tmp_path / "run")
    request = RunRequest(folders, "nb.ipynb", {}, tmp_path, RunLimits(), "predictions.csv")
    argv = BwrapRunner().argv(request, tmp_path / "job.json", 3)
    tmpfs = argv.index("/tmp", argv.index("--tmpfs"))
    bind = argv.index(str(venv))
    assert tmpfs < bind
    assert argv[argv.index("/tmp/somewhere") - 2 : argv.index("/tmp/somewhere")] == ["0755", "--dir"]
