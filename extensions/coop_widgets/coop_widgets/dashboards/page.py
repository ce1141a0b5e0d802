"""What every dashboard page shares: its query string, the anonymous client, links, the header
and the friendly error pages.

A dashboard module renders from the service's models and hands the result to :func:`show`::

    from coop_widgets.dashboards import page

    def render() -> page.Content:
        params = page.query()                       # {"id": "trackml", "phase": "realistic"}
        with page.client() as client:
            challenge = client.challenge(page.need(params, "id"))   # a 404 becomes "No such …"
        return f"<h1>{page.text(challenge.title)}</h1>"

    page.show(render, missing="challenge")

- :func:`query` reads the page's query string the way Voila documents for preheated kernels
  (``voila.utils.get_query_string``, i.e. ``wait_for_request()`` then ``$QUERY_STRING``: a
  preheated kernel waits for the viewer's request, once);
  first value of each parameter; :func:`query_all` every value (a form's repeated fields).
- :func:`client` is a :class:`CoopClient` at ``$COOP_SERVICE_URL`` without a token: a viewer is
  anonymous, and sees what the service shows anyone.
- :func:`link` (another dashboard), :func:`notebook_link` and :func:`diff_link` (the service's
  pages of a submission), :func:`easy_start_link` and :func:`profile_link` are relative URLs: the
  dashboards are served at ``<hub>/services/dashboards/voila/render/<page>.ipynb``, so they work
  behind any hub prefix and each page is a plain navigation (the browser's back button works).
- :func:`show` displays the header, the style and the page; :class:`NotFound` (raised by
  :func:`need` or by a page) and the client's 404 become a "No such …" page, any other error a
  short message; no traceback ever reaches a viewer.

Pages (``PAGES``): ``index`` (challenges), ``challenge``, ``rewards``, ``graph``, ``profile``,
``people``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import TypeAlias
from urllib.parse import parse_qsl, quote, urlencode

import ipywidgets as widgets
from IPython.display import display

from coop_client.client import CoopClient, CoopClientError, tls_context
from coop_client.errors import CoopError

#: What a page renders: a widget, or a string of escaped HTML.
Content: TypeAlias = widgets.Widget | str

#: The dashboard notebooks (``<name>.ipynb`` in ``voila_dashboards/``) and their titles in the nav.
PAGES = {
    "index": "Challenges",
    "challenge": "Challenge",
    "rewards": "Rewards",
    "graph": "Contribution graph",
    "profile": "Profile",
    "people": "People",
}
NAV = ("index", "people")

#: The hub's root seen from a rendered page (``<hub>/services/dashboards/voila/render/x.ipynb``).
HUB_ROOT = "../../../../"
SERVICE = f"{HUB_ROOT}services/coop/"
DEFAULT_SERVICE_URL = "http://127.0.0.1:8000/services/coop/"

STYLE = """
.coop-dash { font-family: system-ui, sans-serif; max-width: 1200px; color: #1b1b1b; }
.coop-dash a { color: #0b57d0; }
.coop-dash a:focus, .coop-dash button:focus { outline: 2px solid #0b57d0; outline-offset: 2px; }
.coop-nav { display: flex; gap: 16px; align-items: baseline; padding: 8px 0;
  border-bottom: 1px solid #ccc; margin-bottom: 12px; }
.coop-nav .coop-brand { font-weight: 700; font-size: 1.2em; }
.coop-dash table { border-collapse: collapse; margin: 6px 0 14px; }
.coop-dash th, .coop-dash td { padding: 3px 8px; text-align: left; border-bottom: 1px solid #ddd; }
.coop-dash th { background: #f2f2f2; }
.coop-dash td.num { text-align: right; font-variant-numeric: tabular-nums; }
/* the class twice: above JupyterLab's :not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td */
.coop-dash.coop-dash th, .coop-dash.coop-dash td { text-align: left; }
.coop-dash.coop-dash td.num { text-align: right; }
.coop-tag { display: inline-block; padding: 0 6px; margin: 0 4px 0 0; border-radius: 8px;
  background: #e8eef9; font-size: 0.85em; }
.coop-state { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 0.85em;
  font-weight: 600; border: 1px solid currentColor; }
.coop-state.open { color: #1e6b24; } .coop-state.ended { color: #6b6b6b; }
.coop-state.upcoming { color: #0b4f9c; }
.coop-notice { padding: 8px 12px; border-left: 4px solid #0b57d0; background: #eef3fc; margin: 8px 0; }
.coop-problem { padding: 8px 12px; border-left: 4px solid #b3261e; background: #fcefee; margin: 8px 0; }
.coop-dash caption { text-align: left; font-weight: 600; padding: 4px 0; }
.coop-cards > li { list-style: none; }
.coop-dash { --jp-widgets-horizontal-tab-width: 340px; }
.coop-dash a.coop-button { display: inline-block; padding: 4px 14px; border-radius: 4px;
  background: #0b57d0; color: #fff; text-decoration: none; font-weight: 600; }
.coop-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 14px;
  list-style: none; padding: 0; }
.coop-card { border: 1px solid #ccc; border-radius: 8px; padding: 4px 14px 10px; height: 100%; }
.coop-card.ended { background: #f7f7f7; }
.coop-timeline { display: flex; flex-wrap: wrap; gap: 10px; list-style: none; padding: 0; }
.coop-step { border: 1px solid #ccc; border-radius: 6px; padding: 6px 12px; flex: 1; min-width: 240px; }
.coop-step[aria-current] { border: 2px solid #0b57d0; }
.coop-step h3 { margin: 4px 0; }
.coop-rules { margin: 4px 0; padding-left: 18px; font-size: 0.9em; }
"""


class NotFound(CoopError):
    """What a page was asked for does not exist (or is not public): ``what`` names its kind."""

    http_status = 404

    def __init__(self, what: str, name: str | None = None) -> None:
        shown = f"No such {what}: {name}" if name else f"No {what} was named in the address"
        super().__init__(shown)
        self.what = what
        self.name = name


def query(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The page's query parameters (first value of each); ``environ`` stands for the kernel's
    environment in tests (no waiting then)."""
    found: dict[str, str] = {}
    for key, value in parse_qsl(_raw_query(environ), keep_blank_values=False):
        found.setdefault(key, value)
    return found


def _raw_query(environ: Mapping[str, str] | None) -> str:
    if environ is None:
        _wait_for_request()
        return os.environ.get("QUERY_STRING", "")
    return environ.get("QUERY_STRING", "")


@functools.cache
def _wait_for_request() -> None:
    """Voila's ``get_query_string()`` is ``wait_for_request()`` then ``$QUERY_STRING``; a preheated
    kernel serves one viewer and Voila sends it the request once, so it waits once (a second
    wait would never end); elsewhere it returns at once and Voila set the variable at start."""
    from voila.utils import wait_for_request  # type: ignore[import-untyped]  # Voila's kernels only

    wait_for_request()


def query_all(environ: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Every value of each parameter in order, blanks kept (a form's rows pair up by position)."""
    found: dict[str, list[str]] = {}
    for key, value in parse_qsl(_raw_query(environ), keep_blank_values=True):
        found.setdefault(key, []).append(value)
    return found


def offset(params: Mapping[str, str]) -> int:
    """The address's ``offset`` (0 when missing or not a whole number)."""
    try:
        return max(0, int(params.get("offset", "0")))
    except ValueError:
        return 0


def need(params: Mapping[str, str], key: str, what: str) -> str:
    """The parameter ``key``, or a :class:`NotFound` for ``what`` when the address lacks it."""
    value = params.get(key, "").strip()
    if not value:
        raise NotFound(what)
    return value


#: Seconds a page waits for the service: a viewer would rather wait than read an error, and a
#: crowd (twenty pages starting at once on two cores) or a phase's first credit ladder at 100k
#: commits (~30 s) takes longer than a quiet request.
CLIENT_TIMEOUT_S = 90.0


def client() -> CoopClient:
    """An anonymous client of the scorer service (``$COOP_SERVICE_URL``)."""
    return CoopClient(os.environ.get("COOP_SERVICE_URL") or DEFAULT_SERVICE_URL, timeout=CLIENT_TIMEOUT_S)


def link(page: str, **params: str | int | None) -> str:
    """A relative link to another dashboard: ``link("challenge", id="trackml", phase="realistic")``
    is ``challenge.ipynb?id=trackml&phase=realistic`` (parameters that are ``None`` left out)."""
    if page not in PAGES:
        raise ValueError(f"no dashboard page {page!r} (pages: {', '.join(PAGES)})")
    kept = {key: str(value) for key, value in params.items() if value is not None}
    return f"{page}.ipynb" + (f"?{urlencode(kept)}" if kept else "")


def notebook_link(submission_id: int) -> str:
    """The service's page of a submission's executed notebook."""
    return f"{SERVICE}api/submissions/{int(submission_id)}/notebook.html"


def diff_link(submission_id: int) -> str:
    """The service's page of the nbdime diff of a submission's notebook from its parent."""
    return f"{SERVICE}api/submissions/{int(submission_id)}/diff.html"


def easy_start_link(challenge_id: str, phase_id: str | None = None) -> str:
    """Easy start in the viewer's own server: the hub asks them to log in first."""
    url = f"{HUB_ROOT}hub/user-redirect/coop/start/{quote(challenge_id, safe='')}"
    return url + (f"?{urlencode({'phase': phase_id})}" if phase_id else "")


def profile_link(person: str) -> str:
    return link("profile", id=person)


def text(value: object) -> str:
    """``value`` as escaped HTML text."""
    return escape(str(value))


def anchor(href: str, label: str, *, title: str | None = None, button: bool = False) -> str:
    """A link (drawn as a button if ``button``); ``label`` is escaped, ``href`` one of this
    module's links (escaped too)."""
    hint = f' title="{escape(title)}"' if title else ""
    look = ' class="coop-button"' if button else ""
    return f'<a href="{escape(href)}"{hint}{look}>{escape(label)}</a>'


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    caption: str | None = None,
) -> str:
    """A table of already-escaped cells under column headers (``numeric`` columns right-aligned,
    ``caption`` plain text)."""
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    title = f"<caption>{text(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def header(current: str) -> str:
    """The style and the nav bar shared by every page; ``current`` is the page shown."""
    items = [
        f'<span aria-current="page">{text(PAGES[name])}</span>'
        if name == current
        else anchor(link(name), PAGES[name])
        for name in NAV
    ]
    return (
        f"<style>{STYLE}</style>"
        f'<nav class="coop-nav coop-dash" aria-label="Dashboards"><span class="coop-brand">Coopetition</span>'
        f"{''.join(items)}</nav>"
    )


def problem_page(exc: BaseException, missing: str) -> str:
    """What a viewer reads instead of a traceback."""
    back = f"<p>{anchor(link('index'), 'Back to the challenges')}</p>"
    if isinstance(exc, NotFound):
        title, detail = exc.user_message, ""
    elif isinstance(exc, CoopClientError) and exc.status == 404:
        title, detail = f"No such {missing}", exc.message
    elif isinstance(exc, CoopClientError) and exc.unavailable:
        title, detail = "The scorer service is not answering", "Try again in a moment."
    elif isinstance(exc, CoopClientError):
        title, detail = "The scorer service refused this page", exc.message
    elif isinstance(exc, CoopError):
        title, detail = "This page cannot be shown", exc.user_message
    else:
        title, detail = "This page cannot be shown", "Something went wrong on our side."
    body = f"<p>{text(detail)}</p>" if detail else ""
    return f'<div class="coop-dash coop-problem" role="alert"><h2>{text(title)}</h2>{body}{back}</div>'


def show(render: Callable[[], Content], *, current: str = "", missing: str = "page") -> None:
    """Display the header, then what ``render`` returns, or the friendly page for its error
    (``missing`` names what a 404 lacked: "challenge", "person", …).

    A preheated kernel runs its notebook when Voila starts it, long before anyone asks for the
    page: :func:`query` waits here for the viewer's request first, so that every page reads the
    service when it is viewed, even a page that reads no parameter; the TLS settings its client
    needs are made before that wait.

    Everything is shown in HTML widgets, never as HTML output: Voila draws outputs with
    JupyterLab's renderer, whose link handler swallows clicks on relative links."""
    tls_context()
    query()
    display(widgets.HTML(header(current)))
    try:
        content = render()
    except Exception as exc:  # a viewer never sees a traceback; the kernel's log keeps the type
        print(f"dashboard {current or '?'}: {type(exc).__name__}: {exc}", file=sys.__stderr__)
        display(widgets.HTML(problem_page(exc, missing)))
        return
    shown = widgets.HTML(content) if isinstance(content, str) else content
    shown.add_class("coop-dash")
    display(shown)
