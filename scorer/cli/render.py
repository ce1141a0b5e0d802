"""Rich renderings of submissions and leaderboards, and their JSON forms."""

from __future__ import annotations

from rich.table import Table

from scorer.challenge.spec import Challenge
from scorer.ledger.queries import LeaderboardView, SubmissionScores, SubmissionView
from scorer.ranking.leaderboard import column_label, column_precision, format_value

STATUS_STYLE = {"scored": "green", "failed": "red", "rejected": "yellow", "queued": "dim", "running": "cyan"}


def leaderboard_table(challenge: Challenge, view: LeaderboardView) -> Table:
    split = "private" if view.private else "public"
    title = f"{challenge.title} — {view.phase_id} — {view.board.title or view.board.key} ({split})"
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    if view.rank_changes is not None:
        table.add_column("Δpub", justify="right")
    table.add_column("person")
    for column in view.columns:
        style = "bold" if column.key == view.board.primary else None
        table.add_column(column_label(challenge, column), justify="right", style=style)
    table.add_column("submission", justify="right", style="dim")
    for row in view.rows:
        cells = [str(row.rank)]
        if view.rank_changes is not None:
            cells.append(_delta(view.rank_changes.get(row.person, 0)))
        cells.append(row.person)
        for column in view.columns:
            cells.append(format_value(row.columns.get(column.key), column_precision(challenge, column)))
        cells.append(str(row.submission_id))
        table.add_row(*cells)
    if not view.rows:
        table.caption = "no scored submission yet"
    return table


def submissions_table(items: list[tuple[SubmissionView, SubmissionScores]]) -> Table:
    table = Table(title="Submissions", title_justify="left")
    for name in ("id", "person", "phase", "result"):
        table.add_column(name, overflow="fold")
    for view, scores in items:
        status = str(view.status)
        style = STATUS_STYLE.get(status, "")
        if status == "scored":
            metrics = ", ".join(f"{k} {v:.4g}" for k, v in sorted(scores.public.items()) if v is not None)
            result = f"[{style}]scored[/] {metrics} ({view.run_time:.2f} s)"
        elif view.failure_class:
            result = f"[{style}]{status} ({view.failure_class})[/]: {view.failure_reason or ''}"
        else:
            result = f"[{style}]{status}[/]"
        table.add_row(str(view.id), view.username, view.phase_id, result)
    return table


def _delta(change: int) -> str:
    if change > 0:
        return f"[green]▲{change}[/]"
    if change < 0:
        return f"[red]▼{-change}[/]"
    return "="
