"""Skills with evidence (pure): what people's scored work proves, and how strong it is.

Evidence comes from four places, never from what a person declares:

* **code**: a scored notebook imports or calls a module of the skill table (``sklearn.cluster``
  → clustering); one unit per phase where it did, the newest such submission as evidence;
* **challenge**: the challenge's ``tags.skills``, per challenge worked on: 1 for scored work,
  plus the best rank's quality (1 first … 0 last) plus the share of the challenge's credit;
* **measured**: what a rewarder measured (``limited-hardware`` → fast), one unit per grant;
* **rank**: ``rank:<challenge>``, the best rank's quality there (private once visible).

A skill's strength is its percentile among the people who have it on this instance: each skill
is compared only with its own holders, so a specialist is not ranked below a generalist on their
own specialty.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

#: Module (a dotted prefix) → skill. The operator extends it with ``ScorerSettings.skill_table``.
DEFAULT_SKILL_TABLE: Mapping[str, str] = {
    "numpy": "numpy",
    "pandas": "pandas",
    "polars": "dataframes",
    "scipy": "scientific-computing",
    "scipy.optimize": "optimisation",
    "scipy.stats": "statistics",
    "scipy.signal": "signal-processing",
    "statsmodels": "statistics",
    "sklearn": "machine-learning",
    "sklearn.cluster": "clustering",
    "sklearn.ensemble": "ensemble-methods",
    "sklearn.neighbors": "nearest-neighbours",
    "sklearn.decomposition": "dimensionality-reduction",
    "xgboost": "gradient-boosting",
    "lightgbm": "gradient-boosting",
    "catboost": "gradient-boosting",
    "torch": "deep-learning",
    "tensorflow": "deep-learning",
    "keras": "deep-learning",
    "jax": "deep-learning",
    "numba": "performance-optimisation",
    "cython": "performance-optimisation",
    "multiprocessing": "parallel-computing",
    "dask": "parallel-computing",
    "networkx": "graphs",
    "hdbscan": "clustering",
    "iminuit": "statistics",
    "uproot": "high-energy-physics",
    "awkward": "high-energy-physics",
    "matplotlib": "visualisation",
    "seaborn": "visualisation",
}

#: Rewarder type → the skill its grants measure.
MEASURED_SKILLS: Mapping[str, str] = {"limited-hardware": "fast", "pareto-front": "fast"}

RANK_PREFIX = "rank:"

EvidenceKind = Literal["code", "challenge", "measured", "rank"]


# --- the facts skills are computed from (read by scorer.ledger.people) -------------------------


class ScoredWork(NamedTuple):  # a tuple: 100k of them are made per index
    """One scored submission; ``modules`` is empty while its code is closed."""

    submission_id: int
    person: str
    challenge_id: str
    phase_id: str
    at: datetime
    modules: frozenset[str]


@dataclass(frozen=True)
class Earned:
    """A reward granted and not compensated."""

    reward_id: int
    person: str
    challenge_id: str
    phase_id: str
    rewarder_type: str
    amount: float
    submission_id: int | None


@dataclass(frozen=True)
class Standing:
    """A person's rank on one board of one phase (``of`` people ranked)."""

    person: str
    challenge_id: str
    phase_id: str
    board: str
    split: str
    rank: int
    of: int

    @property
    def quality(self) -> float:
        """1 for the first, 0 for the last (1 when alone)."""
        return 1.0 if self.of <= 1 else 1.0 - (self.rank - 1) / (self.of - 1)


@dataclass(frozen=True)
class ChallengeTags:
    domains: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    people: tuple[str, ...]
    work: tuple[ScoredWork, ...]
    earned: tuple[Earned, ...] = ()
    standings: tuple[Standing, ...] = ()
    tags: Mapping[str, ChallengeTags] = field(default_factory=dict)
    #: people's credentials imported from other instances: (person, issuer, skill) each
    imported: tuple[tuple[str, str, str], ...] = ()


# --- what a person's skills are ----------------------------------------------------------------


class Evidence(NamedTuple):
    kind: EvidenceKind | Literal["imported"]
    weight: float
    challenge_id: str | None = None
    phase_id: str | None = None
    submission_id: int | None = None
    reward_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Skill:
    name: str
    raw: float
    percentile: float
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class PersonSkills:
    person: str
    skills: Mapping[str, Skill]
    domains: frozenset[str]
    challenges: frozenset[str]
    last_active: datetime | None


@dataclass(frozen=True)
class SkillIndex:
    """Everyone's skills, and each skill's holders (the search's entry point)."""

    people: Mapping[str, PersonSkills]
    holders: Mapping[str, Mapping[str, Skill]]
    known: frozenset[str]


def merged_table(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The default table with the operator's entries over it."""
    return {**DEFAULT_SKILL_TABLE, **(extra or {})}


def module_skills(modules: Iterable[str], table: Mapping[str, str]) -> set[str]:
    """Skills of dotted modules: every table entry that is the module or one of its parents."""
    found = set()
    for module in modules:
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            skill = table.get(".".join(parts[:depth]))
            if skill is not None:
                found.add(skill)
    return found


def skill_index(facts: Facts, table: Mapping[str, str]) -> SkillIndex:
    """Every person's skills with their evidence and percentiles."""
    evidence: dict[str, dict[str, list[Evidence]]] = defaultdict(lambda: defaultdict(list))
    _code_evidence(facts.work, table, evidence)
    _challenge_evidence(facts, evidence)
    for grant in facts.earned:
        skill = MEASURED_SKILLS.get(grant.rewarder_type)
        if skill is not None:
            evidence[grant.person][skill].append(
                Evidence(
                    "measured",
                    1.0,
                    grant.challenge_id,
                    grant.phase_id,
                    grant.submission_id,
                    grant.reward_id,
                    grant.rewarder_type,
                )
            )
    for person, issuer, skill in facts.imported:
        evidence[person][skill].append(Evidence("imported", 1.0, detail=issuer))

    raws: dict[str, dict[str, float]] = defaultdict(dict)
    for person, skills in evidence.items():
        for name, items in skills.items():
            raws[name][person] = sum(item.weight for item in items)
    holders: dict[str, dict[str, Skill]] = {}
    for name, by_person in raws.items():
        ordered = sorted(by_person.values())
        count = len(ordered)
        holders[name] = {
            person: Skill(
                name,
                raw,
                100.0 * bisect_right(ordered, raw) / count,
                tuple(sorted(evidence[person][name], key=lambda e: -e.weight)),
            )
            for person, raw in by_person.items()
        }

    per_person: dict[str, dict[str, Skill]] = defaultdict(dict)
    for name, skilled in holders.items():
        for person, held in skilled.items():
            per_person[person][name] = held
    activity: dict[str, list[ScoredWork]] = defaultdict(list)
    for work in facts.work:
        activity[work.person].append(work)
    people = {}
    for person in facts.people:
        works = activity.get(person, [])
        challenges = frozenset(w.challenge_id for w in works)
        domains = frozenset(d for c in challenges for d in facts.tags.get(c, ChallengeTags()).domains)
        people[person] = PersonSkills(
            person,
            per_person.get(person, {}),
            domains,
            challenges,
            max((w.at for w in works), default=None),
        )
    known = (
        set(table.values())
        | set(MEASURED_SKILLS.values())
        | {s for tags in facts.tags.values() for s in tags.skills}
        | {RANK_PREFIX + c for c in facts.tags}
        | set(holders)
    )
    return SkillIndex(people, holders, frozenset(known))


def _code_evidence(
    work: Iterable[ScoredWork], table: Mapping[str, str], evidence: dict[str, dict[str, list[Evidence]]]
) -> None:
    """One unit per (person, skill, phase); the newest submission of the phase as evidence."""
    newest: dict[tuple[str, str, str, str], ScoredWork] = {}
    skills_of: dict[frozenset[str], set[str]] = {}  # many submissions share one import set
    for item in work:
        skills = skills_of.get(item.modules)
        if skills is None:
            skills = skills_of[item.modules] = module_skills(item.modules, table)
        for skill in skills:
            key = (item.person, skill, item.challenge_id, item.phase_id)
            seen = newest.get(key)
            if seen is None or item.at > seen.at:
                newest[key] = item
    details: dict[tuple[frozenset[str], str], str] = {}  # the modules that show the skill
    for (person, skill, challenge_id, phase_id), item in newest.items():
        detail = details.get((item.modules, skill))
        if detail is None:
            used = sorted(m for m in item.modules if skill in module_skills([m], table))
            detail = details[item.modules, skill] = ", ".join(used)
        evidence[person][skill].append(
            Evidence("code", 1.0, challenge_id, phase_id, item.submission_id, detail=detail)
        )


def _challenge_evidence(facts: Facts, evidence: dict[str, dict[str, list[Evidence]]]) -> None:
    worked: dict[tuple[str, str], ScoredWork] = {}
    for item in facts.work:
        key = (item.person, item.challenge_id)
        seen = worked.get(key)
        if seen is None or item.at > seen.at:
            worked[key] = item
    best: dict[tuple[str, str], Standing] = {}
    for standing in facts.standings:
        key = (standing.person, standing.challenge_id)
        if key not in best or standing.quality > best[key].quality:
            best[key] = standing
    credit: dict[tuple[str, str], float] = defaultdict(float)
    credit_total: dict[str, float] = defaultdict(float)
    for grant in facts.earned:
        if grant.rewarder_type == "credit-share":
            credit[grant.person, grant.challenge_id] += grant.amount
            credit_total[grant.challenge_id] += grant.amount
    for (person, challenge_id), item in worked.items():
        top = best.get((person, challenge_id))
        quality = top.quality if top else 0.0
        total = credit_total.get(challenge_id, 0.0)
        share = credit.get((person, challenge_id), 0.0) / total if total > 0 else 0.0
        detail = _challenge_detail(top, share)
        weight = 1.0 + quality + share
        for skill in facts.tags.get(challenge_id, ChallengeTags()).skills:
            evidence[person][skill].append(
                Evidence("challenge", weight, challenge_id, item.phase_id, item.submission_id, detail=detail)
            )
        if top is not None:
            evidence[person][RANK_PREFIX + challenge_id].append(
                Evidence("rank", quality, challenge_id, top.phase_id, detail=detail)
            )


def _challenge_detail(standing: Standing | None, share: float) -> str:
    parts = ["scored work"]
    if standing is not None:
        where = f"{standing.phase_id}, {standing.split}, {standing.board}"
        parts.append(f"rank {standing.rank} of {standing.of} ({where})")
    if share > 0:
        parts.append(f"{share:.0%} of the credit")
    return "; ".join(parts)
