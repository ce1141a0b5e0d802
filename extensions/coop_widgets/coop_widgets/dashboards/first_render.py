"""A page's first render: static HTML that the browser draws as soon as it reads the served page,
before Voila's front end has loaded and drawn the page's widgets.

Voila renders a cell's outputs in the browser (each one a JSON script its JavaScript turns into
a view once JupyterLab's modules, the lab extensions and the kernel's websocket are there, some
1.2 s after the page arrives) and hides the page behind its spinner until then. A page that has
read what it shows can display a snapshot of it first, as an output of :data:`MIME`: the
dashboards' Voila template (``hub_config/voila/templates/coop/``) writes that output into the
page as HTML (never as a JSON script: Voila's front end draws nothing of it), moves it out of
the hidden cells in place of the spinner, and removes it the moment the first widget view is
drawn (or, for a snapshot that names its live counterpart, :func:`page_html`'s ``live``, the
moment an element matching that selector is drawn, the live page kept invisible until then);
every other front end (JupyterLab, nbconvert) knows no renderer for :data:`MIME` and
shows nothing. So a viewer sees the page's text at once and the live widgets replace it; two
copies are never on screen at the same time. The snapshot is ``inert`` and ``aria-hidden``: it
cannot be focused or clicked, and assistive technologies (and role queries) see only the live
page.

:func:`board` is a board's first rows as the snapshot draws them: rank, person and scores (Δ on
a private ranking) in a grid of ``div`` elements of its own classes, not a ``table``, so that
nothing looking for the live board's rows (``.coop-board``, ``tbody tr``, ``caption``) finds
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from IPython.display import display

from coop_client.models import LeaderboardOut
from coop_widgets import _html
from coop_widgets.dashboards import page
from coop_widgets.dashboards.board import change, direction

#: The snapshot's MIME type: HTML for the coop Voila template only.
MIME = "application/vnd.coop.first-render+html"
#: Rows of a board in the snapshot: a first screen (the live board shows a page of 100).
ROWS = 20

STYLE = """
.coop-first-render .coop-first-tabs { display: flex; gap: 2px; border-bottom: 1px solid #ccc;
  margin-top: 10px; }
.coop-first-render .coop-first-tabs span { padding: 4px 12px; border: 1px solid #ccc; border-bottom: none;
  background: #f2f2f2; }
.coop-first-render .coop-first-tabs span.coop-first-current { background: #fff; font-weight: 600; }
.coop-first-render .coop-first-board { display: table; border-collapse: collapse; margin: 6px 0 14px; }
.coop-first-render .coop-first-caption { font-weight: 600; padding: 4px 0; margin-top: 8px; }
.coop-first-render .coop-first-head, .coop-first-render .coop-first-row { display: table-row; }
.coop-first-render .coop-first-head > span, .coop-first-render .coop-first-row > span { display: table-cell;
  padding: 3px 8px; border-bottom: 1px solid #ddd; }
.coop-first-render .coop-first-head > span { background: #f2f2f2; font-weight: 600; }
.coop-first-render .coop-first-row > span.num { text-align: right; font-variant-numeric: tabular-nums; }
.coop-first-render ol.coop-timeline { list-style: none; padding: 0; }
.coop-first-render .coop-first-nav { display: flex; gap: 16px; align-items: baseline; padding: 8px 0;
  border-bottom: 1px solid #ccc; margin-bottom: 12px; }
.coop-first-render .coop-first-nav .coop-brand { font-weight: 700; font-size: 1.2em; }
"""


def show(html: str) -> None:
    """Display ``html`` as the page's first render (see the module's docstring)."""
    display({MIME: html}, raw=True)


def board(shown: LeaderboardOut, rows: int = ROWS) -> str:
    """The first ``rows`` rows of ``shown``: rank, person, each column's value; on a private
    ranking the move from the public rank too."""
    private = shown.split == "private"
    headers = ["#", "person", *(f"{c.label} {direction(c)}" for c in shown.columns)]
    if private:
        headers.append("Δ")
    head = "".join(f"<span>{page.text(h)}</span>" for h in headers)
    body = []
    for row in shown.rows[:rows]:
        cells = [f'<span class="num">{row.rank}</span>', f"<span>{page.text(row.person)}</span>"]
        cells += [
            f'<span class="num">{_html.number(row.values.get(c.key), c.precision)}</span>'
            for c in shown.columns
        ]
        if private:
            cells.append(f"<span>{page.text(change(row.rank_change))}</span>")
        body.append(f'<div class="coop-first-row">{"".join(cells)}</div>')
    total = shown.total if shown.total is not None else len(shown.rows)
    more = f"first {min(rows, len(shown.rows))} of {total}" if total > rows else f"{total} in all"
    return (
        f'<div class="coop-first-caption">{page.text(shown.title)} ({page.text(shown.split)} ranking, '
        f"{more}; the live board is loading…)</div>"
        f'<div class="coop-first-board"><div class="coop-first-head">{head}</div>{"".join(body)}</div>'
    )


def tabs(titles: Sequence[str], current: int) -> str:
    """The boards' names as the tabs above them will show them, the current one marked."""
    marked = ' class="coop-first-current"'
    names = "".join(
        f"<span{marked if i == current else ''}>{page.text(t)}</span>" for i, t in enumerate(titles)
    )
    return f'<div class="coop-first-tabs">{names}</div>'


def page_html(current: str, body: str, live: str | None = None) -> str:
    """A whole page's snapshot: the dashboards' header (page ``current`` marked) above ``body``
    (escaped HTML, drawn in the pages' style). ``live``: a CSS selector of what replaces it (the
    graph page: its figure once plotly.js has drawn it); the live page stays invisible until an
    element matching it (or an error page) is drawn; none: the first widget view drawn does."""
    nav, marked = page.header(current), ""
    if live:  # the live header is drawn (invisible) before this goes: only one is a .coop-nav
        nav, marked = (
            nav.replace('class="coop-nav ', 'class="coop-first-nav ', 1),
            f' data-coop-live="{escape(live)}"',
        )
    return f'<style>{STYLE}</style>{nav}<div class="coop-dash"{marked}>{body}</div>'
