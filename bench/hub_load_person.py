"""One simulated person on the hub, doing what a participant does in a browser (as hubtraf's
``User`` does): log in through the form, start their server, open JupyterLab (the OAuth round
trip), wait for the attached clone, Easy start, edit and save the notebook, then commit and push
*in a terminal of their own server* (the terminals API and its websocket: git runs there with
the server's environment, credential helper and token, as it would for the person), and follow
the submission on the scorer's API until it is scored.

Every phase is timed (:data:`bench.hub_load_report.PHASES`); the first that fails stops the
person and is recorded with its reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketError, websocket_connect

from bench.hub_load_report import Failure, PersonResult

SPAWN_TIMEOUT = 600.0
ATTACH_TIMEOUT = 600.0
SCORE_TIMEOUT = 1800.0
COMMAND_TIMEOUT = 600.0
REQUEST_TIMEOUT = 120.0
POLL = 1.0  # seconds between status reads (attach, submission): the Submit widget's pace
#: What push-to-score prints through git (``remote: …``), see scorer/push.py.
QUEUED = re.compile(r"submission (\d+) queued")
REJECTED = re.compile(r"submission (\d+) not scored: ([^\r\n]*)")
DONE = re.compile(r"__COOP_DONE__ (\d+)")
#: The fetch metadata a browser sends: JupyterHub checks the XSRF token of cookie-authenticated
#: API reads by it (and warns, once per request, about requests without it).
NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin"}
FETCH = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[=>]")


def typed(command: str) -> str:
    """What to type for ``command``: it, then a marker with its exit status. The shell echoes
    the line as typed (``__COOP""_DONE__ $?``, which :data:`DONE` does not match), then runs it."""
    return f'{command}; echo __COOP""_DONE__ $?\r'


def finished(shown: str) -> tuple[int, str] | None:
    """The exit status and the text before the marker once the terminal printed it, else ``None``."""
    clean = ANSI.sub("", shown)
    done = DONE.search(clean)
    return (int(done.group(1)), clean[: done.start()]) if done else None


class StepFailed(Exception):
    """A phase did not do what a person expects; the message says what happened instead."""


class Terminal:
    """A terminal of the person's server, driven over its websocket like JupyterLab's."""

    def __init__(self, connection: WebSocketClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(
        cls, http: httpx.AsyncClient, server: str, headers: dict[str, str]
    ) -> tuple[Terminal, str]:
        """A new terminal (and its name) through ``POST <server>api/terminals``; ``headers``: the
        server's API headers (XSRF token, fetch metadata)."""
        created = await http.post(f"{server}api/terminals", headers=headers)
        if created.status_code != 200:
            raise StepFailed(f"POST api/terminals: HTTP {created.status_code} {created.text[:200]}")
        name = created.json()["name"]
        url = str(http.base_url.join(f"{server}terminals/websocket/{name}")).replace("http://", "ws://")
        probe = http.build_request("GET", str(http.base_url.join(server)))
        http.cookies.set_cookie_header(probe)  # the server's login cookie, as a browser sends it
        cookie = probe.headers.get("Cookie", "")
        request = HTTPRequest(url, headers={"Cookie": cookie, "Sec-Fetch-Mode": "websocket"})
        connection = await websocket_connect(request)
        terminal = cls(connection)
        await terminal.send(["set_size", 40, 400])  # wide: git's remote: lines stay on one line
        return terminal, name

    async def send(self, message: list[Any]) -> None:
        await self.connection.write_message(json.dumps(message))

    async def run(self, command: str, watch: Callable[[str], None] | None = None) -> tuple[int, str]:
        """Type ``command``; its exit status and what the terminal showed. ``watch`` sees the
        text shown so far each time more arrives."""
        await self.send(["stdin", typed(command)])
        shown = ""
        async with asyncio.timeout(COMMAND_TIMEOUT):
            while True:
                message = await self.connection.read_message()
                if message is None:
                    raise StepFailed(f"the terminal closed; it showed: {shown[-300:]!r}")
                kind, *content = json.loads(message)
                if kind == "disconnect":
                    raise StepFailed(f"the terminal ended; it showed: {shown[-300:]!r}")
                if kind != "stdout":
                    continue
                shown += content[0]
                if watch is not None:
                    watch(shown)
                if done := finished(shown):
                    return done

    def close(self) -> None:
        self.connection.close()


class Person:
    """A participant of the hub at ``url`` with the shared ``password``."""

    def __init__(self, url: str, name: str, password: str, challenge_id: str) -> None:
        self.name = name
        self.password = password
        self.challenge_id = challenge_id
        self.server = f"/user/{name}/"
        self.http = httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT)
        self.result = PersonResult(name)
        self.phase = "login"
        self.token = ""
        self.ready_at = 0.0
        self.notebook = ""  # its path in the server, from Easy start
        self.terminal: Terminal | None = None
        self.terminal_name = ""

    async def run(self) -> PersonResult:
        """Every phase in order, until one fails; the result holds what was measured."""
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("login", self.login),
            ("spawn", self.spawn),
            ("open", self.open),
            ("attach", self.attach),
            ("easy start", self.easy_start),
            ("save", self.save),
            ("commit", self.commit),
            ("push", self.push_and_follow),
        ]
        try:
            for self.phase, step in steps:
                await step()
        except StepFailed as exc:
            self.result.failure = Failure(self.phase, str(exc))
        except TimeoutError:
            self.result.failure = Failure(self.phase, "not done within the phase's timeout")
        except (httpx.HTTPError, OSError, HTTPClientError, WebSocketError) as exc:  # recorded, never raised
            self.result.failure = Failure(self.phase, f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(httpx.HTTPError):
                await self._close_terminal()
        return self.result

    async def stop(self, timeout: float = 120.0) -> None:
        """Stop the server and wait until it is gone (between rounds); drop the connections."""
        with contextlib.suppress(httpx.HTTPError, TimeoutError, ValueError):  # the hub stops them all anyway
            await self._hub("DELETE", f"users/{self.name}/server")
            async with asyncio.timeout(timeout):
                while (await self._hub("GET", f"users/{self.name}")).json().get("servers"):
                    await asyncio.sleep(1.0)
        await self.http.aclose()

    # --- the phases --------------------------------------------------------------------------

    async def login(self) -> None:
        begin = time.monotonic()
        await self.http.get("/hub/login", headers=NAVIGATE)
        answer = await self.http.post(
            "/hub/login",
            data={"username": self.name, "password": self.password, "_xsrf": self._hub_xsrf},
            headers=NAVIGATE,
        )
        if answer.status_code != 302:
            raise StepFailed(f"the login form answered HTTP {answer.status_code}, not a redirect")
        self.result.times["login"] = time.monotonic() - begin
        # the scorer's API takes hub tokens, as the Submit widget sends its server's
        token = await self._hub(
            "POST", f"users/{self.name}/tokens", json={"note": "hub_load", "expires_in": 7200}
        )
        if token.status_code != 201:
            raise StepFailed(f"POST tokens: HTTP {token.status_code} {token.text[:200]}")
        self.token = token.json()["token"]

    async def spawn(self) -> None:
        begin = time.monotonic()
        started = await self._hub("POST", f"users/{self.name}/server")
        if started.status_code == 202:
            await self._progress()
        elif started.status_code != 201:
            raise StepFailed(f"POST server: HTTP {started.status_code} {started.text[:200]}")
        self.ready_at = time.monotonic()
        self.result.times["spawn"] = self.ready_at - begin

    async def open(self) -> None:
        begin = time.monotonic()
        page = await self.http.get(f"{self.server}lab", headers=NAVIGATE, follow_redirects=True)
        if page.status_code != 200 or page.url.path != f"{self.server}lab":
            raise StepFailed(f"JupyterLab: HTTP {page.status_code} at {page.url.path}")
        if not self._server_xsrf:
            raise StepFailed("the server set no _xsrf cookie")
        self.result.times["open"] = time.monotonic() - begin

    async def attach(self) -> None:
        async with asyncio.timeout(ATTACH_TIMEOUT):
            while True:
                answer = await self.http.get(f"{self.server}coop/attach", headers=self._server_api)
                if answer.status_code != 200:
                    raise StepFailed(f"coop/attach: HTTP {answer.status_code}")
                status = answer.json()
                if status["state"] in {"done", "failed"}:
                    break
                await asyncio.sleep(POLL)
        ours = {c["challenge"]: c for c in status["challenges"]}.get(self.challenge_id)
        if status["state"] == "failed" or ours is None or ours["action"] == "failed":
            raise StepFailed(f"attach {status['state']}: {(ours or {}).get('error') or status['error']}")
        self.result.times["attach"] = time.monotonic() - self.ready_at

    async def easy_start(self) -> None:
        begin = time.monotonic()
        url = f"/hub/user-redirect/coop/start/{self.challenge_id}"
        for _ in range(5):
            answer = await self.http.get(url, headers=NAVIGATE)
            if answer.status_code not in {301, 302, 303, 307}:
                raise StepFailed(f"Easy start: HTTP {answer.status_code} at {url}")
            url = answer.headers["location"]
            if "/lab/tree/" in url:
                break
        else:
            raise StepFailed(f"Easy start: too many redirects, last {url}")
        self.notebook = httpx.URL(url).path.split("/lab/tree/", 1)[1]
        self.result.times["easy start"] = time.monotonic() - begin

    async def save(self) -> None:
        begin = time.monotonic()
        path = f"{self.server}api/contents/{self.notebook}"
        model = await self.http.get(
            path, params={"content": "1", "type": "notebook"}, headers=self._server_api
        )
        if model.status_code != 200:
            raise StepFailed(f"GET {self.notebook}: HTTP {model.status_code}")
        content = model.json()["content"]
        ours = [  # the participant's cells: not the parameters, not the organiser's (restored when scored)
            cell
            for cell in content["cells"]
            if cell["cell_type"] == "code"
            and not {"parameters", "organiser"} & set(cell["metadata"].get("tags", []))
        ]
        if not ours:
            raise StepFailed(f"{self.notebook} has no cell of the participant's to edit")
        ours[-1]["source"] = f"# {self.name} tried this under load\n" + ours[-1]["source"]
        saved = await self.http.put(
            path,
            json={"type": "notebook", "format": "json", "content": content},
            headers=self._server_api,
        )
        if saved.status_code not in {200, 201}:
            raise StepFailed(f"PUT {self.notebook}: HTTP {saved.status_code} {saved.text[:200]}")
        self.result.times["save"] = time.monotonic() - begin

    async def commit(self) -> None:
        self.terminal, self.terminal_name = await Terminal.open(self.http, self.server, self._server_api)
        clone, notebook = self.notebook.split("/solutions/", 1)
        begin = time.monotonic()
        status, shown = await self.terminal.run(
            f"cd ~/{clone} && git add 'solutions/{notebook}' && git commit -q -m 'Try under load'"
        )
        if status != 0:
            raise StepFailed(f"git commit exited {status}: {shown[-300:].strip()!r}")
        self.result.times["commit"] = time.monotonic() - begin

    async def push_and_follow(self) -> None:
        assert self.terminal is not None
        queued_at: list[float] = []

        def watch(shown: str) -> None:
            if not queued_at and QUEUED.search(ANSI.sub("", shown)):
                queued_at.append(time.monotonic())

        begin = time.monotonic()
        status, shown = await self.terminal.run("git push", watch)
        self.result.times["push"] = time.monotonic() - begin
        await self._close_terminal()
        if rejected := REJECTED.search(shown):
            raise StepFailed(f"push accepted, submission not scored: {rejected.group(2)}")
        queued = QUEUED.search(shown)
        if status != 0 or queued is None:
            raise StepFailed(
                f"git push exited {status} without a queued submission: {shown[-300:].strip()!r}"
            )
        self.result.times["push→queued"] = queued_at[0] - begin
        self.phase = "push→scored"
        await self._follow(int(queued.group(1)), begin)

    # --- plumbing ----------------------------------------------------------------------------

    @property
    def _hub_xsrf(self) -> str:
        return self.http.cookies.get("_xsrf", path="/hub/") or ""

    @property
    def _server_xsrf(self) -> str:
        return self.http.cookies.get("_xsrf", path=self.server) or ""

    @property
    def _server_api(self) -> dict[str, str]:
        """Headers of a call to the server's API, as JupyterLab makes it."""
        return {**FETCH, "X-XSRFToken": self._server_xsrf}

    async def _hub(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method, f"/hub/api/{path}", headers={**FETCH, "X-XSRFToken": self._hub_xsrf}, **kwargs
        )

    async def _close_terminal(self) -> None:
        if self.terminal is not None:
            self.terminal.close()
            self.terminal = None
            await self.http.delete(
                f"{self.server}api/terminals/{self.terminal_name}", headers=self._server_api
            )

    async def _progress(self) -> None:
        """Read the hub's spawn progress events until one says ready (or failed)."""
        last: dict[str, Any] = {}
        async with asyncio.timeout(SPAWN_TIMEOUT):
            async with self.http.stream(
                "GET",
                f"/hub/api/users/{self.name}/server/progress",
                headers={**FETCH, "X-XSRFToken": self._hub_xsrf},
                timeout=httpx.Timeout(REQUEST_TIMEOUT, read=SPAWN_TIMEOUT),
            ) as events:
                async for line in events.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    last = json.loads(line.removeprefix("data:"))
                    if last.get("ready"):
                        return
                    if last.get("failed"):
                        raise StepFailed(f"spawn failed: {last.get('message', '')}")
        raise StepFailed(f"the progress stream ended before ready: {last.get('message', '')!r}")

    async def _follow(self, submission: int, pushed: float) -> None:
        """Poll the submission until it is scored (or failed)."""
        headers = {"Authorization": f"token {self.token}"}
        async with asyncio.timeout(SCORE_TIMEOUT):
            while True:
                answer = await self.http.get(f"/services/coop/api/submissions/{submission}", headers=headers)
                if answer.status_code != 200:
                    raise StepFailed(
                        f"submission {submission}: HTTP {answer.status_code} {answer.text[:200]}"
                    )
                found = answer.json()
                if found["status"] in {"scored", "failed"}:
                    break
                await asyncio.sleep(POLL)
        if found["status"] == "failed":
            raise StepFailed(f"scoring failed: {found['failure_class']}: {found['reason']}")
        self.result.times["push→scored"] = time.monotonic() - pushed
        created, started, finished = (
            datetime.fromisoformat(found[key]) for key in ("created_at", "started_at", "finished_at")
        )
        self.result.times["queue wait"] = (started - created).total_seconds()
        self.result.times["scoring"] = (finished - started).total_seconds()
