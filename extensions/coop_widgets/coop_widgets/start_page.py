"""The participant's start page: ``GET <base_url>coop/``, the default URL of their server.

It shows every challenge with its open phase (when it ends, the submission limits) and an Easy
start link, and the person's last submissions with their status and a link to their executed
notebook; a link opens JupyterLab. What it shows comes from the scorer service through
:class:`coop_client.client.CoopClient`; when the service cannot be read, the page says so and
JupyterLab is one click away all the same. Times are written in UTC and shown by the browser in
its own time zone (``<time datetime=…>``).

JupyterLab's Launcher gets a card for the page through jupyter-server-proxy's
``jupyter_serverproxy_servers`` entry point (:func:`launcher`): a launcher entry whose path is
this page. It names no command and no port, so jupyter-server-proxy proxies nothing for it.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from jupyter_server.utils import url_escape, url_path_join

from coop_client.client import CoopClient
from coop_client.errors import CoopError
from coop_client.models import ChallengeOut, PhaseOut, SubmissionSummary
from coop_widgets.attach import Participant

#: The page's path under the server's base URL (jupyter-server-proxy's ``path_info``).
PATH = "coop/"
TITLE = "Coopetition"
ICON = Path(__file__).parent / "static" / "coopetition.svg"
#: How many of the person's submissions the page lists, newest first.
LAST_SUBMISSIONS = 10
#: How a limit's refusal ends (scorer.ingest.limits.LimitHit.text): split off to show it locally.
NEXT_SLOT = re.compile(r"; next slot (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$")


@dataclass(frozen=True)
class ChallengeCard:
    challenge: ChallengeOut
    phase: PhaseOut | None  # the open one


@dataclass
class StartPage:
    """What the page shows, as read from the service."""

    user: str
    challenges: list[ChallengeCard] = field(default_factory=list)
    submissions: list[SubmissionSummary] = field(default_factory=list)
    problem: str = ""  # why the service could not be read (shown on the page)


def read_start_page(participant: Participant | None, user: str) -> StartPage:
    """The challenges and ``user``'s last submissions, from the service (blocking: call it in a
    worker thread)."""
    page = StartPage(user)
    if participant is None:
        page.problem = "this server is not attached to a Coopetition scorer ($COOP_SERVICE_URL is not set)"
        return page
    try:
        with CoopClient(participant.service_url, participant.token or None, timeout=15.0) as client:
            for summary in client.challenges():
                challenge = client.challenge(summary.id)
                phase = next((p for p in challenge.phases if p.id == challenge.current_phase), None)
                page.challenges.append(ChallengeCard(challenge, phase))
            page.submissions = client.submissions(person=user, limit=LAST_SUBMISSIONS)
    except CoopError as exc:
        page.problem = exc.user_message
    return page


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("coop_widgets", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def render(page: StartPage, *, base_url: str, service_page: str | None) -> str:
    """The page's HTML. ``base_url``: the server's; ``service_page``: where the browser reaches
    the scorer's public pages (``None``: no links to them)."""
    return (
        _templates()
        .get_template("start.html")
        .render(
            page=page,
            title=TITLE,
            lab=url_path_join(base_url, "lab"),
            easy_start=lambda challenge: url_path_join(base_url, "coop", "start", url_escape(challenge)),
            notebook_page=(
                (
                    lambda submission: url_path_join(
                        service_page, "api", "submissions", str(submission), "notebook.html"
                    )
                )
                if service_page
                else None
            ),
            utc=lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "",
            slot=lambda reason: NEXT_SLOT.split(reason or "", maxsplit=1),
        )
    )


def service_page() -> str | None:
    """The scorer's pages as the browser reaches them: through the hub's proxy, under the hub's
    base URL (``None`` outside a hub)."""
    base = os.environ.get("JUPYTERHUB_BASE_URL")
    return url_path_join(base, "services", "coop") if base else None


def launcher() -> dict[str, Any]:
    """jupyter-server-proxy's entry point: a Launcher card that opens the start page."""
    # A launcher entry without a process to proxy: jupyter-server-proxy warns that it has no
    # command or port, which is what is meant here.
    warnings.filterwarnings("ignore", message=f"Server proxy {PATH.strip('/')} does not have a command")
    return {
        "launcher_entry": {
            "title": TITLE,
            "path_info": PATH,
            "icon_path": str(ICON),
            "category": TITLE,
        },
        "new_browser_tab": True,
    }
