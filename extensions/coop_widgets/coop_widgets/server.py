"""The jupyter_server extension of a participant's server: attach at start, and Easy start.

Enable it with ``--ServerApp.jpserver_extensions=coop_widgets.server=True`` (what the hub's
spawner passes) or a ``jupyter_server_config.d`` file. At start it clones or fetches every
active challenge into ``<root_dir>/challenges/`` in a background thread (the server starts at
once; failures are logged, never raised, and retried while the scorer is unreachable). Routes:

- ``GET <base_url>coop/start/<challenge_id>[?phase=<id>]``: Easy start (reachable from
  anywhere as ``/hub/user-redirect/coop/start/<id>``): copies the phase's baseline to the
  user's solution notebook unless it exists, puts the phase's inputs where that notebook reads
  them unless they are there (:mod:`coop_widgets.inputs`; a failure there is logged and the
  notebook opens all the same), then opens it in JupyterLab.
- ``GET <base_url>coop/attach``: what attaching (and Easy start's inputs) did so far, as JSON.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

from coop_client.client import CoopClientError
from coop_client.models import SLUG
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_escape, url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from coop_widgets.attach import CLONES, Attached, Participant, attach, attach_all
from coop_widgets.easystart import EasyStartError, easy_start, phase_to_start
from coop_widgets.inputs import Inputs, provide_inputs

#: Seconds to wait before each new try to list the challenges while the scorer is unreachable.
RETRY_DELAYS = (2, 4, 8, 16, 30)


class Attacher:
    """Attaches the server's clones; one git operation on the clones at a time."""

    def __init__(self, root: Path, participant: Participant | None, log: Any) -> None:
        self.root = root
        self.participant = participant
        self.log = log
        self.state = "disabled" if participant is None else "pending"
        self.error = ""
        self.results: dict[str, Attached] = {}
        self.inputs: dict[tuple[str, str], Inputs] = {}  # by challenge and notebook
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.participant is not None:
            threading.Thread(target=self.run, name="coop-attach", daemon=True).start()
        else:
            self.log.info("coop: not attaching challenges (no JUPYTERHUB_USER or COOP_SERVICE_URL)")

    def run(self) -> None:
        """Attach every active challenge, retrying while the scorer cannot list them."""
        assert self.participant is not None
        self.state = "running"
        for delay in (*RETRY_DELAYS, None):
            try:
                with self._lock:
                    for result in attach_all(self.root, self.participant):
                        self._record(result)
                self.state, self.error = "done", ""
                return
            except CoopClientError as exc:
                self.error = exc.user_message
                self.log.warning(
                    "coop: cannot list the challenges (%s)%s",
                    exc.user_message,
                    f"; retrying in {delay} s" if delay else "",
                )
            except Exception:  # never let attaching take the server down
                self.log.exception("coop: attaching the challenges failed")
                self.error = "attaching failed: see the server's log"
                break
            if delay is None:
                break
            time.sleep(delay)
        self.state = "failed"

    def ensure(self, challenge_id: str) -> Path:
        """The clone of ``challenge_id``, attached now if it is not there yet."""
        clone = self.root / challenge_id
        with self._lock:
            if not (clone / ".git").is_dir() and self.participant is not None:
                self._record(attach(self.root, self.participant, challenge_id))
        return clone

    def _record(self, result: Attached) -> None:
        self.results[result.challenge] = result
        if result.ok:
            self.log.info("coop: %s %s into %s", result.action, result.challenge, self.root)
        else:
            self.log.error("coop: %s not attached: %s", result.challenge, result.error)

    def record_inputs(self, inputs: Inputs) -> None:
        self.inputs[inputs.challenge, inputs.notebook] = inputs
        self.log.log(
            logging.WARNING if inputs.state == "failed" else logging.INFO,
            "coop: inputs of %s in %s: %s%s",
            inputs.notebook,
            inputs.challenge,
            inputs.state,
            f" ({inputs.message})" if inputs.message else "",
        )

    def status(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "error": self.error,
            "root": str(self.root),
            "challenges": [vars(result) for result in self.results.values()],
            "inputs": [vars(inputs) for inputs in self.inputs.values()],
        }


class CoopHandler(JupyterHandler):
    auth_resource = "contents"

    def initialize(self, attacher: Attacher) -> None:
        self.attacher = attacher

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Jupyter's page for the status, with our reason on it (its 404 page has none)."""
        exception = kwargs.get("exc_info", (None, None, None))[1]
        logged = isinstance(exception, web.HTTPError) and exception.log_message
        message = exception.log_message % exception.args if logged else ""
        self.set_header("Content-Type", "text/html")
        self.finish(
            self.render_template(
                "error.html",
                status_code=status_code,
                status_message=self._reason,
                message=message,
                exception=exception,
            )
        )


class EasyStartHandler(CoopHandler):
    @web.authenticated
    @authorized
    async def get(self, challenge_id: str) -> None:
        if not re.fullmatch(SLUG, challenge_id):
            raise web.HTTPError(404, "%s", f"{challenge_id!r} is not a challenge id")
        participant = self.attacher.participant
        user = participant.name if participant else self.current_user.username
        phase = self.get_argument("phase", None)
        try:
            relative = await IOLoop.current().run_in_executor(None, self._start, challenge_id, user, phase)
        except EasyStartError as exc:
            attached = self.attacher.results.get(challenge_id)
            reason = f" ({attached.error})" if attached and attached.error else ""
            raise web.HTTPError(exc.status, "%s", exc.user_message + reason) from None
        path = "/".join(url_escape(part) for part in (CLONES, challenge_id, *relative.parts))
        self.redirect(url_path_join(self.base_url, "lab", "tree", path))

    def _start(self, challenge_id: str, user: str, phase_id: str | None) -> PurePosixPath:
        """The notebook (made if need be), then the phase's inputs beside it; in a worker thread."""
        clone = self.attacher.ensure(challenge_id)
        phase = phase_to_start(clone, phase_id)
        notebook = easy_start(clone, user, phase_id=phase.id)
        participant = self.attacher.participant
        self.attacher.record_inputs(provide_inputs(clone, notebook, participant, challenge_id, phase.id))
        return notebook


class AttachStatusHandler(CoopHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(self.attacher.status()))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "coop_widgets.server"}]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    root = Path(serverapp.root_dir).expanduser() / CLONES
    attacher = Attacher(root, Participant.from_environment(), serverapp.log)
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, r"coop/start/([^/]+)"), EasyStartHandler, {"attacher": attacher}),
            (url_path_join(base, "coop/attach"), AttachStatusHandler, {"attacher": attacher}),
        ],
    )
    attacher.start()
