"""What the people search reads, in few queries, and the skill index kept per ledger state.

:class:`PeopleIndex` builds :func:`scorer.profiles.skills.skill_index` from the ledger's facts
and keeps it until the ledger changes (a new event, reward, invalidation, profile edit or spec)
or a phase's closed code or private scores become visible. Credentials people imported from
other instances count too, their evidence marked with the issuer. A notebook's imports are parsed once
per submission (an executed notebook never changes) and kept in memory, so a rebuild reads only
the notebooks scored since.

Rules applied here (from :mod:`scorer.ledger.queries`): only code visible to everyone is read
for skills, ranks come from the private board only once private scores are public, invalidated
submissions and hidden profiles are left out of the index (and so of the search). A hidden
person's own skills, for their profile as they and organisers see it, are computed apart by
:meth:`PeopleIndex.person`.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from scorer.challenge.spec import Challenge
from scorer.ledger import queries
from scorer.ledger.credentials import expired_count, imported_skills
from scorer.ledger.invalidations import is_invalidated
from scorer.ledger.models import (
    ChallengeRow,
    ImportedCredential,
    Invalidation,
    LeaderboardVersion,
    Person,
    Profile,
    Reward,
    RewardKind,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
)
from scorer.ledger.reward_views import BASELINE_PERSON
from scorer.profiles.imports import notebook_imports
from scorer.profiles.skills import (
    ChallengeTags,
    Earned,
    Facts,
    PersonSkills,
    ScoredWork,
    Skill,
    SkillIndex,
    Standing,
    skill_index,
)

#: Executed notebooks read per query while filling the imports cache.
NOTEBOOK_BATCH = 200


class PeopleIndex:
    """The skill index of this ledger, rebuilt only when the ledger or a visibility changed."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = dict(table)
        self._imports: dict[int, frozenset[str]] = {}
        self._shared: dict[frozenset[str], frozenset[str]] = {}  # one object per distinct set
        self._key: Hashable | None = None
        self._index: SkillIndex | None = None
        self._everyone: Facts | None = None
        self._lock = threading.Lock()

    def index(self, session: Session, *, now: datetime) -> SkillIndex:
        return self._current(session, now)[0]

    def person(self, session: Session, name: str, *, now: datetime) -> PersonSkills:
        """``name``'s skills with their evidence. A hidden person (whom the index and so the
        search leave out, and whom only they and organisers may see) has theirs computed from
        their own facts, each percentile among the skill's visible holders plus them; the
        index is left as it is."""
        index, everyone = self._current(session, now)
        if name in index.people:
            return index.people[name]
        shown = set(index.people)
        own = Facts(
            (name,),
            tuple(work for work in everyone.work if work.person == name),
            # every visible grant too: a challenge's share of credit is of everyone's credit there
            tuple(grant for grant in everyone.earned if grant.person == name or grant.person in shown),
            tuple(standing for standing in everyone.standings if standing.person == name),
            everyone.tags,
            tuple(item for item in everyone.imported if item[0] == name),
        )
        found = skill_index(own, self.table).people[name]
        skills = {
            skill: replace(held, percentile=percentile_among(held.raw, index.holders.get(skill, {})))
            for skill, held in found.skills.items()
        }
        return replace(found, skills=skills)

    def _current(self, session: Session, now: datetime) -> tuple[SkillIndex, Facts]:
        """The index of the visible people, and the facts of everyone it was built from."""
        challenges = {cid: queries.load_challenge(session, cid) for cid in queries.challenge_ids(session)}
        open_code, open_private = _visible(challenges, now)
        key = (_ledger_state(session), open_code, open_private, expired_count(session, now=now))
        with self._lock:  # one reader builds, the others wait and find it current
            if self._index is None or self._everyone is None or key != self._key:
                self._everyone = self._facts(session, challenges, open_code, open_private, now)
                self._index = skill_index(_among(self._everyone, visible_people(session)), self.table)
                self._key = key
            return self._index, self._everyone

    def _facts(
        self,
        session: Session,
        challenges: Mapping[str, Challenge],
        open_code: frozenset[tuple[str, str]],
        open_private: frozenset[tuple[str, str]],
        now: datetime,
    ) -> Facts:
        """Everyone's facts, hidden people's too (naming no one: :func:`_among` picks whose)."""
        rows = _scored(session)
        self._read_imports(session, [row[0] for row in rows if (row[2], row[3]) in open_code])
        empty: frozenset[str] = frozenset()
        work = tuple(
            ScoredWork(
                sid, person, cid, pid, at, self._imports.get(sid, empty) if (cid, pid) in open_code else empty
            )
            for sid, person, cid, pid, at in rows
        )
        tags = {
            cid: ChallengeTags(tuple(c.tags.domain), tuple(c.tags.skills)) for cid, c in challenges.items()
        }
        return Facts(
            (),
            work,
            tuple(_earned(session)),
            tuple(_standings(session, challenges, open_private, now)),
            tags,
            tuple(imported_skills(session, now=now)),
        )

    def _read_imports(self, session: Session, ids: Iterable[int]) -> None:
        missing = [sid for sid in ids if sid not in self._imports]
        for start in range(0, len(missing), NOTEBOOK_BATCH):
            batch = missing[start : start + NOTEBOOK_BATCH]
            query = select(Submission.id, Submission.executed_notebook).where(Submission.id.in_(batch))
            for sid, notebook in session.execute(query):
                modules = notebook_imports(notebook) if notebook else frozenset()
                self._imports[sid] = self._shared.setdefault(modules, modules)


def percentile_among(raw: float, holders: Mapping[str, Skill]) -> float:
    """The percentile of a strength ``raw`` among ``holders`` and its own person, who is not
    one of them (:func:`~scorer.profiles.skills.skill_index`'s rule with one holder more)."""
    at_most = sum(1 for held in holders.values() if held.raw <= raw)
    return 100.0 * (at_most + 1) / (len(holders) + 1)


def _among(facts: Facts, people: tuple[str, ...]) -> Facts:
    """The facts of ``people`` alone."""
    shown = set(people)
    return Facts(
        people,
        tuple(work for work in facts.work if work.person in shown),
        tuple(grant for grant in facts.earned if grant.person in shown),
        tuple(standing for standing in facts.standings if standing.person in shown),
        facts.tags,
        tuple(item for item in facts.imported if item[0] in shown),
    )


def visible_people(session: Session) -> tuple[str, ...]:
    """Everyone whose profile is not hidden, by name (the baseline's runner is the organisers'
    reference, nobody to find)."""
    query = (
        select(Person.username)
        .outerjoin(Profile, Profile.person_id == Person.id)
        .where(or_(Profile.hidden.is_(None), Profile.hidden.is_(False)), Person.username != BASELINE_PERSON)
        .order_by(Person.username)
    )
    return tuple(session.scalars(query))


def _ledger_state(session: Session) -> tuple[object, ...]:
    """Changes with every event, reward, invalidation, imported credential, profile edit, spec
    and board change."""
    scalars = [
        select(func.max(SubmissionEvent.id)),
        select(func.max(Reward.id)),
        select(func.max(Invalidation.id)),
        select(func.max(ImportedCredential.id)),
        select(func.max(Profile.updated_at)),
        select(func.count()).select_from(Profile).where(Profile.hidden.is_(True)),
        select(func.count()).select_from(Person),
        select(func.max(ChallengeRow.updated_at)),
        select(
            func.group_concat(LeaderboardVersion.token)
            if _sqlite(session)
            else func.string_agg(LeaderboardVersion.token, ",")
        ),
    ]
    return tuple(session.execute(select(*(q.scalar_subquery() for q in scalars))).one())


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _visible(
    challenges: Mapping[str, Challenge], now: datetime
) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[str, str]]]:
    """The phases whose code, and whose private scores, everyone may see now."""
    code, private = set(), set()
    for cid, challenge in challenges.items():
        for phase in challenge.phases:
            if queries.code_visible(phase, now=now, viewer_is_author=False, viewer_is_organiser=False):
                code.add((cid, phase.id))
            if queries.private_scores_visible(phase, now=now, viewer_is_organiser=False):
                private.add((cid, phase.id))
    return frozenset(code), frozenset(private)


def _scored(session: Session) -> list[tuple[int, str, str, str, datetime]]:
    query = (
        select(
            Submission.id,
            Person.username,
            Submission.challenge_id,
            Submission.phase_id,
            Submission.created_at,
        )
        .join(Person, Person.id == Submission.person_id)
        .where(
            Submission.status == SubmissionStatus.SCORED, Submission.reproduces.is_(None), ~is_invalidated()
        )
        .order_by(Submission.id)
    )
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def _earned(session: Session) -> list[Earned]:
    compensated = select(Reward.compensates).where(Reward.compensates.is_not(None))
    query = (
        select(
            Reward.id,
            Person.username,
            Reward.challenge_id,
            Reward.phase_id,
            Reward.rewarder_type,
            Reward.amount_micro,
            Reward.submission_id,
        )
        .join(Person, Person.id == Reward.person_id)
        .where(Reward.kind == RewardKind.GRANT, Reward.id.not_in(compensated))
        .order_by(Reward.id)
    )
    return [
        Earned(rid, person, cid, pid, kind, micro / 1_000_000, sid)
        for rid, person, cid, pid, kind, micro, sid in session.execute(query)
    ]


def _standings(
    session: Session,
    challenges: Mapping[str, Challenge],
    open_private: frozenset[tuple[str, str]],
    now: datetime,
) -> list[Standing]:
    """Everyone's rank on every board, private where everyone may see it (through the
    ledger's cached boards)."""
    found: list[Standing] = []
    for cid, challenge in challenges.items():
        for phase in challenge.phases:
            split = "private" if (cid, phase.id) in open_private else "public"
            for board in challenge.phase_leaderboards(phase):
                view = queries.leaderboard(session, challenge, phase.id, board.key, split=split, now=now)
                found.extend(
                    Standing(row.person, cid, phase.id, board.key, split, row.rank, len(view.rows))
                    for row in view.rows
                )
    return found
