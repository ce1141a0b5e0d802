"""A phase's credit, from the ledger and git: the edge the facade, the service, the CLI and the
``credit-share`` rewarder read.

The phase's scored versions (:mod:`scorer.ledger.credit_views`) and the graph's shape (git,
:mod:`scorer.credit.history`) are read once and kept; the ladder of each measure (a metric, or a
board's value column) and split is computed once on it. When submissions are scored or
invalidated, the kept graph adds the new versions and recomputes only the descendants of the
changed ones. Invalidated submissions count as unscored: their nodes stay (the graph keeps its
shape) without a score. The private-score rule is the caller's
(:mod:`scorer.facade`); this module answers what it is asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from dataclasses import replace as with_changes
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Literal

from scorer.challenge.spec import Challenge, Phase
from scorer.credit import overview
from scorer.credit.audit import AuditRow, audit
from scorer.credit.contribution import Detail, GraphPage, graph_page, steps
from scorer.credit.graph import Commit, CommitGraph, CreditError
from scorer.credit.history import Version, read_commits
from scorer.credit.ladder import Ladder, Metric, add, compute, update
from scorer.ingest.attribution import CommitFacts
from scorer.ingest.repo import ChallengeRepo
from scorer.ledger import credit_views, queries
from scorer.ledger.credit_views import ScoredVersion
from scorer.ledger.db import Sessions
from scorer.ledger.invalidations import invalidated_ids
from scorer.ranking.leaderboard import column_values, is_rank_based
from scorer.rewards.measures import phase_measures
from scorer.rewards.views import Measure, column_key, finite

Split = Literal["public", "private"]
#: Phases whose graphs are kept (a 100k-version phase takes some hundred MB with its ladders).
KEPT = 4


class NoCreditMeasure(CreditError):
    """A measure credit cannot be computed on (unknown, or a rank among others)."""

    http_status = 422


@dataclass
class PhaseCredit:
    """One phase as credit sees it: its versions (submission order), the graph's nodes without
    scores, the invalidated submissions, and each measure's ladder once computed."""

    challenge: Challenge
    phase: Phase
    versions: list[ScoredVersion]
    shape: list[Commit]
    invalidated: frozenset[int]
    ladders: dict[tuple[str, Split], Ladder] = field(default_factory=dict)
    orders: dict[tuple[str, Split, Detail], list[str]] = field(default_factory=dict)
    tables: dict[tuple[str, Split, str | None], CreditTable] = field(default_factory=dict)
    #: The whole phase's overview (what every graph page draws first) per measure, split and
    #: level of detail: 70k versions take about a second to group.
    overviews: dict[tuple[str, Split, int, int], overview.Overview] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def by_key(self) -> dict[str, ScoredVersion]:
        return {_key(version): version for version in self.versions}

    @cached_property
    def position(self) -> dict[str, int]:
        return {_key(version): at for at, version in enumerate(self.versions)}

    def measure(self, key: str) -> Measure:
        measures = phase_measures(self.challenge, self.phase)
        if key not in measures:
            raise NoCreditMeasure(
                f"no measure {key!r} to credit in phase {self.phase.id!r} "
                f"(measures: {', '.join(sorted(measures))})"
            )
        return measures[key]

    def board_measure(self, board: str | None) -> str:
        """The measure of ``board``'s primary column (the phase's first board by default)."""
        boards = self.challenge.phase_leaderboards(self.phase)
        chosen = queries.board_of(self.challenge, self.phase, board) if board else boards[0]
        primary = chosen.column(chosen.primary)
        if is_rank_based(primary):
            raise NoCreditMeasure(
                f"leaderboard {chosen.key!r} ranks by {primary.key!r}, a rank among others: "
                "credit needs a value of one submission (name a metric)"
            )
        return column_key(chosen.key, primary.key)

    def ladder(self, key: str, split: Split) -> Ladder:
        with self.lock:
            found = self.ladders.get((key, split))
            if found is None:
                measure = self.measure(key)
                scores = [self.value(version, key, split) for version in self.versions]
                graph = CommitGraph.build(
                    with_changes(node, score=score) for node, score in zip(self.shape, scores, strict=True)
                )
                found = compute(graph, Metric(measure.direction, measure.noise_threshold))
                self.ladders[(key, split)] = found
            return found

    def page(self, key: str, split: Split, detail: Detail, offset: int, limit: int) -> GraphPage:
        """A page of the contribution graph of measure ``key``."""
        ladder = self.ladder(key, split)
        with self.lock:  # an update changes the ladder in place
            keys = self.orders.get((key, split, detail))
            if keys is None:
                keys = list(ladder.nodes) if detail == "all" else steps(ladder)
                self.orders[(key, split, detail)] = keys
            return graph_page(ladder, keys, self.by_key, offset=offset, limit=limit)

    def value(self, version: ScoredVersion, key: str, split: Split) -> float | None:
        """The version's value of measure ``key`` (``None`` when invalidated)."""
        if version.submission_id in self.invalidated:
            return None
        values = version.public if split == "public" else version.private
        if key in values or "." not in key:
            return finite(values.get(key))
        board, column = key.split(".", 1)
        measured = {**values, "time": version.run_time, "memory": version.memory}
        return finite(column_values(self.challenge, self.challenge.leaderboard(board), measured)[column])


class _Kept:
    """The :class:`PhaseCredit` of the last few phases, each under the token it was read at."""

    def __init__(self) -> None:
        self.items: OrderedDict[Hashable, tuple[Hashable, PhaseCredit]] = OrderedDict()
        self.lock = threading.Lock()

    def latest(self, key: Hashable) -> tuple[Hashable, PhaseCredit | None]:
        """The phase's state and the token it was read at, whatever the token is now."""
        with self.lock:
            return self.items.get(key, (None, None))

    def put(self, key: Hashable, token: Hashable, value: PhaseCredit) -> None:
        with self.lock:
            self.items[key] = (token, value)
            self.items.move_to_end(key)
            while len(self.items) > KEPT:
                self.items.popitem(last=False)


_kept = _Kept()
_reading = threading.Lock()


def phase_credit(sessions: Sessions, mirrors: Path, challenge_id: str, phase_id: str) -> PhaseCredit:
    """The phase's credit state: kept while its scores and invalidations stay the same, brought
    up to date when submissions were scored or invalidated since (only the new versions are read
    and added, only what descends from a changed one recomputed), read afresh otherwise."""
    kept = _current(sessions, challenge_id, phase_id)
    if kept is not None:
        return kept
    with _reading:  # one reader brings a phase up to date; the others then find it current
        return _read(sessions, mirrors, challenge_id, phase_id)


def _current(sessions: Sessions, challenge_id: str, phase_id: str) -> PhaseCredit | None:
    with sessions() as session:
        challenge = queries.load_challenge(session, challenge_id)
        phase = queries.phase_of(challenge, phase_id)
        token = credit_views.credit_token(session, challenge_id, phase.id)
        token_kept, kept = _kept.latest((str(session.get_bind().engine.url), challenge_id, phase.id))
    return kept if kept is not None and token_kept == token else None


def _read(sessions: Sessions, mirrors: Path, challenge_id: str, phase_id: str) -> PhaseCredit:
    with sessions() as session:
        challenge = queries.load_challenge(session, challenge_id)
        phase = queries.phase_of(challenge, phase_id)
        token = credit_views.credit_token(session, challenge_id, phase.id)
        key = (str(session.get_bind().engine.url), challenge_id, phase.id)
        token_kept, kept = _kept.latest(key)
        if kept is not None and token_kept == token:
            return kept
        invalidated = frozenset(invalidated_ids(session, challenge_id, phase.id))
        grows = kept is not None and kept.challenge is challenge and kept.invalidated <= invalidated
        after = max((v.submission_id for v in kept.versions), default=0) if kept and grows else None
        versions = credit_views.scored_versions(session, challenge_id, phase.id, private=True, after=after)
        people = credit_views.commit_people(session, challenge_id, {v.commit for v in versions})
        url = queries.repo_url(session, challenge_id)
    if kept is not None and grows:
        if versions:
            repo = ChallengeRepo.mirror(url, mirrors, having=versions[-1].commit)
            _update(kept, repo, versions, _credited(people, versions), invalidated)
        else:
            _update(kept, None, [], _credited(people, versions), invalidated)
        _kept.put(key, token, kept)
        return kept
    shape: list[Commit] = []
    if versions:
        repo = ChallengeRepo.mirror(url, mirrors, having=versions[-1].commit)
        shape = read_commits(
            repo, [Version(v.commit, v.notebook) for v in versions], _credited(people, versions)
        )
        shape = [_flagged(node, version, invalidated) for node, version in zip(shape, versions, strict=True)]
    credit = PhaseCredit(challenge, phase, versions, shape, invalidated)
    _kept.put(key, token, credit)
    return credit


def _credited(
    people: dict[str, credit_views.CommitPeople], versions: list[ScoredVersion]
) -> Callable[[CommitFacts], tuple[str, ...]]:
    """Who a commit credits: its pusher (else whom it was submitted for) and verified co-authors."""
    submitter = {v.commit: v.person for v in versions}

    def credited(facts: CommitFacts) -> tuple[str, ...]:
        found = people.get(facts.sha)
        if found is None:
            return (submitter[facts.sha],)
        return tuple(dict.fromkeys([found.pusher or submitter[facts.sha], *found.co_authors]))

    return credited


def _update(
    state: PhaseCredit,
    repo: ChallengeRepo | None,
    fresh: list[ScoredVersion],
    credited: Callable[[CommitFacts], tuple[str, ...]],
    invalidated: frozenset[int],
) -> None:
    """Bring ``state`` up to date: ``fresh`` versions (new ones, or new runs of known ones) and
    more invalidated submissions; each kept ladder adds the new nodes and recomputes the
    descendants of the changed ones (:func:`~scorer.credit.ladder.rescore`)."""
    position = state.position
    added = [v for v in fresh if _key(v) not in position]
    nodes: list[Commit] = []
    if added and repo is not None:
        known = [Version(v.commit, v.notebook) for v in state.versions]
        nodes = read_commits(repo, [Version(v.commit, v.notebook) for v in added], credited, known=known)
    with state.lock:
        changed = {_key(v) for v in fresh if _key(v) in position}
        newly = invalidated - state.invalidated
        if newly:
            changed |= {_key(v) for v in state.versions if v.submission_id in newly}
        for version in fresh:
            if _key(version) in position:
                state.versions[position[_key(version)]] = version
        state.invalidated = invalidated
        for at in (position[key] for key in changed):
            state.shape[at] = _flagged(state.shape[at], state.versions[at], invalidated)
        for version, node in zip(added, nodes, strict=True):
            position[node.sha] = len(state.versions)
            state.versions.append(version)
            state.shape.append(_flagged(node, version, invalidated))
        state.by_key.update({_key(v): v for v in fresh})
        for (measure, split), ladder in state.ladders.items():
            for at in sorted(position[key] for key in changed):
                node = state.shape[at]
                ladder.graph.replace(
                    with_changes(node, score=state.value(state.versions[at], measure, split))
                )
                update(ladder, node.sha)
            for version, node in zip(added, state.shape[len(state.versions) - len(added) :], strict=True):
                add(ladder, with_changes(node, score=state.value(version, measure, split)))
        state.orders.clear()
        state.tables.clear()
        state.overviews.clear()


def _key(version: ScoredVersion) -> str:
    return f"{version.commit}:{version.notebook}"


def _flagged(node: Commit, version: ScoredVersion, invalidated: frozenset[int]) -> Commit:
    flags = set(node.flags)
    if version.submission_id in invalidated:
        flags.add("invalidated")
    if not node.people:
        flags.add("unattributed")
    return with_changes(node, flags=frozenset(flags)) if flags != node.flags else node


@dataclass(frozen=True)
class CreditTable:
    """Each person's credit on one measure and split (in the measure's units, a gain positive
    whichever way it sorts), with how many versions earned it."""

    challenge_id: str
    phase_id: str
    board: str | None
    measure: str
    split: Split
    direction: str
    noise_threshold: float
    credit: dict[str, float]
    versions: dict[str, int]
    total: float


def credit_table(
    sessions: Sessions,
    mirrors: Path,
    challenge_id: str,
    phase_id: str,
    board: str | None = None,
    split: Split = "public",
    *,
    measure: str | None = None,
) -> CreditTable:
    """The credit table of ``board``'s primary column (or of ``measure``), largest first."""
    state = phase_credit(sessions, mirrors, challenge_id, phase_id)
    key = measure or state.board_measure(board)
    ladder = state.ladder(key, split)
    chosen = state.measure(key)
    with state.lock:  # an update changes the ladder in place
        table = state.tables.get((key, split, board))
        if table is None:
            counted: dict[str, int] = {}
            for node in ladder.nodes.values():
                for person, amount in node.credit.items():
                    if amount:
                        counted[person] = counted.get(person, 0) + 1
            ordered = sorted(ladder.totals.items(), key=lambda pair: (-pair[1], pair[0]))
            table = CreditTable(
                challenge_id,
                state.phase.id,
                board if measure is None else None,
                key,
                split,
                chosen.direction,
                chosen.noise_threshold,
                {person: float(amount) for person, amount in ordered},
                counted,
                float(sum(ladder.totals.values(), 0)),
            )
            state.tables[(key, split, board)] = table
    return table


def credit_tables(
    sessions: Sessions, mirrors: Path, challenge_id: str, phase_id: str, split: Split = "private"
) -> dict[str, dict[str, float]]:
    """The credit table (person → credit) of every metric and board value column of the phase."""
    state = phase_credit(sessions, mirrors, challenge_id, phase_id)
    keys = [key for key in phase_measures(state.challenge, state.phase) if key not in {"time", "memory"}]
    ladders = {key: state.ladder(key, split) for key in keys}
    with state.lock:
        return {
            key: {person: float(amount) for person, amount in ladder.totals.items()}
            for key, ladder in ladders.items()
        }


def contribution_graph(
    sessions: Sessions,
    mirrors: Path,
    challenge_id: str,
    phase_id: str,
    board: str | None = None,
    split: Split = "public",
    *,
    detail: Detail = "all",
    offset: int = 0,
    limit: int = 1000,
) -> GraphPage:
    """A page of the contribution graph of ``board``'s primary column."""
    state = phase_credit(sessions, mirrors, challenge_id, phase_id)
    key = state.board_measure(board)
    return with_changes(state.page(key, split, detail, offset, limit), measure=key)


def graph_overview(
    sessions: Sessions,
    mirrors: Path,
    challenge_id: str,
    phase_id: str,
    board: str | None = None,
    split: Split = "public",
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    max_nodes: int = overview.MAX_NODES,
    buckets: int = overview.BUCKETS,
) -> tuple[str, overview.Overview]:
    """The measure of ``board``'s primary column, and its graph in a time window at its level
    of detail (:mod:`scorer.credit.overview`)."""
    state = phase_credit(sessions, mirrors, challenge_id, phase_id)
    key = state.board_measure(board)
    ladder = state.ladder(key, split)
    whole = start is None and end is None
    with state.lock:
        found = state.overviews.get((key, split, max_nodes, buckets)) if whole else None
        if found is None:
            found = overview.overview(
                ladder, state.by_key, start=start, end=end, max_nodes=max_nodes, buckets=buckets
            )
        if whole:
            state.overviews[(key, split, max_nodes, buckets)] = found
    return key, found


def credit_audit(
    sessions: Sessions,
    mirrors: Path,
    challenge_id: str,
    phase_id: str,
    board: str | None = None,
    split: Split = "public",
    *,
    samples: int = 200,
) -> tuple[str, list[AuditRow]]:
    """The measure of ``board``'s primary column, and each person's ladder credit against
    Monte-Carlo Shapley under the graph's precedence."""
    state = phase_credit(sessions, mirrors, challenge_id, phase_id)
    key = state.board_measure(board)
    ladder = state.ladder(key, split)
    with state.lock:
        return key, audit(ladder, samples=samples)
