"""A small typed client of the scorer service's JSON API, for widgets, dashboards and the CLI.

    with CoopClient("http://127.0.0.1:8765/services/coop", token=os.environ["JUPYTERHUB_API_TOKEN"]) as c:
        board = c.leaderboard("curve", "phase-1", "main")

    async with AsyncCoopClient(url, token=token) as c:  # in a kernel: never blocks it
        board = await c.send(Routes.leaderboard("curve", "phase-1", "main"))

Methods return the service's own response models (:mod:`coop_client.models`, plain pydantic
data), so the client and the service cannot drift apart. Every error is a
:class:`CoopClientError` carrying the HTTP status and the service's message. A route is
described once, in :class:`Routes`, as a :class:`Call` (method, path, query, body and how to
read the answer): :class:`CoopClient` sends calls with httpx's blocking client,
:class:`AsyncCoopClient` with its asyncio one.
"""

from __future__ import annotations

import base64
import functools
import io
import ssl
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from coop_client.errors import CoopError
from coop_client.models import (
    AuditEventOut,
    BalanceOut,
    ChallengeOut,
    ChallengeSummary,
    ContributionGraphOut,
    CredentialsIn,
    CredentialsOut,
    CreditTableOut,
    GraphOverviewOut,
    Health,
    ImportedCredentialOut,
    InvalidateIn,
    InvalidationOut,
    LeaderboardOut,
    LikeOut,
    LikesOut,
    LinkCodeOut,
    NotebookDiffOut,
    OpenPhaseIn,
    OrganiseOut,
    PeopleSearchOut,
    PhaseDatesIn,
    PhaseLimitsIn,
    ProfileIn,
    ProfileOut,
    PublishIn,
    PublishOut,
    QuotaOut,
    RescoreIn,
    RescoreOut,
    RewarderIn,
    RewarderOut,
    RewardOut,
    SettleIn,
    SettlementOut,
    SkillsOut,
    SpecChangeOut,
    SubmissionOut,
    SubmissionPageOut,
    SubmissionSummary,
    WhoAmI,
)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class CoopClientError(CoopError):
    """The service refused or failed a request; ``status`` is the HTTP status (0: unreachable)."""

    http_status = 502  # raised while serving a request: the service asked could not answer

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, f"HTTP {status}: {message}")
        self.status = status
        self.message = message

    @property
    def unavailable(self) -> bool:
        """The service is down or overloaded (worth trying again later), not refusing."""
        return self.status == 0 or self.status >= 502


#: A value of a query parameter (``None``: the parameter is left out).
QueryValue = str | int | float | bool | list[str] | None


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the service and how to read its answer (shared by both clients)."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    query: Mapping[str, QueryValue] = field(default_factory=dict)
    body: Any = None

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        query = {k: v for k, v in self.query.items() if v is not None}
        return http.build_request(self.method, self.path, params=query, json=self.body)


def _one(model: type[M]) -> Callable[[httpx.Response], M]:
    return lambda response: model.model_validate(response.json())


def _many(model: type[M]) -> Callable[[httpx.Response], list[M]]:
    adapter = TypeAdapter(list[model])  # type: ignore[valid-type]  # mypy reads a runtime alias as a type
    return lambda response: adapter.validate_python(response.json())


def _as_is(response: httpx.Response) -> httpx.Response:
    return response


def _content(response: httpx.Response) -> bytes:
    return response.content


class Routes:
    """Routes of the service as :class:`Call` s: the one place that knows their paths and shapes."""

    @staticmethod
    def health() -> Call[Health]:
        return Call("GET", "api/health", _one(Health))

    @staticmethod
    def me() -> Call[WhoAmI]:
        return Call("GET", "api/me", _one(WhoAmI))

    @staticmethod
    def challenges() -> Call[list[ChallengeSummary]]:
        return Call("GET", "api/challenges", _many(ChallengeSummary))

    @staticmethod
    def challenge(challenge_id: str) -> Call[ChallengeOut]:
        return Call("GET", f"api/challenges/{challenge_id}", _one(ChallengeOut))

    @staticmethod
    def leaderboard(
        challenge_id: str, phase_id: str, board: str, *, split: str = "public", limit: int | None = None
    ) -> Call[LeaderboardOut]:
        path = f"api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}"
        return Call("GET", path, _one(LeaderboardOut), {"split": split, "limit": limit})

    @staticmethod
    def quota(challenge_id: str, phase_id: str) -> Call[QuotaOut]:
        return Call("GET", f"api/challenges/{challenge_id}/phases/{phase_id}/quota", _one(QuotaOut))

    @staticmethod
    def phase_inputs(challenge_id: str, phase_id: str) -> Call[bytes]:
        return Call("GET", f"api/challenges/{challenge_id}/phases/{phase_id}/inputs", _content)

    @staticmethod
    def submission(submission_id: int) -> Call[SubmissionOut]:
        return Call("GET", f"api/submissions/{submission_id}", _one(SubmissionOut))

    @staticmethod
    def submissions(
        *,
        challenge: str | None = None,
        phase: str | None = None,
        person: str | None = None,
        commit: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> Call[list[SubmissionSummary]]:
        query = {
            "challenge": challenge,
            "phase": phase,
            "person": person,
            "commit": commit,
            "status": status,
            "limit": limit,
        }
        return Call("GET", "api/submissions", _many(SubmissionSummary), query)

    @staticmethod
    def resubmit(submission_id: int) -> Call[SubmissionOut]:
        """Score again the commit of a submission a limit refused (HTTP 429 while over it still)."""
        return Call("POST", f"api/submissions/{submission_id}/resubmit", _one(SubmissionOut))

    @staticmethod
    def organise(challenge_id: str) -> Call[OrganiseOut]:
        return Call("GET", f"api/challenges/{challenge_id}/organise", _one(OrganiseOut))

    @staticmethod
    def open_phase(challenge_id: str, change: OpenPhaseIn) -> Call[SpecChangeOut]:
        path = f"api/challenges/{challenge_id}/organise/open-phase"
        return Call("POST", path, _one(SpecChangeOut), body=change.model_dump(mode="json"))

    @staticmethod
    def edit_rewarder(challenge_id: str, change: RewarderIn) -> Call[SpecChangeOut]:
        path = f"api/challenges/{challenge_id}/organise/rewarder"
        return Call("POST", path, _one(SpecChangeOut), body=change.model_dump(mode="json"))

    @staticmethod
    def phase_dates(challenge_id: str, change: PhaseDatesIn) -> Call[SpecChangeOut]:
        path = f"api/challenges/{challenge_id}/organise/phase-dates"
        return Call("POST", path, _one(SpecChangeOut), body=change.model_dump(mode="json"))

    @staticmethod
    def phase_limits(challenge_id: str, change: PhaseLimitsIn) -> Call[SpecChangeOut]:
        path = f"api/challenges/{challenge_id}/organise/phase-limits"
        return Call("POST", path, _one(SpecChangeOut), body=change.model_dump(mode="json"))

    @staticmethod
    def organised() -> Call[list[ChallengeSummary]]:
        return Call("GET", "api/organise/challenges", _many(ChallengeSummary))

    @staticmethod
    def publish(change: PublishIn) -> Call[PublishOut]:
        return Call("POST", "api/organise/challenges", _one(PublishOut), body=change.model_dump(mode="json"))

    @staticmethod
    def rescore(challenge_id: str, phase_id: str) -> Call[RescoreOut]:
        path = f"api/challenges/{challenge_id}/organise/rescore"
        return Call("POST", path, _one(RescoreOut), body=RescoreIn(phase=phase_id).model_dump())

    @staticmethod
    def audit(challenge_id: str, *, limit: int = 100) -> Call[list[AuditEventOut]]:
        return Call("GET", f"api/challenges/{challenge_id}/audit", _many(AuditEventOut), {"limit": limit})

    @staticmethod
    def settle(challenge_id: str, phase_id: str) -> Call[SettlementOut]:
        path = f"api/challenges/{challenge_id}/organise/settle"
        return Call("POST", path, _one(SettlementOut), body=SettleIn(phase=phase_id).model_dump())

    @staticmethod
    def invalidate(submission_id: int, reason: str) -> Call[InvalidationOut]:
        path = f"api/organise/submissions/{submission_id}/invalidate"
        return Call("POST", path, _one(InvalidationOut), body=InvalidateIn(reason=reason).model_dump())

    # --- rewards and likes ----------------------------------------------------------------------

    @staticmethod
    def rewards(
        challenge_id: str, *, phase: str | None = None, person: str | None = None
    ) -> Call[list[RewardOut]]:
        query = {"phase": phase, "person": person}
        return Call("GET", f"api/challenges/{challenge_id}/rewards", _many(RewardOut), query)

    @staticmethod
    def balances(
        challenge_id: str, *, phase: str | None = None, person: str | None = None
    ) -> Call[list[BalanceOut]]:
        query = {"phase": phase, "person": person}
        return Call("GET", f"api/challenges/{challenge_id}/balances", _many(BalanceOut), query)

    @staticmethod
    def rewarders(challenge_id: str, phase_id: str) -> Call[list[RewarderOut]]:
        path = f"api/challenges/{challenge_id}/phases/{phase_id}/rewarders"
        return Call("GET", path, _many(RewarderOut))

    @staticmethod
    def submission_rewards(submission_id: int) -> Call[list[RewardOut]]:
        return Call("GET", f"api/submissions/{submission_id}/rewards", _many(RewardOut))

    @staticmethod
    def like_state(submission_id: int) -> Call[LikeOut]:
        """Whether the caller likes a submission, and how many people do."""
        return Call("GET", f"api/submissions/{submission_id}/like", _one(LikeOut))

    @staticmethod
    def like(submission_id: int) -> Call[LikeOut]:
        """Like a submission (liking it again changes nothing)."""
        return Call("PUT", f"api/submissions/{submission_id}/like", _one(LikeOut))

    @staticmethod
    def unlike(submission_id: int) -> Call[LikeOut]:
        """No longer like a submission (unliking it again changes nothing)."""
        return Call("DELETE", f"api/submissions/{submission_id}/like", _one(LikeOut))

    @staticmethod
    def my_likes() -> Call[LikesOut]:
        return Call("GET", "api/me/likes", _one(LikesOut))

    @staticmethod
    def credit(
        challenge_id: str, phase_id: str, *, board: str | None = None, split: str = "public"
    ) -> Call[CreditTableOut]:
        path = f"api/challenges/{challenge_id}/phases/{phase_id}/credit"
        return Call("GET", path, _one(CreditTableOut), {"board": board, "split": split})

    @staticmethod
    def contribution_graph(
        challenge_id: str,
        phase_id: str,
        *,
        board: str | None = None,
        split: str = "public",
        detail: str = "all",
        offset: int = 0,
        limit: int = 1000,
    ) -> Call[ContributionGraphOut]:
        path = f"api/challenges/{challenge_id}/phases/{phase_id}/graph"
        query = {"board": board, "split": split, "detail": detail, "offset": offset, "limit": limit}
        return Call("GET", path, _one(ContributionGraphOut), query)

    @staticmethod
    def graph_overview(
        challenge_id: str,
        phase_id: str,
        *,
        board: str | None = None,
        split: str = "public",
        start: datetime | None = None,
        end: datetime | None = None,
        max_nodes: int | None = None,
        buckets: int | None = None,
    ) -> Call[GraphOverviewOut]:
        path = f"api/challenges/{challenge_id}/phases/{phase_id}/graph/overview"
        query: dict[str, QueryValue] = {
            "board": board,
            "split": split,
            "start": None if start is None else start.isoformat(),
            "end": None if end is None else end.isoformat(),
            "max_nodes": max_nodes,
            "buckets": buckets,
        }
        return Call("GET", path, _one(GraphOverviewOut), query)

    # --- profiles --------------------------------------------------------------------------------

    @staticmethod
    def profile(person: str) -> Call[ProfileOut]:
        return Call("GET", f"api/people/{person}", _one(ProfileOut))

    @staticmethod
    def profile_submissions(person: str, *, offset: int = 0, limit: int = 100) -> Call[SubmissionPageOut]:
        query = {"offset": offset, "limit": limit}
        return Call("GET", f"api/people/{person}/submissions", _one(SubmissionPageOut), query)

    @staticmethod
    def edit_profile(change: ProfileIn) -> Call[ProfileOut]:
        return Call("PUT", "api/me/profile", _one(ProfileOut), body=change.model_dump())

    # --- people search ---------------------------------------------------------------------------

    @staticmethod
    def people(
        skills: list[str] | None = None,
        *,
        domains: list[str] | None = None,
        challenges: list[str] | None = None,
        min_percentile: float | None = None,
        since: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> Call[PeopleSearchOut]:
        """``skills`` as ``["clustering:2", "numpy"]`` (weight 1 when not given)."""
        query: dict[str, QueryValue] = {
            "skill": skills or None,
            "domain": domains or None,
            "challenge": challenges or None,
            "min_percentile": min_percentile,
            "since": since,
            "offset": offset,
            "limit": limit,
        }
        return Call("GET", "api/people", _one(PeopleSearchOut), query)

    @staticmethod
    def skills() -> Call[SkillsOut]:
        return Call("GET", "api/skills", _one(SkillsOut))

    # --- federation ------------------------------------------------------------------------------

    @staticmethod
    def jwks() -> Call[dict[str, Any]]:
        """This instance's public keys (JWKS), as other instances fetch them."""
        return Call("GET", ".well-known/jwks.json", lambda response: response.json())

    @staticmethod
    def link_code() -> Call[LinkCodeOut]:
        """A link code naming you here, for exporting your credentials from another instance."""
        return Call("POST", "api/me/link-codes", _one(LinkCodeOut))

    @staticmethod
    def export_credentials(person: str, *, link: str | None = None) -> Call[CredentialsOut]:
        """Your credentials, signed by this instance (``link``: another instance's link code)."""
        return Call("GET", f"api/people/{person}/credentials", _one(CredentialsOut), {"link": link})

    @staticmethod
    def import_credentials(credentials: list[str]) -> Call[list[ImportedCredentialOut]]:
        """Import credentials another instance exported for you: all of them, or none."""
        body = CredentialsIn(credentials=credentials).model_dump()
        return Call("POST", "api/me/credentials", _many(ImportedCredentialOut), body=body)

    @staticmethod
    def imported_credentials() -> Call[list[ImportedCredentialOut]]:
        return Call("GET", "api/me/credentials", _many(ImportedCredentialOut))


#: Left out of a published folder: git's, Python's and Jupyter's own files.
NOT_PUBLISHED = {".git", "__pycache__", ".ipynb_checkpoints"}


def folder_archive(folder: str | Path) -> str:
    """A challenge folder as :class:`PublishIn` carries it: a gzipped tar of its files (its
    root holding challenge.yaml), base64-encoded."""
    root = Path(folder).expanduser()
    if not (root / "challenge.yaml").is_file():
        raise CoopError(f"{root} holds no challenge.yaml: name the challenge's folder")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if NOT_PUBLISHED & set(relative.parts) or path.suffix == ".pyc":
                continue
            tar.add(path, arcname=relative.as_posix(), recursive=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every client of this process shares (httpx's defaults): making them takes
    ~20 ms (the CA bundle is read), which a new client each time would pay again."""
    return httpx.create_ssl_context()


def _options(base_url: str, token: str | None, timeout: float) -> dict[str, Any]:
    headers = {"Authorization": f"token {token}"} if token else {}
    return {
        "base_url": base_url.rstrip("/") + "/",
        "headers": headers,
        "timeout": timeout,
        "verify": tls_context(),
    }


def _unreachable(exc: httpx.HTTPError) -> CoopClientError:
    return CoopClientError(0, f"the scorer service cannot be reached: {exc}")


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise CoopClientError(response.status_code, _message(response))
    return response


class CoopClient:
    """One method per route of the service at ``base_url`` (its prefix included)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(**_options(base_url, token, timeout), transport=transport)

    def __enter__(self) -> CoopClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Make one call and read its answer."""
        try:
            response = self._http.send(call.request(self._http))
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None
        return call.read(_checked(response))

    # --- routes --------------------------------------------------------------------------------

    def health(self) -> Health:
        return self.send(Routes.health())

    def me(self) -> WhoAmI:
        return self.send(Routes.me())

    def challenges(self) -> list[ChallengeSummary]:
        return self.send(Routes.challenges())

    def challenge(self, challenge_id: str) -> ChallengeOut:
        return self.send(Routes.challenge(challenge_id))

    def leaderboard(
        self, challenge_id: str, phase_id: str, board: str, *, split: str = "public", limit: int | None = None
    ) -> LeaderboardOut:
        """A ranked board; ``limit``: only its first rows (``total`` counts them all)."""
        return self.send(Routes.leaderboard(challenge_id, phase_id, board, split=split, limit=limit))

    def quota(self, challenge_id: str, phase_id: str) -> QuotaOut:
        """What the phase's submission limits leave the caller, and when the next slot opens."""
        return self.send(Routes.quota(challenge_id, phase_id))

    def phase_inputs(self, challenge_id: str, phase_id: str) -> bytes:
        """The phase's inputs as a gzipped tar (``tarfile.open(fileobj=io.BytesIO(...))`` reads it)."""
        return self.send(Routes.phase_inputs(challenge_id, phase_id))

    def submission(self, submission_id: int) -> SubmissionOut:
        return self.send(Routes.submission(submission_id))

    def submissions(
        self,
        *,
        challenge: str | None = None,
        phase: str | None = None,
        person: str | None = None,
        commit: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[SubmissionSummary]:
        return self.send(
            Routes.submissions(
                challenge=challenge, phase=phase, person=person, commit=commit, status=status, limit=limit
            )
        )

    def resubmit(self, submission_id: int) -> SubmissionOut:
        """The new submission of a refused one's commit, once the limits allow it."""
        return self.send(Routes.resubmit(submission_id))

    def notebook(self, submission_id: int) -> dict[str, Any]:
        """The executed notebook as scored (nbformat 4 JSON; ``nbformat.from_dict`` reads it)."""
        return self._get(f"api/submissions/{submission_id}/notebook")

    def notebook_html(self, submission_id: int) -> str:
        """The executed notebook as a static HTML page (nothing in it runs)."""
        return self._response(f"api/submissions/{submission_id}/notebook.html").text

    def diff(self, submission_id: int, *, full: bool = False) -> NotebookDiffOut:
        """nbdime's diff of the submission's notebook from the version it continues (``full``:
        execution counts and metadata too)."""
        return NotebookDiffOut.model_validate(self._get(f"api/submissions/{submission_id}/diff", full=full))

    def diff_html(self, submission_id: int, *, full: bool = False) -> str:
        """The same diff drawn as a static HTML page."""
        return self._response(f"api/submissions/{submission_id}/diff.html", full=full).text

    # --- organisers ---------------------------------------------------------------------------

    def organise(self, challenge_id: str) -> OrganiseOut:
        """The spec on the organiser ref and that commit (the ``base`` of a change)."""
        return self.send(Routes.organise(challenge_id))

    def open_phase(self, challenge_id: str, change: OpenPhaseIn) -> SpecChangeOut:
        return self.send(Routes.open_phase(challenge_id, change))

    def edit_rewarder(self, challenge_id: str, change: RewarderIn) -> SpecChangeOut:
        return self.send(Routes.edit_rewarder(challenge_id, change))

    def phase_dates(self, challenge_id: str, change: PhaseDatesIn) -> SpecChangeOut:
        """Schedule a phase: start, end (``"now"`` ends it), when private scores show."""
        return self.send(Routes.phase_dates(challenge_id, change))

    def phase_limits(self, challenge_id: str, change: PhaseLimitsIn) -> SpecChangeOut:
        return self.send(Routes.phase_limits(challenge_id, change))

    def organised(self) -> list[ChallengeSummary]:
        """The challenges the caller can organise here."""
        return self.send(Routes.organised())

    def publish(self, change: PublishIn) -> PublishOut:
        """Publish a challenge folder (:func:`folder_archive`) as a new challenge."""
        return self.send(Routes.publish(change))

    def rescore(self, challenge_id: str, phase_id: str) -> RescoreOut:
        return self.send(Routes.rescore(challenge_id, phase_id))

    def audit(self, challenge_id: str, *, limit: int = 100) -> list[AuditEventOut]:
        return self.send(Routes.audit(challenge_id, limit=limit))

    def settle(self, challenge_id: str, phase_id: str) -> SettlementOut:
        """Settle a phase once on private scores (an open one too: final at that moment)."""
        return self.send(Routes.settle(challenge_id, phase_id))

    def invalidate(self, submission_id: int, reason: str) -> InvalidationOut:
        """Take a submission found to be an exploit off the boards and take back its rewards."""
        return self.send(Routes.invalidate(submission_id, reason))

    # --- rewards and likes ----------------------------------------------------------------------

    def rewards(
        self, challenge_id: str, *, phase: str | None = None, person: str | None = None
    ) -> list[RewardOut]:
        """Grants and compensations, oldest first (of one phase, of one person)."""
        return self.send(Routes.rewards(challenge_id, phase=phase, person=person))

    def balances(
        self, challenge_id: str, *, phase: str | None = None, person: str | None = None
    ) -> list[BalanceOut]:
        return self.send(Routes.balances(challenge_id, phase=phase, person=person))

    def rewarders(self, challenge_id: str, phase_id: str) -> list[RewarderOut]:
        """The phase's rewarders in words."""
        return self.send(Routes.rewarders(challenge_id, phase_id))

    def submission_rewards(self, submission_id: int) -> list[RewardOut]:
        return self.send(Routes.submission_rewards(submission_id))

    def like_state(self, submission_id: int) -> LikeOut:
        return self.send(Routes.like_state(submission_id))

    def like(self, submission_id: int) -> LikeOut:
        return self.send(Routes.like(submission_id))

    def unlike(self, submission_id: int) -> LikeOut:
        return self.send(Routes.unlike(submission_id))

    def my_likes(self) -> LikesOut:
        return self.send(Routes.my_likes())

    # --- credit --------------------------------------------------------------------------------

    def credit(
        self, challenge_id: str, phase_id: str, *, board: str | None = None, split: str = "public"
    ) -> CreditTableOut:
        """Each person's credit on a board's primary column (the phase's first board by default)."""
        return self.send(Routes.credit(challenge_id, phase_id, board=board, split=split))

    def contribution_graph(
        self,
        challenge_id: str,
        phase_id: str,
        *,
        board: str | None = None,
        split: str = "public",
        detail: str = "all",
        offset: int = 0,
        limit: int = 1000,
    ) -> ContributionGraphOut:
        """One page of the phase's contribution graph (``detail="steps"``: only versions that
        moved the ladder, merges and copies)."""
        call = Routes.contribution_graph(
            challenge_id, phase_id, board=board, split=split, detail=detail, offset=offset, limit=limit
        )
        return self.send(call)

    def graph_overview(
        self,
        challenge_id: str,
        phase_id: str,
        *,
        board: str | None = None,
        split: str = "public",
        start: datetime | None = None,
        end: datetime | None = None,
        max_nodes: int | None = None,
        buckets: int | None = None,
    ) -> GraphOverviewOut:
        """The contribution graph in a time window (default: the whole phase) at its level of
        detail: each version when few enough are in it, else groups by person and time bucket."""
        call = Routes.graph_overview(
            challenge_id,
            phase_id,
            board=board,
            split=split,
            start=start,
            end=end,
            max_nodes=max_nodes,
            buckets=buckets,
        )
        return self.send(call)

    # --- profiles ------------------------------------------------------------------------------

    def profile(self, person: str) -> ProfileOut:
        """A person's profile (404 when they hide it, unless it is yours or you organise)."""
        return self.send(Routes.profile(person))

    def profile_submissions(self, person: str, *, offset: int = 0, limit: int = 100) -> SubmissionPageOut:
        return self.send(Routes.profile_submissions(person, offset=offset, limit=limit))

    def edit_profile(self, change: ProfileIn) -> ProfileOut:
        """Replace what your profile says about you."""
        return self.send(Routes.edit_profile(change))

    def people(self, skills: list[str] | None = None, **filters: Any) -> PeopleSearchOut:
        """People ranked by weighted skills (``["clustering:2", "numpy"]``), each row explained."""
        return self.send(Routes.people(skills, **filters))

    def skills(self) -> SkillsOut:
        """The skill table and how many people have each skill."""
        return self.send(Routes.skills())

    # --- federation ----------------------------------------------------------------------------

    def link_code(self) -> LinkCodeOut:
        return self.send(Routes.link_code())

    def export_credentials(self, person: str, *, link: str | None = None) -> CredentialsOut:
        return self.send(Routes.export_credentials(person, link=link))

    def import_credentials(self, credentials: list[str]) -> list[ImportedCredentialOut]:
        return self.send(Routes.import_credentials(credentials))

    def imported_credentials(self) -> list[ImportedCredentialOut]:
        return self.send(Routes.imported_credentials())

    # --- plumbing ------------------------------------------------------------------------------

    def _get(self, path: str, **params: QueryValue) -> Any:
        return self._response(path, **params).json()

    def _response(self, path: str, **params: QueryValue) -> httpx.Response:
        return self.send(Call("GET", path, _as_is, dict(params)))


class AsyncCoopClient:
    """The asyncio twin of :class:`CoopClient`: ``await client.send(Routes.<route>(...))``."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(**_options(base_url, token, timeout), transport=transport)

    async def __aenter__(self) -> AsyncCoopClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
        """Make one call and read its answer."""
        try:
            response = await self._http.send(call.request(self._http))
        except httpx.HTTPError as exc:
            raise _unreachable(exc) from None
        return call.read(_checked(response))


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return str(body)[:300]
