"""The recruiter's search (pure): filter people, rank them by a weighted mix of skills, and say
why each row scores what it does.

A row's score is the weighted mean of the requested skills' percentiles (a skill the person
lacks, or holds below ``min_percentile``, counts 0), so asking for more skills never favours
people who merely have many. Filters (domains, challenges, recency) narrow the people first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from coop_client.utc import as_utc
from scorer.exceptions import InvalidSearch
from scorer.profiles.skills import Evidence, PersonSkills, SkillIndex

MAX_WEIGHT = 10.0
MAX_SKILLS = 20
MAX_LIMIT = 100
MAX_NAME = 100
#: The evidence a row shows per skill (the strongest first).
EVIDENCE_SHOWN = 3


@dataclass(frozen=True)
class Query:
    weights: Mapping[str, float] = field(default_factory=dict)
    domains: tuple[str, ...] = ()
    challenges: tuple[str, ...] = ()
    min_percentile: float = 0.0
    since: datetime | None = None
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class Term:
    """One requested skill of one row: ``contribution`` = weight × percentile / total weight."""

    skill: str
    weight: float
    percentile: float
    counted: bool
    contribution: float
    evidence: tuple[Evidence, ...]
    evidence_count: int


@dataclass(frozen=True)
class Row:
    person: str
    score: float
    terms: tuple[Term, ...]
    last_active: datetime | None


@dataclass(frozen=True)
class Results:
    rows: tuple[Row, ...]
    total: int
    offset: int
    limit: int
    notes: tuple[str, ...] = ()


def parse_weights(items: Iterable[str]) -> dict[str, float]:
    """``["clustering:2", "numpy", "rank:trackml=1"]`` → skill → weight (1 when not given).

    The weight follows the last ``=`` or, failing that, the last ``:`` whose tail is a number
    (``rank:trackml`` is a skill, ``clustering:2`` a weighted one)."""
    weights: dict[str, float] = {}
    for item in items:
        name, weight = _split_weight(item.strip())
        if not name:
            raise InvalidSearch(f"a skill without a name: {item!r}")
        if name in weights:
            raise InvalidSearch(f"skill {name!r} given twice")
        weights[name] = weight
    return weights


def _split_weight(item: str) -> tuple[str, float]:
    for separator in ("=", ":"):
        name, found, tail = item.rpartition(separator)
        if not found:
            continue
        try:
            return name.strip(), float(tail)
        except ValueError:
            if separator == "=":
                raise InvalidSearch(f"the weight of {name!r} is not a number: {tail!r}") from None
    return item, 1.0


def validate(query: Query) -> None:
    if len(query.weights) > MAX_SKILLS:
        raise InvalidSearch(f"at most {MAX_SKILLS} skills per search, not {len(query.weights)}")
    for kind, values in (("domains", query.domains), ("challenges", query.challenges)):
        if len(values) > MAX_SKILLS:
            raise InvalidSearch(f"at most {MAX_SKILLS} {kind} per search, not {len(values)}")
    for name in (*query.weights, *query.domains, *query.challenges):
        if len(name) > MAX_NAME:
            raise InvalidSearch(f"a name longer than {MAX_NAME} characters: {name[:20]!r}…")
    for name, weight in query.weights.items():
        if not 0 < weight <= MAX_WEIGHT:  # also refuses NaN
            raise InvalidSearch(
                f"the weight of {name!r} must be above 0 and at most {MAX_WEIGHT:g}, not {weight}"
            )
    if not 0 <= query.min_percentile <= 100:
        raise InvalidSearch(f"min_percentile must be between 0 and 100, not {query.min_percentile}")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise InvalidSearch(f"the page size must be between 1 and {MAX_LIMIT}, not {query.limit}")
    if query.offset < 0:
        raise InvalidSearch(f"the offset cannot be negative ({query.offset})")


def search(index: SkillIndex, query: Query) -> Results:
    """One page of people ranked by the query's weights, best first (ties by name)."""
    validate(query)
    unknown = sorted(name for name in query.weights if name not in index.known)
    if unknown:
        note = f"unknown skill(s): {', '.join(unknown)}; GET /api/skills lists the known ones"
        return Results((), 0, query.offset, query.limit, (note,))
    if query.weights:
        # only the holders of a requested skill can score above 0
        names = set().union(*(index.holders.get(name, {}).keys() for name in query.weights))
        candidates = [index.people[name] for name in names if name in index.people]
    else:
        candidates = list(index.people.values())
    total_weight = sum(query.weights.values())
    scored: list[tuple[float, str, PersonSkills]] = []
    for person in candidates:
        if not _passes(person, query):
            continue
        weighted, counted = 0.0, False
        for name, weight in query.weights.items():
            skill = person.skills.get(name)
            if skill is not None and skill.percentile >= query.min_percentile:
                weighted, counted = weighted + weight * skill.percentile, True
        if query.weights and not counted:
            continue
        scored.append((-weighted / (total_weight or 1.0), person.person, person))
    scored.sort(key=lambda item: (item[0], item[1]))
    # explanations only for the page shown
    page = scored[query.offset : query.offset + query.limit]
    rows = tuple(
        Row(p.person, round(-score, 3), _terms(p, query, total_weight), p.last_active) for score, _, p in page
    )
    return Results(rows, len(scored), query.offset, query.limit)


def _passes(person: PersonSkills, query: Query) -> bool:
    if not person.domains.issuperset(query.domains) or not person.challenges.issuperset(query.challenges):
        return False
    # a time without a zone is UTC
    return query.since is None or (
        person.last_active is not None and person.last_active >= as_utc(query.since)
    )


def _terms(person: PersonSkills, query: Query, total_weight: float) -> tuple[Term, ...]:
    terms = []
    for name, weight in query.weights.items():
        skill = person.skills.get(name)
        percentile = skill.percentile if skill else 0.0
        counted = skill is not None and percentile >= query.min_percentile
        evidence = skill.evidence if skill else ()
        terms.append(
            Term(
                name,
                weight,
                percentile,
                counted,
                round(weight * percentile / total_weight, 3) if counted else 0.0,
                evidence[:EVIDENCE_SHOWN],
                len(evidence),
            )
        )
    return tuple(terms)
