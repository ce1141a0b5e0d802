"""``coop people search``: people ranked by the skills the searcher weighs, each row explained."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from coop_client.models import PeopleSearchOut
from scorer.cli.common import console, fail, print_json, state
from scorer.exceptions import CoopError
from scorer.profiles import search as people
from scorer.service.convert.people import of_results

app = typer.Typer(help="Search people by the skills their scored work proves.", no_args_is_help=True)


@app.command("search")
def search_people(
    ctx: typer.Context,
    skill: Annotated[
        list[str] | None,
        typer.Option(help="A skill and its weight, `clustering=2` (1 when left out); repeat it."),
    ] = None,
    domain: Annotated[list[str] | None, typer.Option(help="Only people who worked in this domain.")] = None,
    challenge: Annotated[list[str] | None, typer.Option(help="Only people who worked on it.")] = None,
    min_percentile: Annotated[float, typer.Option(help="A skill below this percentile counts 0.")] = 0.0,
    since: Annotated[datetime | None, typer.Option(help="Only people with scored work since then.")] = None,
    offset: Annotated[int, typer.Option(help="Rows skipped.")] = 0,
    limit: Annotated[int, typer.Option(help=f"Rows shown (at most {people.MAX_LIMIT}).")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rank people by a weighted mix of skill percentiles (each among the people who have that
    skill here), with the evidence behind every row: scored code, challenge tags weighted by rank
    and credit, measured rewards. Hidden profiles are left out."""
    try:
        weights = people.parse_weights(skill or [])
        query = people.Query(
            weights, tuple(domain or ()), tuple(challenge or ()), min_percentile, since, offset, limit
        )
        results = of_results(state(ctx).api().search_people(query))
    except CoopError as exc:
        fail(exc)
    if as_json:
        print_json(results.model_dump(mode="json"))
        return
    console.print(people_table(results))


def people_table(results: PeopleSearchOut) -> Table:
    span = f"{results.offset + 1}–{results.offset + len(results.rows)}" if results.rows else "none"
    out = Table(title=f"people {span} of {results.total}")
    for name, justify in (("#", "right"), ("person", "left"), ("score", "right"), ("why", "left")):
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    for place, row in enumerate(results.rows, results.offset + 1):
        why = "\n".join(
            f"{t.skill} ×{t.weight:g}: percentile {t.percentile:g}"
            + (f" → {t.contribution:g}" if t.counted else " (not counted)")
            + "".join(
                f"\n  {e.kind}: {_where(e.challenge, e.phase, e.submission)} {e.detail}" for e in t.evidence
            )
            for t in row.terms
        )
        out.add_row(str(place), escape(row.person), f"{row.score:g}", escape(why), end_section=True)
    out.caption = escape("\n".join(results.notes)) or None
    return out


def _where(challenge: str | None, phase: str | None, submission: int | None) -> str:
    place = "/".join(part for part in (challenge, phase) if part)
    return f"{place} #{submission}" if submission is not None else place
