"""Small HTML pieces the widgets show (pure functions: data in, escaped HTML out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape

from coop_client.models import ChallengeOut

HIGHLIGHT = "background: var(--jp-warn-color3, #fff3cd); font-weight: 600;"
CELL = "padding: 2px 8px; text-align: left; border-bottom: 1px solid var(--jp-border-color2, #ddd);"
COLOURS = {"ok": "#2e7d32", "bad": "#c62828", "wait": "#1565c0", "note": "#6d4c41"}


def text(value: object) -> str:
    return escape(str(value))


def line(message: str, tone: str = "note") -> str:
    """One status line, coloured by tone (ok, bad, wait, note); ``message`` is HTML already."""
    return f'<div style="color: {COLOURS.get(tone, COLOURS["note"])}">{message}</div>'


def pre(lines: Sequence[str]) -> str:
    body = escape("\n".join(lines))
    return f'<pre style="white-space: pre-wrap; margin: 4px 0">{body}</pre>' if lines else ""


def number(value: float | None, precision: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.{precision}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], highlight: int | None = None) -> str:
    """A table of already-escaped cells; row ``highlight`` stands out."""
    head = "".join(f'<th style="{CELL}">{h}</th>' for h in headers)
    body = "".join(
        f'<tr style="{HIGHLIGHT if i == highlight else ""}">'
        + "".join(f'<td style="{CELL}">{cell}</td>' for cell in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return (
        f'<table style="border-collapse: collapse"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def metrics(values: dict[str, float | None], challenge: ChallengeOut | None) -> str:
    """A submission's scores, labelled and rounded as the challenge says."""
    known = {m.key: m for m in challenge.metrics} if challenge else {}
    rows = []
    for key, value in values.items():
        metric = known.get(key)
        label = metric.label if metric else key
        rows.append([text(label), number(value, metric.precision if metric else 4)])
    return table(["metric", "public score"], rows) if rows else ""


def rank_change(before: int | None, after: int | None) -> str:
    if after is None:
        return "not on the leaderboard"
    if before is None:
        return f"new on the leaderboard at rank {after}"
    if after < before:
        return f"rank {before} → {after} (up {before - after})"
    if after > before:
        return f"rank {before} → {after} (down {after - before})"
    return f"rank {after}, unchanged"


def moment(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(span: timedelta) -> str:
    """``2 d 3 h``, ``3 h 5 min``, ``4 min``: the two largest units."""
    seconds = max(0, int(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "less than a minute"
