"""The recruiters' people search page: skills with weights and filters in a plain form whose
state is the address (``people.ipynb?skill=clustering&weight=2&skill=numpy&weight=1&domain=
particle-physics&challenge=trackml&min_percentile=50&since=2026-01-01&offset=20``), so every
search is addressable and the back button walks through them; the ranked people below, each
row with the explanation of its score (:func:`coop_widgets.people.explanation`) and a link to
the profile.

Whatever the address holds is only read: a weight that is not a number counts 1, a date that is
not one is left out (each with a note), and what the service refuses is shown above the form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from urllib.parse import urlencode

from coop_client.client import CoopClientError
from coop_client.models import ChallengeSummary, PeopleSearchOut, SkillsOut
from coop_widgets._html import moment, number
from coop_widgets.dashboards import page
from coop_widgets.people import MAX_WEIGHT, explanation

#: People on one page of results.
PER_PAGE = 20
#: Empty skill rows the form offers below the chosen ones, and the fewest rows it shows.
BLANK_ROWS = 2
FEWEST_ROWS = 4


@dataclass(frozen=True)
class Search:
    """What the searcher asked for: the address's state."""

    weights: tuple[tuple[str, float], ...] = ()
    domains: tuple[str, ...] = ()
    challenges: tuple[str, ...] = ()
    min_percentile: float = 0.0
    since: str = ""
    offset: int = 0

    def pairs(self) -> list[tuple[str, str]]:
        """The address's parameters (``weight`` after each ``skill``: they pair up by position)."""
        found: list[tuple[str, str]] = []
        for skill, weight in self.weights:
            found += [("skill", skill), ("weight", f"{weight:g}")]
        found += [("domain", d) for d in self.domains] + [("challenge", c) for c in self.challenges]
        if self.min_percentile:
            found.append(("min_percentile", f"{self.min_percentile:g}"))
        if self.since:
            found.append(("since", self.since))
        if self.offset:
            found.append(("offset", str(self.offset)))
        return found

    def href(self, offset: int) -> str:
        """The address of this search's page starting at ``offset``."""
        pairs = replace(self, offset=offset).pairs()
        return page.link("people") + (f"?{urlencode(pairs)}" if pairs else "")

    def terms(self) -> str:
        return ", ".join(f"{skill} ×{weight:g}" for skill, weight in self.weights)


def main() -> None:
    """Display the page the address asks for."""
    page.show(lambda: render(page.query_all()), current="people", missing="person")


def render(params: Mapping[str, Sequence[str]]) -> str:
    """The form filled from the address, and the ranked people it asks for."""
    search, notes = parse(params)
    with page.client() as client:
        known, challenges = client.skills(), client.challenges()
        try:
            results: PeopleSearchOut | None = client.people(
                [f"{skill}={weight:g}" for skill, weight in search.weights],
                domains=list(search.domains),
                challenges=list(search.challenges),
                min_percentile=search.min_percentile,
                since=search.since or None,
                offset=search.offset,
                limit=PER_PAGE,
            )
        except CoopClientError as exc:
            if exc.status != 422:
                raise
            notes.append(f"The search was refused: {exc.message}")
            results = None
    return people_page(search, notes, known, challenges, results)


def parse(params: Mapping[str, Sequence[str]]) -> tuple[Search, list[str]]:
    """The search the address holds, and a note for each part of it left out or changed."""
    notes: list[str] = []
    skills, weights = params.get("skill", []), params.get("weight", [])
    chosen: dict[str, float] = {}
    for i, raw in enumerate(skills):
        skill = raw.strip()
        if not skill:
            continue
        weight = weights[i].strip() if i < len(weights) else ""
        try:
            chosen[skill] = float(weight) if weight else 1.0
        except ValueError:
            notes.append(f"The weight of {skill} is not a number ({weight}): it counts 1.")
            chosen[skill] = 1.0
    since = _first(params, "since")
    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            notes.append(f"Active since: {since} is not a date (YYYY-MM-DD); left out.")
            since = ""
    try:
        min_percentile = float(_first(params, "min_percentile") or 0)
    except ValueError:
        notes.append("The minimum percentile is not a number; left out.")
        min_percentile = 0.0
    search = Search(
        weights=tuple(chosen.items()),
        domains=_listed(params.get("domain", [])),
        challenges=_listed(params.get("challenge", [])),
        min_percentile=min_percentile,
        since=since,
        offset=page.offset({"offset": _first(params, "offset")}),
    )
    return search, notes


def people_page(
    search: Search,
    notes: Sequence[str],
    known: SkillsOut,
    challenges: Sequence[ChallengeSummary],
    results: PeopleSearchOut | None,
) -> str:
    heading = (
        "<h1>People</h1><p>Rank people by the skills you weigh: each skill counts its percentile "
        "among the people who have it here, so a specialist is not ranked below a generalist on "
        "their own specialty. Every row explains its score.</p>"
    )
    shown_notes = "".join(f'<p class="coop-notice" role="status">{page.text(n)}</p>' for n in notes)
    return (
        heading + shown_notes + form(search, known, challenges) + (ranked(search, results) if results else "")
    )


def form(search: Search, known: SkillsOut, challenges: Sequence[ChallengeSummary]) -> str:
    """A GET form: submitting it loads this page at the address of the new search."""
    blanks = max(BLANK_ROWS, FEWEST_ROWS - len(search.weights))
    rows = [*search.weights, *[("", 1.0)] * blanks]
    skill_rows = "".join(
        f'<div><label>Skill {i} <input name="skill" list="coop-skills" value="{page.text(skill)}" '
        f'size="28"></label> <label>weight <input name="weight" type="number" min="0.1" '
        f'max="{MAX_WEIGHT:g}" step="0.1" value="{weight:g}"></label></div>'
        for i, (skill, weight) in enumerate(rows, 1)
    )
    options = "".join(
        f'<option value="{page.text(s.skill)}">{page.text(s.skill)} ({s.people})</option>'
        for s in known.skills
    )
    boxes = "".join(
        f'<label><input type="checkbox" name="challenge" value="{page.text(c.id)}"'
        f"{' checked' if c.id in search.challenges else ''}> {page.text(c.title)}</label> "
        for c in challenges
    )
    domains = page.text(", ".join(search.domains))
    filters = (
        f'<div><label>Domains, comma-separated <input name="domain" size="40" value="{domains}">'
        "</label></div>"
        + (f"<div>Challenges: {boxes}</div>" if boxes else "")
        + '<div><label>Minimum percentile <input name="min_percentile" type="number" min="0" max="100" '
        f'step="1" value="{search.min_percentile:g}"></label> <label>Active since '
        f'<input name="since" type="date" value="{page.text(search.since)}"></label></div>'
    )
    return (
        '<form method="get" role="search" aria-label="Search people" class="coop-search">'
        f"<fieldset><legend>Skills and their weights (0.1 to {MAX_WEIGHT:g})</legend>{skill_rows}"
        f'<datalist id="coop-skills">{options}</datalist></fieldset>'
        f"<fieldset><legend>Filters</legend>{filters}</fieldset>"
        '<p><button type="submit">Search</button> '
        f"{page.anchor(page.link('people'), 'Start over')}</p></form>"
    )


def ranked(search: Search, results: PeopleSearchOut) -> str:
    """The ranked rows with their explanations, and the pages before and after."""
    by = f"Ranked by {search.terms()}" if search.weights else "No skill chosen: everyone, by name"
    notes = "".join(f'<p class="coop-notice" role="status">{page.text(n)}</p>' for n in results.notes)
    if not results.rows:
        return f"<h2>Results</h2>{notes}<p>{page.text(by)}: nobody matches.</p>"
    first, last = results.offset + 1, results.offset + len(results.rows)
    rows = [
        [
            str(place),
            page.anchor(page.profile_link(row.person), row.person, title="Profile"),
            number(row.score, 1),
            page.text(moment(row.last_active)),
            explanation(row) or "—",
        ]
        for place, row in enumerate(results.rows, first)
    ]
    pages = []
    if results.offset > 0:
        pages.append(page.anchor(search.href(offset=max(0, results.offset - PER_PAGE)), "◀ Previous"))
    pages.append(page.text(f"{first}–{last} of {results.total}"))
    if last < results.total:
        pages.append(page.anchor(search.href(offset=last), "Next ▶"))
    return (
        f"<h2>Results</h2>{notes}<p>{page.text(by)} · {first}–{last} of {results.total}</p>"
        + page.table(["#", "person", "score", "last active", "why this score"], rows, numeric=[0, 2])
        + f'<nav aria-label="Result pages"><p>{" · ".join(pages)}</p></nav>'
    )


def _first(params: Mapping[str, Sequence[str]], key: str) -> str:
    values = params.get(key, [])
    return values[0].strip() if values else ""


def _listed(values: Sequence[str]) -> tuple[str, ...]:
    """Repeated and comma-separated values, blanks and repeats dropped, in order."""
    items = (item.strip() for value in values for item in value.split(","))
    return tuple(dict.fromkeys(item for item in items if item))
