"""The challenge specification (``challenge.yaml``) as pydantic models.

Pure data and validation: reading the file and turning pydantic's errors into
:class:`~scorer.exceptions.SpecProblem` lines lives in :mod:`scorer.challenge.load`.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ByteSize,
    ConfigDict,
    Field,
    PositiveFloat,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails

from coop_client import layout
from coop_client.models import SLUG
from coop_client.utc import as_utc
from scorer.challenge.expr import RESERVED_NAMES, parse_expression
from scorer.exceptions import CoopError, ExpressionError
from scorer.rewards.base import Reference
from scorer.rewards.registry import rewarder_class
from scorer.rewards.views import column_key

IDENT = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
#: Variables every expression may use besides the metric keys.
BUILTIN_VARIABLES = {
    "time": "the notebook's measured run time in seconds (sum of its cells)",
    "memory": "the run's peak memory in MiB",
}

Slug = Annotated[str, Field(pattern=SLUG)]
Ident = Annotated[str, Field(pattern=IDENT)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Direction(StrEnum):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class Sorting(StrEnum):
    DESC = "desc"
    ASC = "asc"


class Selection(StrEnum):
    BEST = "best"
    LAST = "last"


class Tags(Strict):
    domain: list[str] = []
    skills: list[str] = []


class Solutions(Strict):
    """Where participants' notebooks live in the repository, and how large a pushed file may be."""

    path: str = Field(layout.SOLUTIONS_PATH, description="Folder holding participants' notebooks.")
    pattern: str = Field("*.ipynb", description="Glob of solution notebooks under `path`.")
    per_user: bool = Field(
        True, description="Notebooks live in `path/<username>/`: the first folder names the owner."
    )
    max_file_size: ByteSize = Field(
        ByteSize(10 * 1024**2),
        description="Largest file a push may add or change, anywhere in the repository (e.g. 10MiB).",
    )

    @field_validator("max_file_size")
    @classmethod
    def _some_bytes(cls, value: ByteSize) -> ByteSize:
        if value <= 0:
            raise ValueError("must be more than 0 bytes (e.g. 10MiB)")
        return value


class Organiser(Strict):
    """What the organiser owns in the repository; sanitize restores these before a run."""

    ref: str = Field(layout.ORGANISER_REF, description="The branch holding the organiser's trusted files.")
    paths: list[str] = Field(
        default_factory=lambda: [layout.SPEC_FILE, "scoring.py", "simulator.py", "baselines/"],
        description="Files or folders (ending in /) that only organisers may change.",
    )


class Data(Strict):
    generator: str = Field(
        "simulator.py:generate",
        description="`file.py:function` that writes a phase's inputs and answer key.",
    )
    scoring_module: str = Field("scoring.py", description="The organiser's metric functions.")


class Forge(Strict):
    """The challenge lives on a public forge: the scorer takes the repository's signed push
    webhooks and fetches the pushed commits. The webhook secret is a scorer setting
    (``webhook_secrets``), never written here: ``challenge.yaml`` is public."""

    kind: Literal["github", "gitlab", "gitea"] = Field(description="The forge sending push webhooks.")
    repository: str = Field(
        pattern=r"^(https?://|file://|/)\S+$",
        description="Clone URL the scorer fetches pushed commits from (https; a file:// URL or an "
        "absolute path for a local stand-in).",
    )
    full_name: str | None = Field(
        None,
        description="The repository as the forge names it (`owner/name`, GitLab's "
        "`path_with_namespace`); when absent, webhooks are matched by clone URL.",
    )


class Metric(Strict):
    key: Ident
    label: str = ""
    direction: Direction = Direction.MAXIMIZE
    precision: int = Field(4, ge=0, le=12)
    function: Ident = Field(description="Function of the scoring module computing this metric.")
    description: str = ""
    noise_threshold: float | None = Field(
        None,
        ge=0,
        description="Smallest gain of this metric counted as an improvement (in its units); "
        "defaults to the challenge's `noise_threshold`.",
    )


class Predictions(Strict):
    """The file a notebook writes, checked before scoring."""

    file: str = Field("predictions.csv", pattern=r"^[A-Za-z0-9_.-]+\.(csv|parquet)$")
    id_column: str = "id"
    columns: list[str] = Field(min_length=1, description="Required prediction columns.")
    allow_nan: bool = False


class SubmissionLimits(Strict):
    per_day: PositiveInt | None = Field(None, description="Scored submissions per person per UTC day.")
    per_person: PositiveInt | None = Field(None, description="Scored submissions per person in the phase.")
    min_interval: PositiveFloat | None = Field(None, description="Seconds between two submissions.")


class RunLimits(Strict):
    wall_time: PositiveFloat = Field(600, description="Seconds for the whole run, kernel start included.")
    cell_time: PositiveFloat = Field(300, description="Seconds for any single cell.")
    memory: ByteSize = Field(ByteSize(2 * 1024**3), description="Peak memory of the run (e.g. 2GiB).")
    output: ByteSize = Field(ByteSize(10 * 1024**2), description="Cell output kept (e.g. 10MB).")
    disk: ByteSize = Field(ByteSize(500 * 1024**2), description="Size of files the run may write.")
    processes: PositiveInt = Field(64, description="Processes and threads the run may hold.")


class TestSplit(Strict):
    public_fraction: float = Field(0.3, gt=0, le=1)
    private_visible: Literal["end", "never"] | datetime = Field(
        "end", description="When private scores become visible to everyone: end, never or a time."
    )

    @field_validator("private_visible")
    @classmethod
    def _aware(cls, value: str | datetime) -> str | datetime:
        return as_utc(value) if isinstance(value, datetime) else value


class Rewarder(Strict):
    """One rewarder of a phase: ``type`` names an installed rewarder (entry-point group
    ``coop.rewarders``) whose params model checks ``params``; the names its params use are
    checked against the challenge's metrics and leaderboards."""

    type: Slug = Field(description="An installed rewarder, e.g. score-threshold, new-record, credit-share.")
    amount: float = Field(gt=0, description="Points granted (per event, or the pool it splits).")
    threshold: float | None = Field(None, description="The score to reach, for rewarders that take one.")
    params: dict[str, Any] = Field({}, description="The rewarder's own settings (see its documentation).")

    @field_validator("type")
    @classmethod
    def _installed(cls, value: str) -> str:
        try:
            rewarder_class(value)
        except CoopError as exc:  # not installed, or not a rewarder
            raise ValueError(exc.user_message) from None
        return value

    @model_validator(mode="after")
    def _params_fit(self) -> Rewarder:
        rewarder_class(self.type).validate(self.amount, self.threshold, self.params)
        return self

    def references(self) -> list[Reference]:
        """The metrics, leaderboards and columns its params name."""
        return rewarder_class(self.type).validate(self.amount, self.threshold, self.params).references()


class EnvironmentSpec(Strict):
    """The packages a challenge's notebooks run with, in JupyterLab and in the scorer: built once
    into a virtual environment named by the hash of its inputs. The platform adds what a kernel
    needs (ipykernel, ipywidgets, the Submit widget); the organiser lists only the science."""

    requirements: str = Field(
        pattern=r"^[^/\\]",
        description="A requirements file in the challenge repository (relative to its root): pinned "
        "versions (`numpy==2.4.6`) or a lock file (`uv pip compile` output); `./folder` entries "
        "install a package from that folder of the repository.",
    )
    python: str | None = Field(
        None,
        pattern=r"^3\.\d{1,2}$",
        description="Python version (e.g. 3.11) where the platform offers several; default: the "
        "platform's own.",
    )

    @field_validator("requirements")
    @classmethod
    def _inside_repository(cls, value: str) -> str:
        if ".." in value.split("/") or "\\" in value:
            raise ValueError("must be a path inside the repository, with / and no '..'")
        return value


class Phase(Strict):
    id: Slug
    title: str
    description: str = ""
    start: datetime
    end: datetime | None = Field(None, description="Open-ended when absent.")
    baseline: str = Field(description="Path of the phase's baseline notebook in the repository.")
    parameters: dict[str, Any] = Field(
        {}, description="Values injected into the notebook's `parameters` cell by papermill."
    )
    data_args: dict[str, Any] = Field(
        {}, description="Keyword arguments for the data generator of this phase."
    )
    limits: RunLimits = RunLimits()
    submissions: SubmissionLimits = SubmissionLimits()
    test_split: TestSplit = TestSplit()
    open_code: bool | datetime = Field(
        True, description="Solutions visible to all: true, false, or from a time (RAMP style)."
    )
    predictions: Predictions
    leaderboards: list[Slug] | None = Field(None, description="Leaderboards shown (all if absent).")
    rewarders: list[Rewarder] = []
    environment: EnvironmentSpec | None = Field(
        None, description="This phase's software environment, instead of the challenge's."
    )

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @model_validator(mode="after")
    def _ends_after_start(self) -> Phase:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end.isoformat()}) must be after start ({self.start.isoformat()})")
        return self

    def is_open(self, now: datetime) -> bool:
        return layout.is_open(self, now)

    def private_visible_at(self) -> datetime | None:
        """When private scores become public, or ``None`` for never (or not yet known)."""
        visible = self.test_split.private_visible
        if visible == "end":
            return self.end
        if visible == "never":
            return None
        return visible


class AverageRank(Strict):
    average_rank: list[Ident] = Field(min_length=1, description="Columns whose ranks are averaged.")


class WeightedSum(Strict):
    weighted_sum: dict[Ident, float] = Field(min_length=1)


class ExpressionComputation(Strict):
    expression: str


Computation = AverageRank | WeightedSum | ExpressionComputation


class Column(Strict):
    key: Ident
    label: str = ""
    metric: Ident | None = Field(None, description="The metric shown (defaults to `key`).")
    computation: Computation | None = None
    sorting: Sorting | None = Field(None, description="Defaults to the metric's direction.")
    precision: int | None = Field(None, ge=0, le=12)
    hidden: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> Column:
        if self.metric is not None and self.computation is not None:
            raise ValueError("a column has either `metric` or `computation`, not both")
        return self

    @property
    def is_computed(self) -> bool:
        return self.computation is not None

    @property
    def source_metric(self) -> str:
        return self.metric or self.key


class Leaderboard(Strict):
    key: Slug
    title: str = ""
    columns: list[Column] = Field(min_length=1)
    primary: Ident = Field(description="The column that ranks the board.")
    tie_break: list[Ident] = Field(
        [], description="Columns breaking ties in order; then the earlier submission wins."
    )
    select: Selection = Field(Selection.BEST, description="Which submission represents a person.")

    @model_validator(mode="after")
    def _columns_known(self) -> Leaderboard:
        keys = [c.key for c in self.columns]
        duplicated = sorted({k for k in keys if keys.count(k) > 1})
        if duplicated:
            raise ValueError(f"duplicate column keys: {', '.join(duplicated)}")
        for name in [self.primary, *self.tie_break]:
            if name not in keys:
                raise ValueError(f"unknown column {name!r} (columns: {', '.join(keys)})")
        return self

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(f"unknown column {key!r}")


class Challenge(Strict):
    id: Slug
    title: str
    description: str = ""
    tags: Tags = Tags()
    solutions: Solutions = Solutions()
    organiser: Organiser = Organiser()
    data: Data = Data()
    forge: Forge | None = Field(None, description="Host the repository on GitHub, GitLab or Gitea.")
    noise_threshold: float = Field(0.0, ge=0, description="Smallest gain counted as an improvement.")
    allow_unsandboxed: bool = Field(
        False, description="Run untrusted notebooks without a sandbox when none is available."
    )
    environment: EnvironmentSpec | None = Field(
        None,
        description="The packages notebooks run with (a kernel in JupyterLab, the same in the "
        "scorer's sandbox); absent: the platform's own environment.",
    )
    metrics: list[Metric] = Field(min_length=1)
    leaderboards: list[Leaderboard] = Field(min_length=1)
    phases: list[Phase] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_references(self) -> Challenge:
        problems: list[str] = []
        reserved = sorted({m.key for m in self.metrics} & (RESERVED_NAMES | set(BUILTIN_VARIABLES)))
        if reserved:
            problems.append(f"metric keys {', '.join(reserved)} are reserved words of expressions")
        for label, keys in (
            ("metric", [m.key for m in self.metrics]),
            ("leaderboard", [b.key for b in self.leaderboards]),
            ("phase", [p.id for p in self.phases]),
        ):
            dup = sorted({k for k in keys if keys.count(k) > 1})
            if dup:
                problems.append(f"duplicate {label} keys: {', '.join(dup)}")
        metric_keys = {m.key for m in self.metrics}
        board_keys = {b.key for b in self.leaderboards}
        for board in self.leaderboards:
            problems += _column_problems(board, metric_keys)
        for phase in self.phases:
            for key in phase.leaderboards or []:
                if key not in board_keys:
                    problems.append(f"phase {phase.id!r} shows unknown leaderboard {key!r}")
        if problems:
            raise ValueError("; ".join(problems))
        located = [
            InitErrorDetails(
                type="value_error",
                loc=("phases", p, "rewarders", r, "params", *ref.field),
                input=None,
                ctx={"error": ValueError(text)},
            )
            for p, phase in enumerate(self.phases)
            for r, rewarder in enumerate(phase.rewarders)
            for ref in rewarder.references()
            for text in [_reference_problem(self, phase, ref)]
            if text
        ]
        if located:
            raise ValidationError.from_exception_data(type(self).__name__, located)
        return self

    def phase(self, phase_id: str) -> Phase:
        return layout.find_phase(self.phases, phase_id)

    def current_phase(self, now: datetime) -> Phase | None:
        """The open phase that started last, or ``None`` between phases."""
        return layout.current_phase(self.phases, now)

    def metric(self, key: str) -> Metric:
        for metric in self.metrics:
            if metric.key == key:
                return metric
        raise KeyError(f"unknown metric {key!r}")

    def metric_noise(self, key: str) -> float:
        """The noise threshold of metric ``key``: its own, else the challenge's."""
        own = self.metric(key).noise_threshold
        return self.noise_threshold if own is None else own

    def leaderboard(self, key: str) -> Leaderboard:
        for board in self.leaderboards:
            if board.key == key:
                return board
        raise KeyError(f"unknown leaderboard {key!r}")

    def phase_leaderboards(self, phase: Phase) -> list[Leaderboard]:
        if phase.leaderboards is None:
            return list(self.leaderboards)
        return [self.leaderboard(k) for k in phase.leaderboards]


def _column_problems(board: Leaderboard, metric_keys: set[str]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    variables = metric_keys | set(BUILTIN_VARIABLES)
    for column in board.columns:
        where = f"leaderboard {board.key!r} column {column.key!r}"
        comp = column.computation
        if comp is None:
            if column.source_metric not in variables:
                problems.append(f"{where}: unknown metric {column.source_metric!r}")
        elif isinstance(comp, AverageRank):
            unknown = [k for k in comp.average_rank if k not in seen]
            if unknown:
                problems.append(f"{where}: average_rank names columns not defined before it: {unknown}")
        elif isinstance(comp, WeightedSum):
            unknown = [k for k in comp.weighted_sum if k not in variables]
            if unknown:
                problems.append(f"{where}: weighted_sum names unknown metrics: {unknown}")
        else:
            try:
                expression = parse_expression(comp.expression)
            except ExpressionError as exc:
                problems.append(f"{where}: {exc.user_message}")
            else:
                unknown = sorted(expression.names - variables)
                if unknown:
                    problems.append(
                        f"{where}: expression names unknown metric(s) {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(variables))})"
                    )
        if column.key == board.primary and isinstance(comp, AverageRank) and board.select == Selection.BEST:
            problems.append(f"{where}: a rank-based primary column needs `select: last`")
        seen.add(column.key)
    return problems


def _reference_problem(challenge: Challenge, phase: Phase, ref: Reference) -> str | None:
    """What is wrong with a name a rewarder of ``phase`` uses, or ``None``."""
    if ref.metric is not None:
        known = sorted({m.key for m in challenge.metrics} | set(BUILTIN_VARIABLES))
        if ref.metric not in known:
            return f"unknown metric {ref.metric!r} (known: {', '.join(known)})"
        return None
    boards = {b.key: b for b in challenge.phase_leaderboards(phase)}
    board = boards.get(ref.leaderboard or "")
    if board is None:
        return f"phase {phase.id!r} shows no leaderboard {ref.leaderboard!r} (shown: {', '.join(boards)})"
    if ref.column is None:
        return None
    columns = {c.key: c for c in board.columns}
    column = columns.get(ref.column)
    if column is None:
        return f"leaderboard {board.key!r} has no column {ref.column!r} (columns: {', '.join(columns)})"
    if isinstance(column.computation, AverageRank):
        return f"column {column_key(board.key, column.key)!r} is a rank, not a value of one submission"
    return None


def column_sorting(challenge: Challenge, column: Column) -> Sorting:
    """A column's sort direction: explicit, else its metric's direction, else descending."""
    if column.sorting is not None:
        return column.sorting
    if isinstance(column.computation, AverageRank):
        return Sorting.ASC
    if column.computation is None and column.source_metric in {m.key for m in challenge.metrics}:
        direction = challenge.metric(column.source_metric).direction
        return Sorting.DESC if direction == Direction.MAXIMIZE else Sorting.ASC
    if column.computation is None and column.source_metric in BUILTIN_VARIABLES:
        return Sorting.ASC
    return Sorting.DESC


def environment_spec(challenge: Challenge, phase_id: str) -> EnvironmentSpec | None:
    """The environment a phase runs in: its own, else the challenge's, else ``None`` (the
    platform's)."""
    return challenge.phase(phase_id).environment or challenge.environment


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``challenge.yaml`` (for editors and other tools)."""
    schema = Challenge.model_json_schema()
    schema["$id"] = "https://coopetition.dev/schema/challenge.json"
    schema["title"] = "Coopetition challenge"
    return schema


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")[:63] or "challenge"
