"""The jupyter_server extension of a participant's server: attach at start, and Easy start.

:class:`CoopServerApp` is an ``ExtensionApp``; enable it with
``--ServerApp.jpserver_extensions=coop_widgets.server=True`` (what the hub's spawner passes) or
the ``jupyter_server_config.d`` file this package installs. Its settings are traits of
``CoopServerApp`` (``--CoopServerApp.service_url=…`` or ``c.CoopServerApp.service_url`` in a
server config file), whose defaults come from the environment the hub gives a server
(``COOP_SERVICE_URL``, ``JUPYTERHUB_USER``, ``JUPYTERHUB_API_TOKEN``). Once the server runs it
clones or fetches every active challenge into ``<root_dir>/challenges/`` in a background
thread (failures are logged, never raised, and retried while the scorer is unreachable). Routes:

- ``GET <base_url>coop/start/<challenge_id>[?phase=<id>]``: Easy start (reachable from
  anywhere as ``/hub/user-redirect/coop/start/<id>``): copies the phase's baseline to the
  user's solution notebook unless it exists, puts the phase's inputs where that notebook reads
  them unless they are there (:mod:`coop_widgets.inputs`; a failure there is logged and the
  notebook opens all the same), then opens it in JupyterLab.
- ``GET <base_url>coop/build-on/<challenge_id>/<submission_id>``: Build on this (reachable as
  ``/hub/user-redirect/coop/build-on/…``): fetches, merges the submission's commit into the
  user's branch and copies its notebook into the user's folder (:mod:`coop_widgets.build_on`),
  puts the phase's inputs beside it, then opens it.
- ``GET <base_url>coop/attach``: what attaching (and Easy start's inputs) did so far, as JSON.
- ``GET <base_url>coop/``: the start page (:mod:`coop_widgets.start_page`), the server's
  default URL in the hub's configuration.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.application import ExtensionApp
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_escape, url_path_join
from tornado import web
from tornado.ioloop import IOLoop
from traitlets import Float, List, TraitError, Unicode, default, validate

from coop_client.client import CoopClient, CoopClientError
from coop_client.lineage import Lineage
from coop_client.models import SLUG
from coop_widgets.attach import CLONES, Attached, Participant, attach, attach_all
from coop_widgets.build_on import BuildOnError, BuildOnNotFound, build_on
from coop_widgets.easystart import EasyStartError, easy_start, phase_to_start
from coop_widgets.inputs import Inputs, provide_inputs
from coop_widgets.start_page import read_start_page, render, service_page

#: Seconds to wait before each new try to list the challenges while the scorer is unreachable.
RETRY_DELAYS: tuple[float, ...] = (2, 4, 8, 16, 30)
T = TypeVar("T")


class Attacher:
    """Attaches the server's clones; one git operation on the clones at a time."""

    def __init__(
        self,
        root: Path,
        participant: Participant | None,
        log: Any,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.root = root
        self.participant = participant
        self.log = log
        self.retry_delays = tuple(retry_delays)
        self.state = "disabled" if participant is None else "pending"
        self.error = ""
        self.results: dict[str, Attached] = {}
        self.inputs: dict[tuple[str, str], Inputs] = {}  # by challenge and notebook
        self._lock = threading.Lock()

    def start(self) -> None:
        if self.participant is not None:
            threading.Thread(target=self.run, name="coop-attach", daemon=True).start()
        else:
            self.log.info("coop: not attaching challenges (no user or no scorer URL)")

    def run(self) -> None:
        """Attach every active challenge, retrying while the scorer cannot list them."""
        assert self.participant is not None
        self.state = "running"
        for delay in (*self.retry_delays, None):
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

    def fetched(self, challenge_id: str, work: Callable[[Path], T]) -> T:
        """``work`` on the clone of ``challenge_id`` once cloned or fetched, with no other git
        operation on the clones meanwhile."""
        with self._lock:
            if self.participant is not None:
                self._record(attach(self.root, self.participant, challenge_id))
            return work(self.root / challenge_id)

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

    def initialize(self, attacher: Attacher, folder: str) -> None:
        self.attacher = attacher
        self.folder = PurePosixPath(folder)  # the clones' folder, relative to the server's root

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

    def open_notebook(self, challenge_id: str, relative: PurePosixPath) -> None:
        """Redirect to JupyterLab showing ``relative`` in the clone of ``challenge_id``."""
        parts = (*self.folder.parts, challenge_id, *relative.parts)
        path = "/".join(url_escape(part) for part in parts)
        self.redirect(url_path_join(self.base_url, "lab", "tree", path))


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
            raise web.HTTPError(exc.http_status, "%s", exc.user_message + reason) from None
        self.open_notebook(challenge_id, relative)

    def _start(self, challenge_id: str, user: str, phase_id: str | None) -> PurePosixPath:
        """The notebook (made if need be), then the phase's inputs beside it; in a worker thread."""
        clone = self.attacher.ensure(challenge_id)
        phase = phase_to_start(clone, phase_id)
        notebook = easy_start(clone, user, phase_id=phase.id)
        participant = self.attacher.participant
        self.attacher.record_inputs(provide_inputs(clone, notebook, participant, challenge_id, phase.id))
        return notebook


class BuildOnHandler(CoopHandler):
    @web.authenticated
    @authorized
    async def get(self, challenge_id: str, submission_id: str) -> None:
        if not re.fullmatch(SLUG, challenge_id):
            raise web.HTTPError(404, "%s", f"{challenge_id!r} is not a challenge id")
        participant = self.attacher.participant
        if participant is None:
            raise web.HTTPError(503, "%s", "this server is not attached to a Coopetition scorer")
        try:
            relative = await IOLoop.current().run_in_executor(
                None, self._build_on, participant, challenge_id, int(submission_id)
            )
        except CoopClientError as exc:
            raise web.HTTPError(exc.status or 502, "%s", exc.message) from None
        except BuildOnError as exc:
            raise web.HTTPError(exc.http_status, "%s", exc.user_message) from None
        self.open_notebook(challenge_id, relative)

    def _build_on(self, participant: Participant, challenge_id: str, submission_id: int) -> PurePosixPath:
        """The submission as the scorer knows it, built on in the fresh clone; in a worker thread."""
        with CoopClient(participant.service_url, participant.token or None, timeout=15.0) as client:
            found = client.submission(submission_id)
        if found.challenge != challenge_id:
            raise BuildOnNotFound(
                f"submission {submission_id} belongs to {found.challenge}, not {challenge_id}"
            )
        lineage = Lineage(path=found.notebook, commit=found.commit)
        clone = self.attacher.root / challenge_id
        notebook = self.attacher.fetched(
            challenge_id, lambda clone: build_on(clone, participant.name, lineage, author=found.person)
        )
        self.attacher.record_inputs(provide_inputs(clone, notebook, participant, challenge_id, found.phase))
        return notebook


class StartPageHandler(CoopHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        participant = self.attacher.participant
        user = participant.name if participant else self.current_user.username
        page = await IOLoop.current().run_in_executor(None, read_start_page, participant, user)
        self.finish(render(page, base_url=self.base_url, service_page=service_page()))


class AttachStatusHandler(CoopHandler):
    @web.authenticated
    @authorized
    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(self.attacher.status()))


class CoopServerApp(ExtensionApp):
    """Attach at start, Easy start and the attach status, as one configurable server extension."""

    name = "coop_widgets"
    attacher: Attacher  # made once the server's settings are known
    description = "Coopetition in a participant's server: attach the challenges, Easy start."

    service_url = Unicode(
        help="""The scorer's base URL (``…/services/coop/``), which challenges are cloned from.
        Empty: nothing is attached (a server outside a hub). Default: ``$COOP_SERVICE_URL``.""",
    ).tag(config=True)

    user = Unicode(
        help="""Whose server this is: the hub user challenges are attached for (git identity,
        ``<user>/work`` upstream). Empty: nothing is attached. Default: ``$JUPYTERHUB_USER``.""",
    ).tag(config=True)

    api_token = Unicode(
        help="""The token the scorer accepts from this server (for listing challenges and for git,
        through the credential helper). Default: ``$JUPYTERHUB_API_TOKEN``, the server's own.""",
    ).tag(config=True)

    challenges_dir = Unicode(
        CLONES,
        help="""The folder, relative to the server's ``root_dir``, that holds one clone per
        challenge (Easy start opens notebooks there).""",
    ).tag(config=True)

    retry_delays = List(
        Float(),
        default_value=list(RETRY_DELAYS),
        help="""Seconds to wait before each new try to list the challenges while the scorer is
        unreachable at start; after the last one, attaching is reported as failed.""",
    ).tag(config=True)

    @default("service_url")
    def _service_url_from_environment(self) -> str:
        return os.environ.get("COOP_SERVICE_URL", "")

    @default("user")
    def _user_from_environment(self) -> str:
        return os.environ.get("JUPYTERHUB_USER", "")

    @default("api_token")
    def _api_token_from_environment(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    @validate("challenges_dir")
    def _relative_folder(self, proposal: dict[str, Any]) -> str:
        folder = PurePosixPath(proposal["value"])
        if folder.is_absolute() or ".." in folder.parts or not folder.parts:
            raise TraitError(f"challenges_dir must be a folder under root_dir, not {proposal['value']!r}")
        return str(folder)

    @validate("retry_delays")
    def _non_negative(self, proposal: dict[str, Any]) -> list[float]:
        if any(delay < 0 for delay in proposal["value"]):
            raise TraitError(f"retry_delays must be seconds >= 0, not {proposal['value']!r}")
        return list(proposal["value"])

    def participant(self) -> Participant | None:
        """Whom attaching works for; ``None`` without a user or a scorer to attach to."""
        if not self.user or not self.service_url:
            return None
        return Participant(self.user, self.service_url.rstrip("/") + "/", self.api_token)

    def initialize_settings(self) -> None:
        assert self.serverapp is not None
        root = Path(self.serverapp.root_dir).expanduser() / self.challenges_dir
        self.attacher = Attacher(root, self.participant(), self.log, self.retry_delays)

    def initialize_handlers(self) -> None:
        arguments = {"attacher": self.attacher, "folder": self.challenges_dir}
        self.handlers.extend(
            [
                (r"coop/start/([^/]+)", EasyStartHandler, arguments),
                (r"coop/build-on/([^/]+)/([0-9]+)", BuildOnHandler, arguments),
                ("coop/attach", AttachStatusHandler, arguments),
                ("coop/?", StartPageHandler, arguments),
            ]
        )

    async def _start_jupyter_server_extension(self, serverapp: ServerApp) -> None:
        self.attacher.start()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "coop_widgets.server", "app": CoopServerApp}]
