"""One facade over the scorer, shared by the CLI and the HTTP service (widgets and dashboards
reach it through the service, with :mod:`coop_client`).

It owns the settings, the database and the executor; handlers stay thin.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from scorer.challenge.load import SPEC_FILE, load_spec, parse_spec
from scorer.challenge.organiser_tree import organiser_tree
from scorer.challenge.phase_data import PhaseData, prepare_phase_data
from scorer.challenge.spec import Challenge
from scorer.config import ScorerSettings
from scorer.credit import overview
from scorer.credit import phase as credit
from scorer.credit.audit import AuditRow
from scorer.credit.contribution import Detail, GraphPage
from scorer.credit.phase import CreditTable
from scorer.environments.phases import PhaseEnvironment, prepare_environments
from scorer.environments.store import Collected, collect
from scorer.exceptions import CoopError
from scorer.ingest.forges import FORGES
from scorer.ingest.repo import ChallengeRepo
from scorer.ledger import queries, store
from scorer.ledger.db import Sessions, make_engine, session_factory, upgrade
from scorer.ledger.entries import touch
from scorer.ledger.likes import LikeState, like_counts, set_like
from scorer.ledger.people import PeopleIndex
from scorer.ledger.queries import LeaderboardView
from scorer.profiles.search import Query, Results, search
from scorer.profiles.skills import SkillIndex, merged_table
from scorer.registry import Registry
from scorer.rewards.granting import grant_on_like
from scorer.scoring.sandbox.choose import runner_for

log = logging.getLogger("coop")

if TYPE_CHECKING:  # Dask takes ~0.5 s to import: only where submissions are dispatched
    from scorer.dispatch.dispatcher import Finished
    from scorer.dispatch.executors import Executor


@dataclass(frozen=True)
class Prepared:
    data: list[PhaseData]
    environments: list[PhaseEnvironment]


@dataclass(frozen=True)
class Queued:
    submission_id: int
    notebook: str
    username: str


class CoopAPI:
    def __init__(self, settings: ScorerSettings, *, migrate: bool = True) -> None:
        self.settings = settings
        settings.home_path.mkdir(parents=True, exist_ok=True)
        settings.home_path.chmod(0o700)
        if migrate:
            upgrade(settings.db_url)
        self.engine = make_engine(settings.db_url)
        self.sessions: Sessions = session_factory(self.engine)
        self._executor: Executor | None = None
        self.forges = Registry("forge", FORGES)
        self.people = PeopleIndex(merged_table(settings.skill_table))

    # --- challenges ------------------------------------------------------------------------

    def register(self, repo_source: str) -> tuple[Challenge, ChallengeRepo, Path]:
        """Read the challenge from the organiser's ref of ``repo_source`` and store it."""
        repo = ChallengeRepo.mirror(repo_source, self.settings.mirrors)
        default_ref = repo.default_branch()
        spec_text = repo.read(default_ref, SPEC_FILE)  # ref first: which challenge is this?
        draft = parse_spec(spec_text.decode("utf-8"), f"{repo_source}:{SPEC_FILE}")
        sha = repo.resolve(draft.organiser.ref)
        tree = organiser_tree(self.settings, repo, draft.id, sha)
        challenge = load_spec(tree)
        with self.sessions.begin() as session:
            store.upsert_challenge(session, challenge, _canonical(repo_source))
        return challenge, repo, tree

    def prepare(
        self,
        repo_source: str,
        *,
        phases: Iterable[str] = (),
        seed: int | None = None,
        force: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> Prepared:
        """Each phase's software environment (built once, checked first: a failure changes
        nothing), then its inputs and hidden answer key."""
        challenge, _repo, tree = self.register(repo_source)
        wanted = list(phases) or [p.id for p in challenge.phases]
        environments = prepare_environments(self.settings, challenge, tree, wanted, progress)
        data = [
            prepare_phase_data(
                challenge, challenge.phase(p), tree, self.settings.data_root, seed=seed, force=force
            )
            for p in wanted
        ]
        return Prepared(data, environments)

    def challenge(self, challenge_id: str) -> Challenge:
        with self.sessions() as session:
            return queries.load_challenge(session, challenge_id)

    def collect_environments(self, *, dry_run: bool = False) -> list[Collected]:
        """Remove the environments no phase of a challenge in the ledger uses and no run holds."""
        with self.sessions() as session:
            known = set(queries.challenge_ids(session))
        return collect(self.settings, known, dry_run=dry_run)

    # --- submissions -----------------------------------------------------------------------

    def enqueue_commit(
        self,
        repo_source: str,
        commit: str,
        *,
        phase_id: str | None = None,
        username: str | None = None,
        now: datetime | None = None,
    ) -> list[Queued]:
        """Queue one submission per solution notebook the commit adds or changes."""
        challenge, repo, _tree = self.register(repo_source)
        runner_for(self.settings, challenge)  # refuse now, clearly, rather than in every task
        sha = repo.resolve(commit)
        phase = challenge.phase(phase_id) if phase_id else challenge.current_phase(now or datetime.now(UTC))
        if phase is None:
            raise CoopError("no phase of this challenge is open now: name one with --phase")
        changed = repo.changed_notebooks(sha, challenge.solutions)
        if not changed:
            raise CoopError(
                f"commit {sha[:12]} adds or changes no solution notebook "
                f"(under {challenge.solutions.path}/, matching {challenge.solutions.pattern})"
            )
        queued = []
        with self.sessions.begin() as session:
            for notebook in changed:
                who = username or notebook.owner or _author_login(repo, sha)
                row = store.enqueue(
                    session,
                    challenge_id=challenge.id,
                    phase_id=phase.id,
                    commit_sha=sha,
                    notebook_path=notebook.path,
                    username=who,
                    parameters=dict(phase.parameters),
                )
                queued.append(Queued(row.id, notebook.path, who))
        return queued

    def rescore(self, challenge_id: str, phase_id: str) -> list[int]:
        """Queue a new run of every finished submission of a phase (after a data or metric fix)."""
        with self.sessions.begin() as session:
            originals = queries.submissions(session, challenge_id=challenge_id, phase_id=phase_id, limit=None)
            latest = {}
            for view in sorted(originals, key=lambda v: v.id):
                if view.status in {"scored", "failed"}:
                    latest[view.rescore_of or view.id] = view
            ids = []
            for view in latest.values():
                row = store.enqueue(
                    session,
                    challenge_id=challenge_id,
                    phase_id=phase_id,
                    commit_sha=view.commit_sha,
                    notebook_path=view.notebook_path,
                    username=view.username,
                    parameters=view.parameters,
                    rescore_of=view.id,
                )
                ids.append(row.id)
        return ids

    def run(
        self, submission_ids: Iterable[int], on_done: Callable[[Finished], None] | None = None
    ) -> list[Finished]:
        """Score these submissions and wait: through Dask, or in this process, one after another,
        when the executor is the local one and a cluster would not run them side by side
        (:meth:`LocalClusterExecutor.worth_a_cluster`)."""
        from scorer.dispatch.dispatcher import Dispatcher, run_here
        from scorer.dispatch.executors import LocalClusterExecutor

        ids = list(submission_ids)
        executor = self.executor()
        if isinstance(executor, LocalClusterExecutor) and not executor.worth_a_cluster(len(ids)):
            return run_here(self.settings, self.sessions, ids, on_done)
        dispatcher = Dispatcher(self.settings, self.sessions, executor.client())
        return dispatcher.wait(dispatcher.dispatch(ids), on_done)

    def recover(self, on_done: Callable[[Finished], None] | None = None) -> list[Finished]:
        """Run again what a previous run left queued or running (as :meth:`run`)."""
        with self.sessions.begin() as session:
            orphans = store.requeue_orphans(session)
        return self.run(orphans, on_done)

    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = self.settings.executor(self.settings)
        return self._executor

    # --- reading ---------------------------------------------------------------------------

    def submission(
        self, submission_id: int, *, organiser: bool = False, now: datetime | None = None
    ) -> tuple[queries.SubmissionView, queries.SubmissionScores]:
        """A submission and its scores; private ones only where the viewer may see them."""
        moment = now or datetime.now(UTC)
        with self.sessions() as session:
            view = queries.submission(session, submission_id)
            phase = queries.load_challenge(session, view.challenge_id).phase(view.phase_id)
            private = queries.private_scores_visible(phase, now=moment, viewer_is_organiser=organiser)
            scores = queries.scores(
                session, submission_id, include_private=private, viewer_is_organiser=organiser, now=moment
            )
        return view, scores

    def leaderboard(
        self,
        challenge_id: str,
        *,
        phase_id: str | None = None,
        board: str | None = None,
        private: bool = False,
        organiser: bool = False,
        now: datetime | None = None,
    ) -> LeaderboardView:
        moment = now or datetime.now(UTC)
        with self.sessions() as session:
            challenge = queries.load_challenge(session, challenge_id)
            phase = challenge.phase(phase_id) if phase_id else challenge.current_phase(moment)
            if phase is None:
                phase = max(challenge.phases, key=lambda p: p.start)
            boards = challenge.phase_leaderboards(phase)
            key = board or boards[0].key
            return queries.leaderboard(
                session,
                challenge,
                phase.id,
                key,
                split="private" if private else "public",
                viewer_is_organiser=organiser,
                now=moment,
            )

    # --- likes -------------------------------------------------------------------------------

    def like(self, submission_id: int, username: str, liked: bool = True) -> LikeState:
        """``username`` likes (or no longer likes) a submission; its phase's boards show it at
        once, and its peer-likes rewarders judge it again apart: the like stands whatever a
        rewarder does."""
        with self.sessions.begin() as session:
            state = set_like(session, submission_id, username, liked)
            view = queries.submission(session, submission_id)
            touch(session, view.challenge_id, view.phase_id)
        try:
            with self.sessions.begin() as session:
                grant_on_like(session, submission_id)
        except Exception:
            log.exception("granting after a like of submission %s failed", submission_id)
        return state

    # --- credit ------------------------------------------------------------------------------

    def credit_table(
        self,
        challenge_id: str,
        phase_id: str,
        board: str | None = None,
        split: Literal["public", "private"] = "public",
        *,
        organiser: bool = False,
        now: datetime | None = None,
    ) -> CreditTable:
        """Each person's credit on ``board``'s primary column (the phase's first board by
        default); the private split only where the viewer may see private scores."""
        self._check_split(challenge_id, phase_id, split, organiser, now)
        return credit.credit_table(self.sessions, self.settings.mirrors, challenge_id, phase_id, board, split)

    def credit_tables(
        self, challenge_id: str, phase_id: str, split: Literal["public", "private"] = "private"
    ) -> dict[str, dict[str, float]]:
        """Every measure's credit table (measure key → person → credit), as settlement reads it."""
        return credit.credit_tables(self.sessions, self.settings.mirrors, challenge_id, phase_id, split)

    def contribution_graph(
        self,
        challenge_id: str,
        phase_id: str,
        board: str | None = None,
        split: Literal["public", "private"] = "public",
        *,
        detail: Detail = "all",
        offset: int = 0,
        limit: int = 1000,
        organiser: bool = False,
        now: datetime | None = None,
    ) -> GraphPage:
        """A page of the phase's contribution graph on ``board``'s primary column, with likes."""
        self._check_split(challenge_id, phase_id, split, organiser, now)
        page = credit.contribution_graph(
            self.sessions,
            self.settings.mirrors,
            challenge_id,
            phase_id,
            board,
            split,
            detail=detail,
            offset=offset,
            limit=limit,
        )
        with self.sessions() as session:
            likes = like_counts(session, [node.version.submission_id for node in page.nodes])
        return replace(page, likes=likes)

    def graph_overview(
        self,
        challenge_id: str,
        phase_id: str,
        board: str | None = None,
        split: Literal["public", "private"] = "public",
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        max_nodes: int = overview.MAX_NODES,
        buckets: int = overview.BUCKETS,
        organiser: bool = False,
        now: datetime | None = None,
    ) -> tuple[str, overview.Overview]:
        """The phase's contribution graph in a time window at its level of detail, with likes."""
        self._check_split(challenge_id, phase_id, split, organiser, now)
        key, found = credit.graph_overview(
            self.sessions,
            self.settings.mirrors,
            challenge_id,
            phase_id,
            board,
            split,
            start=start,
            end=end,
            max_nodes=max_nodes,
            buckets=buckets,
        )
        if found.page is None:
            return key, found
        with self.sessions() as session:
            likes = like_counts(session, [node.version.submission_id for node in found.page.nodes])
        return key, replace(found, page=replace(found.page, likes=likes))

    def credit_audit(
        self,
        challenge_id: str,
        phase_id: str,
        board: str | None = None,
        split: Literal["public", "private"] = "public",
        *,
        samples: int = 200,
    ) -> tuple[str, list[AuditRow]]:
        """Each person's ladder credit against sampled Shapley values under precedence."""
        return credit.credit_audit(
            self.sessions, self.settings.mirrors, challenge_id, phase_id, board, split, samples=samples
        )

    # --- people -----------------------------------------------------------------------------

    def skill_index(self, *, now: datetime | None = None) -> SkillIndex:
        """Everyone's skills with evidence (hidden profiles left out), kept per ledger state."""
        with self.sessions() as session:
            return self.people.index(session, now=now or datetime.now(UTC))

    def search_people(self, query: Query, *, now: datetime | None = None) -> Results:
        """People ranked by the query's weighted skills, each row with its explanation."""
        return search(self.skill_index(now=now), query)

    def _check_split(
        self, challenge_id: str, phase_id: str, split: str, organiser: bool, now: datetime | None
    ) -> None:
        if split == "private":
            phase = queries.phase_of(self.challenge(challenge_id), phase_id)
            queries.require_private_visible(
                phase, now=now or datetime.now(UTC), viewer_is_organiser=organiser
            )

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            self._executor = None
        self.engine.dispose()


def _canonical(source: str) -> str:
    local = Path(source).expanduser()
    return str(local.resolve()) if local.exists() else source


def _author_login(repo: ChallengeRepo, sha: str) -> str:
    _name, email = repo.author(sha)
    return email.partition("@")[0] or getpass.getuser()
