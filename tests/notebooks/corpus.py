"""The hostile and broken notebook corpus (see README.md in this folder).

Static files here are notebooks that must be refused before they run; those that are not
even valid nbformat 4 are stored as ``*.ipynb.bad`` (ruff lints ``*.ipynb`` files and would
choke on them) and committed under their ``.ipynb`` name. The runtime
attacks are built from a phase's baseline notebook, so that they follow the template: its cells
are [0] markdown, [1] ``parameters`` (``inputs_dir``, ``predictions_path``, ``degree``), [2] load
the inputs, [3] the model (the participant's cell: "cell 4" in a failure reason), [4] the
organiser-tagged cell writing ``test[["id", "y"]]`` to ``predictions_path``.

Every runtime case is a :class:`Case`: a name, the attack, the outcome a run must end in
("scored" or a failure class) and key words its failure reason must contain.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

FOLDER = Path(__file__).parent
MODEL_CELL = 3
ORGANISER_CELL = 4
#: The baseline's model: what a good notebook does in cell [3].
FIT = 'coefficients = np.polyfit(train.x, train.y, degree)\ntest["y"] = np.polyval(coefficients, test.x)'
#: Marks the JSON line a probe notebook prints, read back from the executed notebook.
REPORT_MARKER = "COOP-PROBE-REPORT "


def static(name: str) -> bytes:
    """A static corpus file, as committed bytes."""
    return (FOLDER / name).read_bytes()


def committed_name(name: str) -> str:
    """The name a static corpus file is committed under."""
    return name.removesuffix(".bad")


def with_model(baseline: NotebookNode, source: str, *after: str) -> NotebookNode:
    """The baseline with its model cell replaced by ``source`` and ``after`` cells appended."""
    notebook = copy.deepcopy(baseline)
    notebook.cells[MODEL_CELL].source = source
    notebook.cells.extend(new_code_cell(cell) for cell in after)
    return notebook


@dataclass(frozen=True)
class Case:
    name: str
    attack: str
    expected: str  # "scored" or a FailureClass value
    #: Key words of the failure reason (case-insensitive); a tuple inside means "one of these".
    words: tuple[str | tuple[str, ...], ...]
    build: Callable[[NotebookNode], NotebookNode]


def _model(source: str, *after: str) -> Callable[[NotebookNode], NotebookNode]:
    return lambda baseline: with_model(baseline, source, *after)


def _edit_organiser_cell(baseline: NotebookNode) -> NotebookNode:
    notebook = copy.deepcopy(baseline)
    notebook.cells[ORGANISER_CELL].source = (
        'test["y"] = 0.0  # fake predictions instead of the organiser\'s export\n'
        'test[["id", "y"]].to_csv(predictions_path, index=False)'
    )
    return notebook


def _with_static_metadata(name: str) -> Callable[[NotebookNode], NotebookNode]:
    """The baseline (organiser cell included) carrying a static corpus file's metadata."""

    def build(baseline: NotebookNode) -> NotebookNode:
        notebook = copy.deepcopy(baseline)
        notebook.metadata = nbformat.reads(static(name).decode(), as_version=4).metadata
        return notebook

    return build


DISK_WORDS = ("wrote more than", "of files the phase allows")

#: Refused by sanitize, before anything runs (static files, committed as they are).
INVALID: dict[str, tuple[str, tuple[str, ...]]] = {
    "not_json.ipynb.bad": ("a notebook file that is not JSON", ("not a notebook", "not valid json")),
    "nbformat3.ipynb.bad": ("an nbformat 3 notebook (worksheets)", ("nbformat 3", "only nbformat 4")),
    "no_cells.ipynb.bad": ("nbformat 4 JSON without a `cells` list", ("not a notebook", "no cells")),
    "invalid_cell.ipynb.bad": (
        "a code cell without `outputs`",
        ("not a valid nbformat 4 notebook", "outputs"),
    ),
    "no_parameters.ipynb": ("no cell tagged `parameters`", ("no cell tagged `parameters`",)),
}

#: Runtime cases with a plain expectation (the special ones live in tests/test_failures.py).
RUNTIME: list[Case] = [
    Case(
        "infinite_loop",
        "`while True: pass` in the model cell",
        "timeout",
        ("per-cell limit",),
        _model("while True:\n    pass"),
    ),
    Case(
        "memory_bomb",
        "allocates 80 MB arrays until it is stopped",
        "memory_exceeded",
        ("memory",),
        _model("blocks = []\nwhile True:\n    blocks.append(np.ones(10**7))"),
    ),
    Case(
        "big_file",
        "writes 10 GB into one file of its working folder",
        "exception",
        # RLIMIT_FSIZE (= the disk limit) stops the file at the limit with EFBIG; the watchdog,
        # which looks at the disk every 0.5 s, then usually kills the run before it ends.
        (("of files the phase allows", "file too large"),),
        _model("with open('big.bin', 'wb') as f:\n    for _ in range(10**4):\n        f.write(b'x' * 10**6)"),
    ),
    Case(
        "many_files",
        "writes 10 MB files, each under the file-size limit, until the disk limit",
        "exception",
        DISK_WORDS,
        _model(
            "for i in range(10**3):\n"
            "    with open(f'/coop/output/part-{i}.bin', 'wb') as f:\n"
            "        f.write(b'x' * 10**7)"
        ),
    ),
    Case(
        "tmp_full",
        "fills /tmp, a small tmpfs inside the sandbox",
        "exception",
        ("no space left on device",),
        _model(
            "with open('/tmp/fill.bin', 'wb') as f:\n"
            "    for _ in range(10**4):\n"
            "        f.write(b'x' * 10**6)"
        ),
    ),
    Case(
        "kill_parent",
        "`os.kill(os.getppid(), 9)`: kills the papermill process running it",
        "exception",
        ("process running the notebook", "killed by sigkill"),
        _model("import os\nos.kill(os.getppid(), 9)"),
    ),
    Case(
        "sys_exit",
        "`sys.exit(1)`",
        "exception",
        ("systemexit",),
        _model("import sys\nsys.exit(1)"),
    ),
    Case(
        "segfault",
        "`ctypes.string_at(0)`: a segmentation fault in the kernel",
        "exception",
        ("kernel died",),
        _model("import ctypes\nctypes.string_at(0)"),
    ),
    Case(
        "abort",
        "`os.abort()`: SIGABRT in the kernel",
        "exception",
        ("kernel died",),
        _model("import os\nos.abort()"),
    ),
    Case(
        "missing_rows",
        "predicts only 190 of the 200 test ids",
        "predictions_invalid",
        ("190 rows for 200 expected ids", "10 missing"),
        _model(FIT + "\ntest = test.iloc[10:]"),
    ),
    Case(
        "unknown_ids",
        "adds two ids that are not in the test set",
        "predictions_invalid",
        ("202 rows for 200 expected ids", "2 unknown", "1000000"),
        _model(
            FIT + '\ntest = pd.concat([test, pd.DataFrame({"id": [10**6, 10**6 + 1], "x": 0.0, "y": 0.0})])'
        ),
    ),
    Case(
        "duplicate_ids",
        "repeats three ids",
        "predictions_invalid",
        ("3 duplicated id",),
        _model(FIT + "\ntest = pd.concat([test, test.head(3)])"),
    ),
    Case(
        "missing_column",
        "a last cell rewrites the predictions without the `y` column",
        "predictions_invalid",
        ("lacks the column(s) y", "found: id"),
        _model(FIT, 'test[["id"]].to_csv(predictions_path, index=False)'),
    ),
    Case(
        "nan_predictions",
        "seven predictions are NaN",
        "predictions_invalid",
        ("missing values (nan)", "y (7 rows)"),
        _model(FIT + '\ntest.loc[test.index[:7], "y"] = np.nan'),
    ),
    Case(
        "no_predictions",
        "a last cell deletes the predictions file",
        "predictions_missing",
        ("wrote no predictions.csv", "predictions_path"),
        _model(FIT, "import os\nos.remove(predictions_path)"),
    ),
    Case(
        "malicious_kernelspec",
        "kernelspec name `../../../bin/sh` with its own argv, language `sh`, stale outputs, "
        "papermill metadata: all ignored, the notebook runs with python3",
        "scored",
        (),
        _with_static_metadata("malicious_kernelspec.ipynb"),
    ),
    Case(
        "organiser_cell_edited",
        "the organiser-tagged cell is rewritten to export fake predictions (y = 0)",
        "scored",
        (),
        _edit_organiser_cell,
    ),
]

_PTRACE = """import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
for pid in (1, os.getppid()):  # the sandbox's init (root) and papermill (our uid, not dumpable)
    attached = libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0
    assert not attached, f"attached to {pid}"
    assert ctypes.get_errno() == errno.EPERM, errno.errorcode[ctypes.get_errno()]
"""

_SETUID = """import os, subprocess
setuid = [
    path
    for folder in ("/usr/bin", "/usr/sbin", "/usr/lib")
    for path in (os.path.join(folder, name) for name in os.listdir(folder))
    if os.path.isfile(path) and os.stat(path).st_mode & 0o4000
]
assert all(os.statvfs(path).f_flag & os.ST_NOSUID for path in setuid)
assert "NoNewPrivs:\\t1" in open("/proc/self/status").read()
for command in (["mount", "-t", "tmpfs", "none", "/coop/data"], ["chfn", "-f", "x"]):
    if any(path.endswith("/" + command[0]) for path in setuid):
        done = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
        assert done.returncode != 0, command
assert os.path.exists(os.path.join(inputs_dir, "train.csv")) and os.geteuid() != 0
"""

_SYSV = """import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
for _ in range(20):  # 2 GB in segments written, then left detached: no process holds them
    shmid = libc.shmget(0, 100 * 2**20, 0o1000 | 0o600)
    if shmid < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    address = libc.shmat(shmid, None, 0)
    ctypes.memset(address, 1, 100 * 2**20)
    libc.shmdt(ctypes.c_void_p(address))
"""

_MEMFD = """import os
descriptors = [os.memfd_create("x") for _ in range(20)]
for fd in descriptors:  # 2 GB in files that have no name, only a descriptor
    os.write(fd, b"x" * 10**8)
"""

_TINY_FILES = """import os
os.makedirs("tiny", exist_ok=True)
for i in range(200_000):
    open(f"tiny/{i}", "w").close()
"""

#: Text a terminal would obey (clear the screen, turn red, read backwards, back up, ring, NUL),
#: as Python source.
HOSTILE_TEXT = r"\x1b[2J\x1b[1;31mFAKE: scored 0.0\u202e \x08\x07\x00 end"

_SELF_REWRITE = """import glob, json
# its own notebook (papermill has read it already): the organiser's cell now writes y = 0
fake = "test['y'] = 0.0\\ntest[['id', 'y']].to_csv(predictions_path, index=False)"
for path in glob.glob("*.ipynb"):  # itself, and the folder's other notebooks that are notebooks
    try:
        notebook = json.load(open(path))
        notebook["cells"][-1]["source"] = fake
    except (ValueError, KeyError, IndexError, TypeError):
        continue
    json.dump(notebook, open(path, "w"))
# and the executed notebook papermill writes: a fake one, claiming a score
fake = {"cells": [], "metadata": {"marker": "SELF-REWRITTEN"}, "nbformat": 4, "nbformat_minor": 5}
json.dump(fake, open("/coop/output/executed.ipynb", "w"))
"""

_USER_NAMESPACE = """import os, subprocess
# unshare -r: a user namespace of its own, root in it, where it mounts a tmpfs over its inputs
script = "mount -t tmpfs none /coop/data && ls /coop/data | wc -l"
inside = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True)
print("in its own namespace:", inside.returncode, inside.stdout.strip(), inside.stderr.strip())
assert os.path.exists(os.path.join(inputs_dir, "train.csv"))  # nothing changed outside it
assert os.geteuid() != 0
"""

RUNTIME += [
    Case(
        "ptrace",
        "`ptrace(PTRACE_ATTACH)` on papermill and on the sandbox's init",
        "scored",
        (),
        _model(_PTRACE + FIT),
    ),
    Case(
        "setuid",
        "looks for setuid binaries and runs `mount` and `chfn`",
        "scored",
        (),
        _model(_SETUID + FIT),
    ),
    Case(
        "sysv_shared_memory",
        "2 GB of System V shared memory, left detached (memory no process holds)",
        "exception",
        ("permissionerror", "operation not permitted"),
        _model(_SYSV),
    ),
    Case(
        "memfd",
        "2 GB in `memfd` files kept only by their descriptors",
        "exception",
        ("permissionerror", "operation not permitted"),
        _model(_MEMFD),
    ),
    Case(
        "tiny_files",
        "200,000 empty files in its working folder",
        "exception",
        DISK_WORDS,
        _model(_TINY_FILES),
    ),
    Case(
        "unicode_tricks",
        "prints and raises text with terminal escapes, a right-to-left override, a bell, NUL",
        "exception",
        ("valueerror: fake: scored 0.0\ufffd \ufffd\ufffd\ufffd end",),
        _model(f"print('{HOSTILE_TEXT}')\nraise ValueError('{HOSTILE_TEXT}')"),
    ),
    Case(
        "self_rewrite",
        "rewrites its own notebook (the organiser's cell) and papermill's executed notebook",
        "scored",
        (),
        _model(FIT + "\n" + _SELF_REWRITE),
    ),
    Case(
        "kernel_stopped",
        "`os.kill(os.getpid(), signal.SIGSTOP)`: a kernel that never answers",
        "timeout",
        ("per-cell limit",),
        _model("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)"),
    ),
    Case(
        "predictions_fifo",
        "makes the predictions file a FIFO (a read would block forever)",
        "predictions_invalid",
        ("predictions.csv is not a regular file",),
        _model(FIT, "import os\nos.remove(predictions_path)\nos.mkfifo(predictions_path)"),
    ),
    Case(
        "user_namespace",
        "`unshare -r`: a user namespace where it is root, mounts a tmpfs over its inputs",
        "scored",
        (),
        _model(_USER_NAMESPACE + FIT),
    ),
]

CASES = {case.name: case for case in RUNTIME}


# --- notebooks whose attack depends on the host (paths, ports, secrets) -----------------------


def fork_bomb(baseline: NotebookNode) -> NotebookNode:
    return with_model(baseline, "import os\nwhile True:\n    os.fork()")


def print_flood(baseline: NotebookNode, megabytes: int = 100) -> NotebookNode:
    """Prints ``megabytes`` MB, then fits the baseline model: it must still score."""
    source = (
        "import sys\n"
        "print('before the flood')\n"
        "sys.stdout.flush()\n"
        f"for _ in range({megabytes}):\n"
        "    print('x' * 10**6)\n" + FIT
    )
    return with_model(baseline, source)


def connect(baseline: NotebookNode, host: str, port: int) -> NotebookNode:
    """Opens a TCP connection; inside the sandbox there is nothing to connect to."""
    source = f"import socket\nsocket.create_connection(({host!r}, {port}), timeout=5).close()\n" + FIT
    return with_model(baseline, source)


def symlink_predictions(baseline: NotebookNode, target: str) -> NotebookNode:
    """A last cell replaces the predictions file by a symbolic link to a host path."""
    cell = f"import os\nos.remove(predictions_path)\nos.symlink({target!r}, predictions_path)"
    return with_model(baseline, FIT, cell)


_FLIPPER = """import os, sys
path, target = sys.argv[1], sys.argv[2]
honest = open(path, "rb").read()
while True:
    os.symlink(target, path + ".link")
    os.replace(path + ".link", path)
    with open(path + ".new", "wb") as f:
        f.write(honest)
    os.replace(path + ".new", path)
"""


def flip_predictions(baseline: NotebookNode, target: str) -> NotebookNode:
    """A last cell leaves a process behind (a session of its own) that swaps the predictions file
    for a link to ``target`` and back, as fast as it can, until the sandbox ends; the cell ends
    once the flipper has made its first link (on a loaded machine its start took over 10 s)."""
    cell = (
        "import subprocess, sys\n"
        f"flipper = {_FLIPPER!r}\n"
        f"command = [sys.executable, '-c', flipper, predictions_path, {target!r}]\n"
        "subprocess.Popen(command, start_new_session=True)\n"
        "import os, time\n"
        "while not os.path.islink(predictions_path):  # the run's cell time limit bounds this\n"
        "    time.sleep(0.001)"
    )
    return with_model(baseline, FIT, cell)


#: An ``ipykernel_launcher.py`` beside the notebook: a kernel started as ``python -m
#: ipykernel_launcher`` in that folder would run it instead, and never answer.
SHADOW_LAUNCHER = "import time\ntime.sleep(10**6)\n"


def symlink_executed_notebook(baseline: NotebookNode, target: str) -> NotebookNode:
    """A cell makes papermill's output (the executed notebook) a link to ``target``.

    ``target`` must be writable inside the sandbox (under /tmp, a private tmpfs there), so that
    papermill's saves succeed; the scorer then reads the link on the host, where ``target`` is
    the host's own file.
    """
    cell = (
        "import os\n"
        f"os.makedirs(os.path.dirname({target!r}), exist_ok=True)\n"
        "executed = '/coop/output/executed.ipynb'\n"
        "if os.path.lexists(executed):\n"
        "    os.remove(executed)\n"
        f"os.symlink({target!r}, executed)"
    )
    return with_model(baseline, FIT, cell)


_PROBE = r'''
import json
import os
import re

HOST_PATHS = __HOST_PATHS__
SECRET = __SECRET__.encode()
NAMES = re.compile(r"^(answers\.csv|coop\.db.*|meta\.json)$")
SKIP = ("/proc", "/sys", "/dev", "/usr")
report = {"leaks": [], "checked": 0, "pids": 0, "environ_readable": 0, "walked": 0}


def leak(what):
    report["leaks"].append(what)


def visible(path):
    """True if the path exists or can be read (it should do neither)."""
    report["checked"] += 1
    try:
        if os.path.lexists(path):
            return True
        with open(path, "rb") as handle:
            handle.read(1)
        return True
    except OSError:
        return False


# a positive control: the probe does see what it is allowed to see
report["control"] = visible(f"{inputs_dir}/train.csv") and not visible(f"{inputs_dir}/../nothing-here")

# 1. the host paths, directly and through every process's root and cwd in /proc
pids = [p for p in os.listdir("/proc") if p.isdigit()]
report["pids"] = len(pids)
for path in HOST_PATHS:
    routes = [path, f"/proc/self/root{path}", f"/proc/{os.getppid()}/root{path}"]
    routes += [f"/proc/{pid}/{link}{path}" for pid in pids for link in ("root", "cwd")]
    for route in routes:
        if visible(route):
            leak(route)

# 2. every environment in /proc (the parent's included) and our own
for pid in pids:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            environ = handle.read()
    except OSError:
        continue
    report["environ_readable"] += 1
    if SECRET in environ:
        leak(f"/proc/{pid}/environ")
if any(SECRET in value.encode() for value in os.environ.values()):
    leak("os.environ")

# 3. the scorer's files, by name, anywhere this process can see
for top in sorted(os.listdir("/")):
    if "/" + top in SKIP:
        continue
    for folder, dirs, files in os.walk("/" + top):
        report["walked"] += 1
        dirs[:] = [d for d in dirs if d != "site-packages"]
        for name in files:
            if NAMES.match(name):
                leak(os.path.join(folder, name))

print("__MARKER__" + json.dumps(report))
assert not report["leaks"], f"the notebook found {report['leaks'][:10]}"
'''


def probe_host(baseline: NotebookNode, host_paths: list[str], secret: str) -> NotebookNode:
    """Looks for host files (the answer key, the database) by path, via /proc and by name.

    Prints a JSON report (after :data:`REPORT_MARKER`) and fails if it found anything, so a run
    that scores saw nothing; the report shows the probe did look.
    """
    source = (
        _PROBE.replace("__HOST_PATHS__", json.dumps(host_paths))
        .replace("__SECRET__", json.dumps(secret))
        .replace("__MARKER__", REPORT_MARKER)
        .strip()
    )
    return with_model(baseline, FIT, source)


_ENVIRONMENT = r"""
import json
import os
import re

SECRET = __SECRET__
SUSPICIOUS = re.compile(r"COOP|TOKEN|SECRET|PASSW|DATABASE|_KEY|JUPYTERHUB|^AWS|^PG|CREDENTIAL", re.I)
found = sorted(k for k, v in os.environ.items() if SUSPICIOUS.search(k) or SECRET in v)
print("__MARKER__" + json.dumps({"keys": sorted(os.environ), "found": found}))
assert not found, f"secrets in the environment: {found}"
"""


def environment(baseline: NotebookNode, secret: str) -> NotebookNode:
    """Fails if the environment holds a credential-like variable or the test's secret value."""
    source = _ENVIRONMENT.replace("__SECRET__", json.dumps(secret)).replace("__MARKER__", REPORT_MARKER)
    return with_model(baseline, FIT, source.strip())


def probe_report(executed: bytes) -> dict:
    """The JSON report a probe notebook printed, read from its executed notebook."""
    notebook = json.loads(executed)
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            for line in text.splitlines():
                if line.startswith(REPORT_MARKER):
                    return json.loads(line[len(REPORT_MARKER) :])
    raise AssertionError("the executed notebook holds no probe report")
