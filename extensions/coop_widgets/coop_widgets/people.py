"""``PeopleSearch()``: people ranked by the skills you weigh, each row with the evidence behind it.

PeopleSearch({"clustering": 2, "performance-optimisation": 1})
PeopleSearch(["numpy"], domain="particle-physics", min_percentile=50)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ipywidgets as widgets

from coop_client.client import AsyncCoopClient, Routes
from coop_client.models import PeopleSearchOut, PersonMatchOut, SkillEvidenceOut
from coop_widgets import _html
from coop_widgets._panel import Panel

#: The service's bounds (it refuses beyond them).
MAX_WEIGHT = 10.0
MAX_LIMIT = 100


class PeopleSearch(Panel):
    """Add skills with weights, then read the ranked people and why each scores what it does."""

    def __init__(
        self,
        skills: Mapping[str, float] | Sequence[str] = (),
        *,
        domain: str = "",
        min_percentile: float = 0.0,
        limit: int = 20,
        **kwargs: object,
    ) -> None:
        self.weights: dict[str, float] = (
            dict(skills) if isinstance(skills, Mapping) else dict.fromkeys(skills, 1.0)
        )
        self.offset, self.limit = 0, max(1, min(limit, MAX_LIMIT))
        self.results: PeopleSearchOut | None = None
        self.skill = widgets.Combobox(placeholder="skill, e.g. clustering", ensure_option=False)
        self.weight = widgets.BoundedFloatText(1.0, min=0.1, max=MAX_WEIGHT, step=0.5, description="×")
        self.add_button = widgets.Button(description="Add", tooltip="Add this skill with its weight")
        self.clear_button = widgets.Button(description="Clear", tooltip="Remove every skill")
        self.chosen = widgets.HTML()
        self.domain = widgets.Text(domain, placeholder="domain (optional)", description="Domain")
        self.min_percentile = widgets.BoundedFloatText(
            min_percentile, min=0, max=100, step=5, description="Min. pct."
        )
        self.previous_button = widgets.Button(description="◀ Previous")
        self.next_button = widgets.Button(description="Next ▶")
        super().__init__(**kwargs)
        controls = [
            widgets.HBox([self.skill, self.weight, self.add_button, self.clear_button]),
            self.chosen,
            widgets.HBox([self.domain, self.min_percentile]),
        ]
        pages = widgets.HBox([self.previous_button, self.next_button])
        self.children = (self.children[0], *controls, *self.children[1:], pages)
        self.add_button.on_click(lambda _b: self._search_after(self.add(self.skill.value, self.weight.value)))
        self.clear_button.on_click(lambda _b: self._search_after(self.clear()))
        self.previous_button.on_click(lambda _b: self._search_after(self.page(-1)))
        self.next_button.on_click(lambda _b: self._search_after(self.page(1)))
        self._show_chosen()
        self.start()

    def add(self, skill: str, weight: float) -> bool:
        """Weigh ``skill`` (again: a new weight); ``False`` when no skill is named."""
        name = skill.strip()
        if not name:
            self.problem.value = _html.line("Name a skill first.", "bad")
            return False
        self.weights[name] = max(0.1, min(float(weight), MAX_WEIGHT))
        self.skill.value = ""
        self.offset = 0
        self._show_chosen()
        return True

    def clear(self) -> bool:
        self.weights.clear()
        self.offset = 0
        self._show_chosen()
        return True

    def page(self, step: int) -> bool:
        total = self.results.total if self.results else 0
        offset = self.offset + step * self.limit
        if offset < 0 or offset >= max(total, 1):
            return False
        self.offset = offset
        return True

    def _search_after(self, changed: bool) -> None:
        if changed:
            self._tasks.start(self.refresh())

    def _show_chosen(self) -> None:
        terms = ", ".join(f"{_html.text(name)} ×{weight:g}" for name, weight in self.weights.items())
        self.chosen.value = _html.line(
            f"Ranking by: {terms}" if terms else "No skill chosen: everyone, by name."
        )

    async def load(self, client: AsyncCoopClient) -> None:
        known = await client.send(Routes.skills())
        self.skill.options = [s.skill for s in known.skills]
        self.results = await client.send(
            Routes.people(
                [f"{name}={weight:g}" for name, weight in self.weights.items()],
                domains=[self.domain.value.strip()] if self.domain.value.strip() else None,
                min_percentile=self.min_percentile.value,
                offset=self.offset,
                limit=self.limit,
            )
        )
        shown = self.results
        span = (
            f"{shown.offset + 1}–{shown.offset + len(shown.rows)} of {shown.total}" if shown.rows else "none"
        )
        self.title.value = f"<b>People</b> · {span}"
        self.previous_button.disabled = shown.offset == 0
        self.next_button.disabled = shown.offset + len(shown.rows) >= shown.total
        self.body.value = render(shown)


def render(results: PeopleSearchOut) -> str:
    notes = "".join(_html.line(_html.text(note), "bad") for note in results.notes)
    if not results.rows:
        return notes or _html.line("Nobody matches.")
    rows = [
        [str(place), _html.text(row.person), _html.number(row.score, 1), explanation(row)]
        for place, row in enumerate(results.rows, results.offset + 1)
    ]
    return notes + _html.table(["#", "person", "score", "why"], rows)


def explanation(row: PersonMatchOut) -> str:
    """Each requested skill: weight, percentile, what it adds, and the evidence behind it."""
    parts = []
    for term in row.terms:
        adds = f"adds {term.contribution:g}" if term.counted else "not counted"
        head = f"{term.skill} ×{term.weight:g}: percentile {term.percentile:g}, {adds}"
        more = term.evidence_count - len(term.evidence)
        evidence = [evidence_text(e) for e in term.evidence] + ([f"and {more} more"] if more > 0 else [])
        items = "".join(f"<li>{_html.text(e)}</li>" for e in evidence)
        parts.append(
            f"<div>{_html.text(head)}</div>" + (f'<ul style="margin: 0">{items}</ul>' if items else "")
        )
    return "".join(parts)


def evidence_text(e: SkillEvidenceOut) -> str:
    where = "/".join(part for part in (e.challenge, e.phase) if part)
    submission = f" submission {e.submission}" if e.submission is not None else ""
    kind = "from elsewhere" if e.kind == "imported" else e.kind
    return f"{kind}: {where}{submission} {e.detail}".replace("  ", " ").strip()
