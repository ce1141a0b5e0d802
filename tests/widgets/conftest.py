"""The widgets in a real kernel, against a real scorer service and real clones.

- ``served`` (one per module): a challenge (at most one submission per person per hour)
  served by uvicorn on a loopback port that survives :meth:`Service.stop` and
  :meth:`Service.start`, with static tokens for the people below (and olga, an organiser);
  ``served_phases``: the same with a second phase starting in 30 days.
- ``participant(user)``: a clone set up as the hub's attach does it (``~/challenges/<id>/``,
  ``origin`` the service's git URL, branch ``work`` pushing to ``<user>/work``, a credential
  helper answering from the environment, the user's git identity, nbdime) with the phase's
  baseline copied to ``solutions/<user>/phase-1.ipynb`` (uncommitted, as Easy start leaves it).
- :class:`Kernel`: an ipykernel started by jupyter_client with the environment a hub gives a
  notebook's kernel. It runs cells, clicks buttons with the comm messages a browser sends,
  plays the browser's part for the save request of ``Submit`` (as told: save the file, or stay
  silent), and keeps every iopub message for the tests to count.
"""

from __future__ import annotations

import json
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nbformat
import pytest
import uvicorn
import yaml
from fastapi import FastAPI
from jupyter_client.manager import KernelManager

from coop_client.git import enable_nbdime
from scorer.challenge.scaffold import scaffold
from scorer.facade import CoopAPI
from scorer.ingest.served import serve_repository
from scorer.ports import hold
from scorer.service.app import create_app
from scorer.service.auth import ORGANISE, SUBMIT, Identity, StaticTokens
from tests.conftest import ChallengeFixture, make_challenge

PREFIX = "/services/coop/"
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hugo")
TOKENS = StaticTokens(
    {
        **{f"{name}-token": Identity(name, frozenset({SUBMIT})) for name in PEOPLE},
        "olga-token": Identity("olga", frozenset({SUBMIT, ORGANISE}), frozenset({"organisers"})),
    }
)
RUN_LIMITS = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}
VENV_BIN = str(Path(sys.executable).parent)
#: Answers git with the hub user and token from the environment, like the hub's helper.
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get && echo "username=$JUPYTERHUB_USER" '
    '&& echo "password=$JUPYTERHUB_API_TOKEN"; }; f'
)


class Service:
    """uvicorn serving ``app`` on one loopback port, which can be stopped and started again
    (the port is held for it meanwhile: see scorer.ports)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.held = hold()
        [self.port] = self.held.numbers
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PREFIX.rstrip('/')}"

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        for _ in range(500):
            if server.started:
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        self._server, self._thread, self._socket = server, thread, sock

    def stop(self) -> None:
        assert self._server and self._thread and self._socket
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()
        self._server = self._thread = self._socket = None


@dataclass
class Served:
    fixture: ChallengeFixture
    api: CoopAPI
    service: Service
    root: Path

    @property
    def challenge_id(self) -> str:
        return self.fixture.challenge_id

    @property
    def git_url(self) -> str:
        return f"{self.service.url}/git/{self.challenge_id}.git"


def serve(root: Path, *, second_phase: bool = False, min_interval: float = 3600) -> Iterator[Served]:
    """Serve a challenge whose phase 1 is open (with a phase 2 to come if asked)."""
    phase = yaml.safe_load((scaffold("Curve", root / "template") / "challenge.yaml").read_text())["phases"][0]
    phase = {**phase, "limits": RUN_LIMITS, "submissions": {"min_interval": min_interval}}
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    phases = (
        [phase, {**phase, "id": "phase-2", "title": "The real curve", "start": later}]
        if second_phase
        else [phase]
    )
    fixture = make_challenge(root, edit={"phases": phases})
    serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    api = fixture.api()
    service = Service(create_app(api, TOKENS, prefix=PREFIX))
    service.start()
    try:
        yield Served(fixture, api, service, root)
    finally:
        if service._server is not None:
            service.stop()
        service.held.release()
        api.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("widgets"))


@pytest.fixture(scope="module")
def served_phases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Like ``served``, with a second phase starting in 30 days."""
    yield from serve(tmp_path_factory.mktemp("widgets-phases"), second_phase=True)


def run_git(cwd: Path, *args: str, home: Path) -> str:
    env = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


@dataclass
class Participant:
    name: str
    home: Path
    clone: Path
    served: Served

    @property
    def notebook(self) -> Path:
        return self.clone / "solutions" / self.name / "phase-1.ipynb"

    @property
    def token(self) -> str:
        return f"{self.name}-token"

    def git(self, *args: str) -> str:
        """git in the clone, as in the participant's terminal (the credential helper answers)."""
        done = subprocess.run(
            ["git", *args], cwd=self.clone, env=self.environment(), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def environment(self) -> dict[str, str]:
        """What the hub and jupyter_server give a notebook's kernel."""
        return {
            "PATH": f"{VENV_BIN}:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "COOP_SERVICE_URL": self.served.service.url + "/",
            "JUPYTERHUB_API_TOKEN": self.token,
            "JUPYTERHUB_USER": self.name,
            "JPY_SESSION_NAME": str(self.notebook),
        }

    def edit(self, cell: int, source: str) -> None:
        """Change a cell of the notebook on disk, as a saved edit in JupyterLab would."""
        notebook = nbformat.read(self.notebook, as_version=4)
        notebook.cells[cell].source = source
        nbformat.write(notebook, self.notebook)


def make_participant(
    served: Served, name: str, where: str = "home", *, easy_start: bool = True
) -> Participant:
    home = served.root / f"{name}-{where}"
    clone = home / "challenges" / served.challenge_id
    clone.parent.mkdir(parents=True)
    run_git(home, "clone", "-q", served.git_url, str(clone), home=home)
    settings = {
        "credential.helper": CREDENTIAL_HELPER,
        "user.name": name,
        "user.email": f"{name}@users.coopetition.local",
        "push.default": "upstream",
    }
    for key, value in settings.items():
        run_git(clone, "config", key, value, home=home)
    run_git(clone, "checkout", "-q", "-b", "work", "origin/main", home=home)
    run_git(clone, "config", "branch.work.remote", "origin", home=home)
    run_git(clone, "config", "branch.work.merge", f"refs/heads/{name}/work", home=home)
    enable_nbdime(clone)
    participant = Participant(name, home, clone, served)
    if easy_start:
        participant.notebook.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(clone / "baselines" / "phase-1.ipynb", participant.notebook)
    return participant


#: What the test's stand-in browser does when ``Submit`` asks it to save: answer like JupyterLab
#: ("saved"), or say nothing (a front end that cannot save).
FrontEnd = Callable[[dict[str, Any]], dict[str, Any] | None]


def saves(content: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "saved", "request": content["request"], "was_dirty": False}


def silent(_content: dict[str, Any]) -> None:
    return None


@dataclass
class Kernel:
    """A real ipykernel, driven over the Jupyter protocol as a browser would."""

    participant: Participant
    front_end: FrontEnd = saves
    messages: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(
            env=self.participant.environment(), cwd=str(self.participant.notebook.parent)
        )
        self.client = self.manager.blocking_client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def execute(self, code: str, *, cell_id: str | None = None, timeout: float = 120) -> str:
        """Run a cell (with the cell id JupyterLab sends); its printed output."""
        content = {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
        }
        request = self.client.session.msg(
            "execute_request", content, metadata={"cellId": cell_id} if cell_id else {}
        )
        self.client.shell_channel.send(request)
        msg_id = request["header"]["msg_id"]
        self.wait_for(lambda: self._idle_after(msg_id), timeout, f"cell {code!r} to finish")
        reply = self._reply(msg_id, timeout)
        if reply["content"]["status"] != "ok":
            raise AssertionError("\n".join(reply["content"].get("traceback", [])) or reply["content"])
        return "".join(
            m["content"]["text"]
            for m in self.messages
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream"
        )

    def value(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the kernel."""
        return json.loads(self.execute(f"import json as _j; print(_j.dumps({expression}))"))

    def click(self, model_id: str) -> None:
        """What a browser sends when a Button is clicked."""
        self.send_comm(model_id, {"method": "custom", "content": {"event": "click"}})

    def send_comm(self, comm_id: str, data: dict[str, Any]) -> None:
        self.client.shell_channel.send(
            self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        )

    def updates(self, comm_id: str) -> list[dict[str, Any]]:
        """The state of every update the kernel sent for a widget, in order."""
        return [
            m["content"]["data"]["state"]
            for m in self.messages
            if m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == comm_id
            and m["content"]["data"].get("method") == "update"
        ]

    def statuses(self, comm_id: str) -> list[str]:
        return [state["status"] for state in self.updates(comm_id) if "status" in state]

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        """Read iopub (answering save requests) until ``condition()`` holds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            try:
                message = self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            self.messages.append(message)
            self._answer_save(message)

    def wait_for_status(self, comm_id: str, wanted: set[str], timeout: float = 120, *, since: int = 0) -> str:
        """The first status in ``wanted`` among the widget's statuses from the ``since``-th on."""
        self.wait_for(
            lambda: bool(set(self.statuses(comm_id)[since:]) & wanted), timeout, f"a status in {wanted}"
        )
        return next(s for s in self.statuses(comm_id)[since:] if s in wanted)

    def _idle_after(self, msg_id: str) -> bool:
        return any(
            m["msg_type"] == "status"
            and m["parent_header"].get("msg_id") == msg_id
            and m["content"]["execution_state"] == "idle"
            for m in self.messages
        )

    def _reply(self, msg_id: str, timeout: float) -> dict[str, Any]:
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply

    def _answer_save(self, message: dict[str, Any]) -> None:
        if message["msg_type"] != "comm_msg":
            return
        data = message["content"]["data"]
        content = data.get("content") or {}
        if data.get("method") == "custom" and content.get("kind") == "save":
            answer = self.front_end(content)
            if answer is not None:
                self.send_comm(message["content"]["comm_id"], {"method": "custom", "content": answer})


@pytest.fixture
def kernel_for() -> Iterator[Callable[..., Kernel]]:
    started: list[Kernel] = []

    def start(participant: Participant, front_end: FrontEnd = saves) -> Kernel:
        kernel = Kernel(participant, front_end)
        started.append(kernel)
        return kernel

    yield start
    for kernel in started:
        kernel.shutdown()


def show_submit(
    kernel: Kernel, arguments: str = "poll_interval=0.2, max_retry_wait=1, save_timeout=1"
) -> dict[str, str]:
    """Display a Submit widget in the kernel; the comm ids of it and of its button."""
    kernel.execute(f"from coop_widgets import Submit\nsubmit = Submit({arguments})\nsubmit")
    return kernel.value(
        "{'submit': submit.model_id, 'button': submit.button.model_id, 'merge': submit.merge_button.model_id}"
    )
