"""The JSON API's contract: the service's response and request models, plain pydantic data.

Shared by the scorer service (which builds them from the ledger in :mod:`scorer.service.convert`),
the typed client (:mod:`coop_client.client`), the widgets and the dashboards. Only pydantic and
the standard library here: a participant's kernel imports this module cheaply.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: What a challenge id looks like (a path segment of the API and of its git URLs).
SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"

#: The tag of a notebook's parameters cell: the scorer injects the phase's parameters after it,
#: and the phase's inputs are put where that cell points.
PARAMETERS_TAG = "parameters"


class SubmissionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SCORED = "scored"
    FAILED = "failed"
    REJECTED = "rejected"


#: States a submission never leaves.
FINISHED = (SubmissionStatus.SCORED, SubmissionStatus.FAILED, SubmissionStatus.REJECTED)


class ErrorOut(BaseModel):
    error: str  # what to show a person
    code: str  # a short reason code for programs, e.g. ``unknown-challenge``


class Health(BaseModel):
    status: str
    version: str


class WhoAmI(BaseModel):
    name: str
    kind: str
    scopes: list[str]
    groups: list[str]
    organiser: bool


class ActivityOut(BaseModel):
    """How much a challenge is used: its participants' own submissions (not rescores or
    reproduction runs, not the baseline's runner)."""

    participants: int
    submissions: int
    last_at: datetime | None = Field(description="When the latest one was made (null: none yet).")


class ChallengeSummary(BaseModel):
    id: str
    title: str
    current_phase: str | None
    activity: ActivityOut | None = Field(None, description="In the list of challenges only.")


class MetricOut(BaseModel):
    key: str
    label: str
    direction: str
    precision: int
    description: str


class LimitsOut(BaseModel):
    """A phase's submission limits (``null``: no such limit)."""

    per_day: int | None
    per_person: int | None
    min_interval: float | None


class RunLimitsOut(BaseModel):
    """What each run of a phase may use (it never has a network)."""

    wall_time: float = Field(description="Seconds for the whole run.")
    cell_time: float = Field(description="Seconds for any single cell.")
    memory: int = Field(description="Bytes of peak memory.")
    output: int = Field(description="Bytes of cell output kept.")
    disk: int = Field(description="Bytes of files the run may write.")


class PhaseOut(BaseModel):
    id: str
    title: str
    description: str
    start: datetime
    end: datetime | None
    open: bool
    leaderboards: list[str]
    private_visible_at: datetime | None
    submissions: LimitsOut
    run_limits: RunLimitsOut | None = None
    public_fraction: float | None = Field(None, description="The share of the test set public scores use.")
    open_code: bool | datetime | None = Field(
        None, description="Solutions visible to everyone: always, never, or from a time."
    )


class QuotaOut(BaseModel):
    """What the phase's submission limits leave the caller, as push-to-score counts them (not
    rejected submissions, not the organisers' rescores), at the time ``at``."""

    challenge: str
    phase: str
    person: str
    at: datetime
    limits: LimitsOut
    left_today: int | None = Field(description="Submissions left this UTC day (null: no daily limit).")
    left_in_phase: int | None = Field(description="Submissions left in the phase (null: no such limit).")
    next_slot: datetime | None = Field(
        description="When the next submission would be scored: `at` when one is free now; null when "
        "none is left in this phase."
    )
    blocked_by: str | None = Field(
        description="The code of the limit a submission made now would hit (null: none)."
    )
    reason: str | None = Field(description="That limit, as a participant reads it.")
    reached: str | None = Field(
        default=None,
        description="That limit without its next slot (e.g. 'at most one submission every 1 h'), for "
        "pages that show the slot in the reader's own time zone.",
    )


class BoardSummary(BaseModel):
    key: str
    title: str
    primary: str


class ChallengeOut(ChallengeSummary):
    description: str
    domain: list[str]
    skills: list[str]
    metrics: list[MetricOut]
    leaderboards: list[BoardSummary]
    phases: list[PhaseOut]


class ColumnOut(BaseModel):
    key: str
    label: str
    precision: int
    sorting: str
    computation: str | None = Field(
        None, description='How a computed column is computed, e.g. "average rank of a, b" (null: a metric).'
    )


class RowOut(BaseModel):
    rank: int
    person: str
    submission: int
    submitted_at: datetime
    values: dict[str, float | None]
    rank_change: int | None = None
    likes: int = Field(0, description="How many people like this row's submission now.")


class LeaderboardOut(BaseModel):
    challenge: str
    phase: str
    leaderboard: str
    title: str
    split: str
    primary: str
    columns: list[ColumnOut]
    rows: list[RowOut]
    tie_break: list[str] = Field(
        default_factory=list, description="Columns breaking ties in order; then the earlier submission."
    )
    select: str | None = Field(None, description="Which submission stands for a person: best or last.")
    total: int | None = Field(
        None, description="How many rows the board has (`rows` may hold the first only)."
    )


class SubmissionSummary(BaseModel):
    id: int
    challenge: str
    phase: str
    commit: str
    notebook: str
    person: str
    status: SubmissionStatus
    failure_class: str | None
    reason: str | None
    created_at: datetime
    finished_at: datetime | None
    rescore_of: int | None


class SubmissionOut(SubmissionSummary):
    attempts: int
    started_at: datetime | None
    run_time: float | None
    peak_memory_mib: float | None
    public: dict[str, float | None]
    private: dict[str, float | None] | None
    provenance: dict[str, Any] | None = None
    challenge_environment: str | None = Field(
        None,
        description="SHA-256 of the challenge environment the kernel ran in (its requirements, Python "
        "and platform pins); null when the phase declares none and the platform's own Python ran it.",
    )


class DiffEntryOut(BaseModel):
    """One entry of an nbdime diff, in nbdime's own diff format: ``op`` applied at ``key`` (a field
    of a mapping, or a position in a sequence: cells, outputs, source lines, characters of a
    line). An entry carries only what its ``op`` needs: ``value`` (add, replace), ``valuelist``
    (addrange: a list, or a string of characters), ``length`` (removerange), ``diff`` (patch)."""

    op: Literal["add", "remove", "replace", "addrange", "removerange", "patch"]
    key: int | str
    value: Any = None
    valuelist: Any = None
    length: int | None = None
    diff: list[DiffEntryOut] | None = None


class NotebookDiffOut(BaseModel):
    """A submission's notebook compared (nbdime) with the version it continues: its own at the
    first parent of the submission's commit, else the notebook it was built on or copied from;
    ``model_dump(exclude_unset=True)["diff"]`` is nbdime's diff."""

    submission: int
    notebook: str = Field(description="Path of the notebook in the challenge repository.")
    commit: str = Field(description="The submission's commit.")
    parent: str | None = Field(description="The commit's first parent (null for a root commit).")
    base: Literal["parent", "built-on", "copy", "empty"] = Field(
        description="`parent`: the diff is from the parent's version of the notebook; `built-on`: from "
        "the notebook it was built on (its `coop.lineage` metadata, an ancestor commit); `copy`: from the "
        "notebook git finds it was copied from; `empty`: the notebook is new in this commit (or the "
        "commit is a root), so the diff is from an empty notebook."
    )
    base_commit: str | None = Field(None, description="The commit of the base version (null: empty).")
    base_notebook: str | None = Field(None, description="The path of the base version (null: empty).")
    full: bool = Field(
        False,
        description="Whether every change is shown; by default execution counts, cell ids and "
        "metadata other than cell tags are left out (`?full=true` shows them).",
    )
    diff: list[DiffEntryOut] = Field(description="nbdime's diff from the base to the submission's notebook.")


# --- organisers ----------------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenPhaseIn(_Request):
    phase: str | None = Field(None, description="The phase to open; by default the next one to start.")
    close_current: bool = Field(False, description="Also end the phase open until now.")
    base: str | None = Field(None, description="The organiser commit the change was reviewed against.")
    dry_run: bool = Field(False, description="Only show what would change.")


class RewarderIn(_Request):
    phase: str
    index: int = Field(ge=0, description="Which of the phase's rewarders (from 0).")
    rewarder: dict[str, Any] = Field(description="Its new fields, as in challenge.yaml.")
    base: str | None = Field(None, description="The organiser commit the change was reviewed against.")
    dry_run: bool = Field(False, description="Only show what would change.")


class RescoreIn(_Request):
    phase: str


class PhaseDatesIn(_Request):
    """A phase's schedule; a field left out (null) stays as it is."""

    phase: str
    start: datetime | Literal["now"] | None = Field(None, description="When it opens (`now`: now).")
    end: datetime | Literal["now"] | None = Field(
        None, description="When it ends (`now`: end it now; private scores shown at the end appear)."
    )
    open_ended: bool = Field(False, description="Remove its end.")
    private_visible: datetime | Literal["end", "never", "now"] | None = Field(
        None, description="When private scores become visible to everyone: end, never, now or a time."
    )
    base: str | None = Field(None, description="The organiser commit the change was reviewed against.")
    dry_run: bool = Field(False, description="Only show what would change.")


class PhaseLimitsIn(_Request):
    """A phase's run limits and submission limits, each replaced whole (null: unchanged)."""

    phase: str
    limits: dict[str, Any] | None = Field(None, description="Run limits as in challenge.yaml.")
    submissions: dict[str, Any] | None = Field(None, description="Submission limits as in challenge.yaml.")
    base: str | None = Field(None, description="The organiser commit the change was reviewed against.")
    dry_run: bool = Field(False, description="Only show what would change.")


class PublishIn(_Request):
    """A challenge folder to publish as a new challenge."""

    archive: str = Field(
        description="The folder as a gzipped tar, base64-encoded; challenge.yaml at its root."
    )
    dry_run: bool = Field(False, description="Only check it and say what would be published.")


class PublishOut(BaseModel):
    challenge: str
    title: str
    phases: list[str]
    files: list[str]
    applied: bool
    commit: str | None
    audit: int | None


class OrganiseOut(BaseModel):
    """A challenge as its organisers edit it: the spec on the organiser ref, and that commit."""

    challenge: str
    ref: str
    base: str
    spec: dict[str, Any]
    written: dict[str, Any] = Field(
        default_factory=dict, description="The same spec as challenge.yaml writes it (no defaults filled in)."
    )


class SpecChangeOut(BaseModel):
    """A change to challenge.yaml: applied (a new organiser commit), or a dry run's preview."""

    challenge: str
    action: str
    applied: bool
    base: str
    commit: str | None
    diff: str
    before: dict[str, Any]
    after: dict[str, Any]
    audit: int | None


class RescoreOut(BaseModel):
    challenge: str
    phase: str
    queued: list[int]
    audit: int


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor: str
    challenge: str
    action: str
    detail: dict[str, Any]


class SettleIn(_Request):
    phase: str = Field(description="The phase to settle (an open one too: final at that moment).")


class SettlementFailureOut(BaseModel):
    rewarder: int = Field(description="The rewarder's index in the phase.")
    type: str
    error: str


class SettlementOut(BaseModel):
    """A phase settled once: its settlement rewarders judged on private scores."""

    id: int
    challenge: str
    phase: str
    at: datetime
    actor: str = Field(description="The organiser, or `coop (phase ended)` when it settled on its own.")
    grants: int = Field(description="Settlement grants recorded.")
    people: int = Field(description="People who received them.")
    totals: dict[str, float] = Field(description="What was granted per unit.")
    failures: list[SettlementFailureOut] = Field(description="Rewarders that raised instead of deciding.")
    phase_ended: bool = Field(description="Whether the phase had ended when it was settled.")
    credit: list[str] = Field(description="The measures whose credit tables the rewarders saw.")


class InvalidateIn(_Request):
    reason: str = Field(description="Why the submission is invalid (kept in the audit trail).")


class InvalidationOut(BaseModel):
    """A submission invalidated once: off the leaderboards, its rewards compensated."""

    submission: int
    challenge: str
    phase: str
    person: str
    at: datetime
    actor: str
    reason: str
    compensated: list[int] = Field(description="The compensation rows that took its rewards back.")
    audit: int


# --- rewards and likes ------------------------------------------------------------------------


class RewardOut(BaseModel):
    """One row of the reward ledger: a grant, or a compensation that takes one back (its
    ``amount`` negated). Amounts are exact to a millionth."""

    id: int
    kind: Literal["grant", "compensation"]
    compensates: int | None = Field(None, description="The grant a compensation offsets.")
    at: datetime
    challenge: str
    phase: str
    person: str
    rewarder: str = Field(description="The rewarder's type, e.g. score-threshold.")
    rewarder_index: int = Field(description="The rewarder's place in its phase's `rewarders:`.")
    moment: Literal["live", "settlement"]
    amount: float
    unit: str
    submission: int | None
    commit: str | None
    rule: str | None = Field(None, description='The rule that fired, e.g. "accuracy ≥ 0.9".')
    reason: str | None = Field(
        None, description="Why a compensation took the grant back: rescore, invalidated, rewarder_edited."
    )
    evidence: dict[str, Any] = Field(description="Why, as recorded (metric values, the rule).")
    evidence_hidden: bool = Field(
        False, description="Private values left out until the phase shows its private scores."
    )


class BalanceOut(BaseModel):
    """A person's sum of grants and compensations in one unit."""

    person: str
    unit: str
    amount: float


class RewarderOut(BaseModel):
    """One rewarder of a phase, in words."""

    index: int
    type: str
    amount: float
    unit: str
    moment: Literal["live", "settlement"]
    text: str = Field(description='e.g. "10 points the first time accuracy ≥ 0.9".')


class LikeOut(BaseModel):
    """Whether the caller likes a submission now, and how many people do."""

    submission: int
    liked: bool
    likes: int


class LikesOut(BaseModel):
    """The submissions a person likes now."""

    person: str
    submissions: list[int]


class CreditRowOut(BaseModel):
    """One person's credit: the measure's gains along the commit graph their commits brought."""

    person: str
    credit: float = Field(description="In the measure's units; a gain is positive whichever way it sorts.")
    versions: int = Field(description="How many notebook versions earned them credit.")


class CreditTableOut(BaseModel):
    """Each person's credit on a board's primary column (or a metric), largest first; the
    credits add up to the best reached minus the best the phase started from."""

    challenge: str
    phase: str
    leaderboard: str | None
    measure: str = Field(description="A metric key, or `board.column`.")
    split: Literal["public", "private"]
    direction: Literal["maximize", "minimize"]
    noise_threshold: float
    total: float
    rows: list[CreditRowOut]


class GraphNodeOut(BaseModel):
    """One scored notebook version in the contribution graph."""

    id: str = Field(description="`commit:notebook`.")
    commit: str
    notebook: str
    submission: int
    people: list[str] = Field(description="Who it credits: the pusher and verified co-authors.")
    time: datetime = Field(description="The commit's time, as its committer claims.")
    values: dict[str, float | None] = Field(description="Metric values on the split.")
    score: float | None = Field(description="The measure's value (none when invalidated).")
    best: float | None = Field(description="Best so far along its lineage, in the measure's units.")
    increment: float = Field(description="Gain over its parents' best (the ladder's step).")
    credit: dict[str, float]
    likes: int
    flags: list[str] = Field(description="start, new-best, merge, copy, revert, invalidated, unattributed.")


class GraphEdgeOut(BaseModel):
    """From a parent version to a child: a git parent, one of a merge's, or a copy's original."""

    source: str
    target: str
    kind: Literal["parent", "merge", "copy"]


class ContributionGraphOut(BaseModel):
    """A page of a phase's contribution graph, parents before children; ``next_offset`` pages on."""

    challenge: str
    phase: str
    leaderboard: str | None
    measure: str
    split: Literal["public", "private"]
    detail: Literal["all", "steps"]
    total: int = Field(description="Nodes at this level of detail.")
    offset: int
    next_offset: int | None
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]


class GraphGroupOut(BaseModel):
    """Versions of one person (or of `others`) in one time bucket, drawn as one mark."""

    person: str
    start: datetime
    end: datetime
    count: int
    best: float | None = Field(description="The group's best score (none when all were invalidated).")
    credit: float
    best_node: str | None = Field(description="The version that scored `best`.")


class BestPointOut(BaseModel):
    time: datetime
    value: float


class GraphOverviewOut(BaseModel):
    """A time window of a phase's contribution graph at its level of detail: each version
    (``nodes``, ``edges``) when at most ``max_nodes`` are in it, else ``groups`` by person and
    time bucket; with the phase's best so far, the people drawn on their own, and the versions
    that earned the people of largest credit the most."""

    challenge: str
    phase: str
    leaderboard: str | None
    measure: str
    split: Literal["public", "private"]
    direction: Literal["maximize", "minimize"]
    start: datetime
    end: datetime
    total: int = Field(description="Versions in the window.")
    phase_total: int = Field(description="Versions in the phase.")
    people: list[str] = Field(description="The people drawn on their own (the largest credits first).")
    best: list[BestPointOut] = Field(description="The phase's best so far: a point each time it improved.")
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]
    groups: list[GraphGroupOut]
    earned: dict[str, list[CreditCommitOut]] = Field(
        description="Each of the largest credits' people: the versions that earned them most."
    )


# --- people search ---------------------------------------------------------------------------


class SkillEvidenceOut(BaseModel):
    """Why a person has a skill: scored code that uses it, a challenge tagged with it (weighted
    by rank and credit), a grant that measured it, a rank, or a credential from elsewhere."""

    kind: Literal["code", "challenge", "measured", "rank", "imported"]
    weight: float
    challenge: str | None = None
    phase: str | None = None
    submission: int | None = None
    reward: int | None = None
    detail: str = Field("", description="The modules, the rank and credit, the rewarder, or the issuer.")


class SkillTermOut(BaseModel):
    """One requested skill of a row: ``contribution`` = weight × percentile / the weights' sum."""

    skill: str
    weight: float
    percentile: float = Field(description="Among the people who have this skill here (0 without it).")
    counted: bool = Field(description="False when the person lacks it or is below min_percentile.")
    contribution: float
    evidence: list[SkillEvidenceOut] = Field(description="The strongest few.")
    evidence_count: int


class PersonMatchOut(BaseModel):
    person: str
    score: float = Field(description="The weighted mean of the requested skills' percentiles.")
    terms: list[SkillTermOut]
    last_active: datetime | None


class PeopleSearchOut(BaseModel):
    rows: list[PersonMatchOut]
    total: int
    offset: int
    limit: int
    notes: list[str] = Field(default_factory=list, description="E.g. a skill nobody here knows.")


class SkillCountOut(BaseModel):
    skill: str
    people: int = Field(description="People (profiles not hidden) who have it here.")


class SkillsOut(BaseModel):
    table: dict[str, str] = Field(description="Module → skill, as the operator configured it.")
    skills: list[SkillCountOut]


# --- federation: signed credentials between instances ------------------------------------------


class LinkCodeOut(BaseModel):
    code: str = Field(description="Give it to the other instance when you export there (`link`).")
    expires_at: datetime = Field(description="Credentials issued to it after this are refused here.")


class CredentialsOut(BaseModel):
    issuer: str = Field(description="This instance: its public URL; its keys at /.well-known/jwks.json.")
    person: str
    credentials: list[str] = Field(description="Open Badges 3.0 OpenBadgeCredentials, each a VC-JWT.")


class CredentialsIn(BaseModel):
    credentials: list[str] = Field(
        min_length=1, max_length=500, description="VC-JWTs another instance exported for you."
    )


class ImportedCredentialOut(BaseModel):
    """A credential from another instance: marked with its issuer, never counted as earned here."""

    id: int
    issuer: str = Field(description="The instance that signed it (from elsewhere).")
    issued_to: str = Field(description="Your login there.")
    kind: Literal["achievement", "reward", "credit"]
    name: str
    skills: list[str]
    evidence_url: str
    issued_at: datetime
    expires_at: datetime
    imported_at: datetime


# --- profiles -----------------------------------------------------------------------------------

#: The longest display name, affiliation and link a profile keeps, and how many links.
DISPLAY_NAME_MAX = 100
AFFILIATION_MAX = 200
LINK_MAX = 500
LINKS_MAX = 10


class ProfileIn(_Request):
    """What a person says about themselves; ``PUT /api/me/profile`` replaces all of it. Shown as
    text wherever it appears (never as markup)."""

    display_name: str | None = Field(None, max_length=DISPLAY_NAME_MAX, description="None: the hub name.")
    affiliation: str | None = Field(None, max_length=AFFILIATION_MAX)
    orcid: str | None = Field(
        None,
        max_length=40,
        description="An ORCID iD, e.g. 0000-0002-1825-0097 or https://orcid.org/0000-0002-1825-0097 "
        "(its check character is checked).",
    )
    links: list[str] = Field(default_factory=list, max_length=LINKS_MAX, description="http(s) URLs.")
    hidden: bool = Field(
        False, description="Hide the profile from search and from anyone but you and organisers."
    )

    @field_validator("display_name", "affiliation", "orcid")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @field_validator("links")
    @classmethod
    def _http_links(cls, links: list[str]) -> list[str]:
        for link in links:
            parts = urlsplit(link)
            if len(link) > LINK_MAX or parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValueError(
                    f"a link must be an http(s) URL of at most {LINK_MAX} characters: {link[:80]!r}"
                )
        return links


class ProfileSubmissionOut(BaseModel):
    """One of a person's submissions on their profile; ``private`` is null while hidden."""

    id: int
    challenge: str
    phase: str
    commit: str
    notebook: str
    status: SubmissionStatus
    created_at: datetime
    finished_at: datetime | None
    public: dict[str, float | None]
    private: dict[str, float | None] | None


class SubmissionPageOut(BaseModel):
    """A page of a person's submissions, newest first; ``next_offset`` pages on."""

    person: str
    total: int
    offset: int
    next_offset: int | None
    submissions: list[ProfileSubmissionOut]


class JoinedPhaseOut(BaseModel):
    """A phase of a challenge the person submitted to."""

    challenge: str
    title: str
    phase: str
    submissions: int
    first_at: datetime
    last_at: datetime


class RankOut(BaseModel):
    """The person's rank on one board of a phase; on the private split, ``delta`` is their public
    rank minus their private rank (positive: they moved up)."""

    challenge: str
    phase: str
    leaderboard: str
    split: Literal["public", "private"]
    rank: int
    of: int
    delta: int | None = None


class CreditCommitOut(BaseModel):
    """A notebook version that earned the person credit: the gain in score it brought."""

    commit: str
    notebook: str
    submission: int
    metric: str
    increment: float
    credit: float


class PhaseCreditOut(BaseModel):
    """The person's credit in a phase on its first board's primary column, with the commits that
    earned it."""

    challenge: str
    phase: str
    measure: str
    split: Literal["public", "private"]
    credit: float
    commits: list[CreditCommitOut]


class ProfileBalanceOut(BaseModel):
    challenge: str
    unit: str
    amount: float


class ProfileSkillOut(BaseModel):
    """A skill with the evidence that proves it; its percentile is among the people here who
    have it."""

    skill: str
    percentile: float
    strength: float = Field(description="The sum of its evidence's weights.")
    evidence: list[SkillEvidenceOut] = Field(description="The strongest first, at most ten.")
    evidence_count: int


class ProfileOut(BaseModel):
    """A person's profile: what they say about themselves and their whole history here."""

    person: str
    display_name: str
    affiliation: str | None
    orcid: str | None
    links: list[str]
    hidden: bool
    joined: list[JoinedPhaseOut]
    submissions: SubmissionPageOut = Field(description="The newest submissions; page on with /submissions.")
    ranks: list[RankOut]
    rewards: list[RewardOut]
    balances: list[ProfileBalanceOut]
    credit: list[PhaseCreditOut]
    achievements: list[RewardOut] = Field(description="Grants of achievement rewarders not taken back.")
    likes_given: list[int] = Field(description="The submissions the person likes now.")
    likes_received: int
    skills: list[ProfileSkillOut] = Field(
        default_factory=list,
        description="What the person's work here proves (none while hidden from search).",
    )
    credentials: list[ImportedCredentialOut] = Field(
        default_factory=list, description="Credentials imported from other instances, each with its issuer."
    )
