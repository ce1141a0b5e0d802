"""A small served world for the authorization matrix, written without running a notebook.

Two scaffolded challenges, each published, served (``<home>/git/<id>.git``, as ``coop serve``
does) and prepared (inputs and hidden answer key):

- ``curve``: ``phase-1`` ended yesterday (code open, private scores shown since its end);
  ``phase-2`` open (code closed, private scores hidden until its end in 30 days); ``phase-3``
  starts in 40 days (its inputs are organisers' only until then).
- ``orbit``: one open phase where bob submitted.

In ``curve``: alice and bob scored in both phases (their notebooks are real commits, recorded
as executed as committed); their ``phase-2`` notebooks hold :data:`CLOSED_CODE` (bob's failed
in that line: :func:`_failed`); hana scored
in ``phase-1`` and hid her profile (display name :data:`HIDDEN_NAME`); bob's second ``phase-1``
submission is invalidated and ``phase-1`` settled. Rewards: alice's score-threshold grant in
``phase-1`` and a settlement-style grant in ``phase-2`` whose evidence quotes her private score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import nbformat
import yaml

from coop_client.models import ProfileIn
from scorer.challenge.phase_data import load_phase_data
from scorer.challenge.publish import publish
from scorer.challenge.scaffold import scaffold
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.ingest.served import serve_repository
from scorer.ledger import store
from scorer.ledger.models import Moment
from scorer.ledger.rewards import Grant, record_grant
from scorer.organise.invalidate import invalidate_submission
from scorer.organise.settle import settle_phase
from scorer.profiles.read import save_profile
from scorer.scoring.results import RunResult
from tests.conftest import git

#: Private scores of curve's open phase (alice's, bob's): no one but organisers may see them.
PRIVATE = {"alice": 0.61803398, "bob": 0.31415926}
#: A line of each person's closed code in curve's open phase (alice's scored, bob's failed).
CLOSED_CODE = {"alice": "CLOSED_CODE_MARKER = 'zebra-4d1c'", "bob": "secret_degree = 'okapi-7e2b'"}
HIDDEN_NAME = "Hana Hidden-q9z"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class World:
    api: CoopAPI
    alice_open: int  # curve phase-1 (ended, code open), scored
    bob_open: int  # curve phase-1, scored
    bob_invalid: int  # curve phase-1, invalidated
    hana_open: int  # curve phase-1, hidden profile
    alice_closed: int  # curve phase-2 (open, code closed), scored
    bob_closed: int  # curve phase-2, scored
    bob_failed: int  # curve phase-2, failed in a line of his closed code
    bob_orbit: int  # orbit phase-1
    answers: tuple[str, ...]  # lines of curve phase-2's hidden answer key


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _challenge(root: Path, name: str, phases: list[dict]) -> Path:
    """Scaffold ``name`` with ``phases`` (fields over the template's first phase); publish it."""
    folder = scaffold(name, root / name / "organiser")
    spec = yaml.safe_load((folder / "challenge.yaml").read_text())
    template = spec["phases"][0]
    spec["phases"] = [{**template, **phase} for phase in phases]
    (folder / "challenge.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    bare = root / name / "challenge.git"
    publish(folder, bare, message="publish", author="Organiser", email="organiser@example.org")
    return bare


def _commit(clone: Path, user: str, name: str, extra: str = "") -> tuple[str, str]:
    """Commit the baseline (plus a cell ``extra``) as ``solutions/<user>/<name>``; (sha, path)."""
    notebook = nbformat.read(clone / "baselines" / "phase-1.ipynb", as_version=4)
    if extra:
        notebook.cells.append(nbformat.v4.new_code_cell(extra))
    path = f"solutions/{user}/{name}"
    (clone / path).parent.mkdir(parents=True, exist_ok=True)
    (clone / path).write_text(nbformat.writes(notebook))
    git(clone, "add", path)
    git(clone, "commit", "-q", "-m", f"{user}: {name}", user=user)
    git(clone, "push", "-q", "origin", f"HEAD:refs/heads/{user}/work", user=user)
    return git(clone, "rev-parse", "HEAD"), path


def _scored(
    api: CoopAPI,
    clone: Path,
    challenge: str,
    phase: str,
    user: str,
    at: datetime,
    values: tuple[float, float],
) -> int:
    """A scored submission of a fresh commit of ``user``: (public, private) rmse ``values``."""
    sha, path = _commit(
        clone,
        user,
        f"{phase}-{len(list(clone.glob('solutions/*/*')))}.ipynb",
        CLOSED_CODE["alice"] if (user, phase) == ("alice", "phase-2") else "",
    )
    content = (clone / path).read_bytes()
    public, private = values
    result = RunResult(
        public={"rmse": public, "mae": public},
        private={"rmse": private, "mae": private},
        run_time=1.0,
        peak_memory=64.0,
        started_at=at,
        finished_at=at + timedelta(seconds=1),
        executed_notebook=content,
        provenance={"input_hash": "in", "scorer_version": "0", "environment_hash": "env"},
    )
    with api.sessions.begin() as session:
        row = store.enqueue(
            session,
            challenge_id=challenge,
            phase_id=phase,
            commit_sha=sha,
            notebook_path=path,
            username=user,
            parameters={"degree": 3},
            now=at,
        )
        assert store.claim(session, row.id, "w1", now=at)
        assert store.record_result(session, row.id, result, now=at + timedelta(seconds=1))
        return row.id


def _failed(api: CoopAPI, clone: Path, at: datetime) -> int:
    """Bob's notebook failing in curve's open phase in a line of his code, recorded as the worker
    records it: the reason quotes the failing cell's first line, the provenance holds the error's
    IPython traceback (which shows the source lines) and the kernel's log. Its commit follows
    alice's closed one (a hand-made push naming her commit's SHA, which the API lists, can do
    that), so git finds her notebook is what his was copied from."""
    line = CLOSED_CODE["bob"]
    sha, path = _commit(clone, "bob", "failing.ipynb", f"{line}\nraise ValueError(secret_degree)")
    traceback = [
        "ValueError  Traceback (most recent call last)",
        f"----> 1 {line}\n      2 raise",
        "ValueError",
    ]
    with api.sessions.begin() as session:
        row = store.enqueue(
            session,
            challenge_id="curve",
            phase_id="phase-2",
            commit_sha=sha,
            notebook_path=path,
            username="bob",
            parameters={"degree": 3},
            now=at,
        )
        assert store.claim(session, row.id, "w1", now=at)
        assert store.record_failure(
            session,
            row.id,
            "exception",
            f'ValueError: okapi-7e2b (in cell 5: "{line}")',
            provenance={
                "ename": "ValueError",
                "evalue": "okapi-7e2b",
                "traceback": traceback,
                "log_tail": line,
            },
            executed_notebook=(clone / path).read_bytes(),
            now=at,
        )
        return row.id


def _grant(api: CoopAPI, phase: str, submission: int, evidence: dict, moment: Moment) -> None:
    with api.sessions.begin() as session:
        record_grant(
            session,
            Grant(
                challenge_id="curve",
                phase_id=phase,
                person="alice",
                rewarder_type="score-threshold",
                rewarder_index=0,
                scope=f"person:alice:{phase}",
                amount=Decimal(10),
                unit="points",
                evidence=evidence,
                submission_id=submission,
                moment=moment,
            ),
        )


def build(root: Path) -> World:
    ended, opened = NOW - timedelta(days=1), NOW - timedelta(days=10)
    curve = _challenge(
        root,
        "Curve",
        [
            {"id": "phase-1", "start": _stamp(opened), "end": _stamp(ended)},
            {
                "id": "phase-2",
                "start": _stamp(ended),
                "end": _stamp(NOW + timedelta(days=30)),
                "open_code": False,
            },
            {"id": "phase-3", "start": _stamp(NOW + timedelta(days=40))},
        ],
    )
    orbit = _challenge(root, "Orbit", [{"id": "phase-1", "start": _stamp(opened)}])
    settings = ScorerSettings(home=str(root / "home"), n_workers=1, retries=0)
    settings.link_code_interval = 0  # each role asks for a link code in any order
    settings.link_codes_live = 100
    api = CoopAPI(settings)
    clones = {}
    for challenge_id, bare in (("curve", curve), ("orbit", orbit)):
        served = serve_repository(settings.home_path, challenge_id, bare)
        api.prepare(str(served.resolve()), seed=7)
        clones[challenge_id] = root / challenge_id / "clone"
        git(root, "clone", "-q", str(bare), str(clones[challenge_id]))
    when = NOW - timedelta(days=5)
    ids = {
        "alice_open": _scored(api, clones["curve"], "curve", "phase-1", "alice", when, (0.1, 0.11)),
        "bob_open": _scored(api, clones["curve"], "curve", "phase-1", "bob", when, (0.2, 0.21)),
        "bob_invalid": _scored(api, clones["curve"], "curve", "phase-1", "bob", when, (0.05, 0.05)),
        "hana_open": _scored(api, clones["curve"], "curve", "phase-1", "hana", when, (0.3, 0.31)),
        "alice_closed": _scored(
            api,
            clones["curve"],
            "curve",
            "phase-2",
            "alice",
            NOW - timedelta(hours=2),
            (0.12, PRIVATE["alice"]),
        ),
        "bob_closed": _scored(
            api, clones["curve"], "curve", "phase-2", "bob", NOW - timedelta(hours=1), (0.22, PRIVATE["bob"])
        ),
        "bob_failed": _failed(api, clones["curve"], NOW - timedelta(minutes=30)),
        "bob_orbit": _scored(api, clones["orbit"], "orbit", "phase-1", "bob", when, (0.4, 0.41)),
    }
    for challenge_id, bare in (("curve", curve), ("orbit", orbit)):  # commits reach it below
        serve_repository(settings.home_path, challenge_id, bare)
    save_profile(
        api.sessions, "hana", ProfileIn(display_name=HIDDEN_NAME, affiliation=HIDDEN_NAME, hidden=True)
    )
    _grant(
        api,
        "phase-1",
        ids["alice_open"],
        {"rule": "rmse ≤ 0.2", "split": "public", "values": {"rmse": 0.1}},
        Moment.LIVE,
    )
    _grant(
        api,
        "phase-2",
        ids["alice_closed"],
        {
            "rule": f"rank 1 on main (private), was {PRIVATE['alice']}",
            "split": "private",
            "values": {"rank": 1, "value": PRIVATE["alice"]},
        },
        Moment.SETTLEMENT,
    )
    invalidate_submission(api, ids["bob_invalid"], "olga", "an exploit")
    settle_phase(api, "curve", "phase-1", "olga")
    answers = load_phase_data(settings.data_root, "curve", "phase-2").answers.read_text().splitlines()[1:4]
    return World(api, answers=tuple(answers), **ids)
