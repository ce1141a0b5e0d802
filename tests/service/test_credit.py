"""Credit end to end, from real git through real scoring to the served API: alice's notebook,
bob's "Build on this" of it, carol's hand copy that git cannot see; an invalidated version and
a scored commit gone from a rewritten history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import nbformat
import pytest
from typer.testing import CliRunner

from coop_client.client import CoopClient, CoopClientError
from coop_client.lineage import Lineage, with_lineage
from scorer.cli import app
from scorer.config import ScorerSettings
from scorer.credit import phase as credit_phase
from scorer.credit.graph import HistoryRewritten
from scorer.facade import CoopAPI
from scorer.ledger.invalidations import invalidate
from scorer.ledger.store import enqueue
from scorer.service.app import create_app
from tests.conftest import ChallengeFixture, git, make_challenge, require
from tests.service.conftest import PREFIX, TOKENS, running

ALICE, BOB, CAROL = (f"solutions/{who}/fit.ipynb" for who in ("alice", "bob", "carol"))
LIMITS = {"wall_time": 60, "cell_time": 30, "memory": "1GiB", "disk": "200MB", "output": "1MB"}


@dataclass
class Phase:
    fixture: ChallengeFixture
    rmse: dict[str, float]  # version name -> its public rmse
    ids: dict[str, int]
    shas: dict[str, str]


def _fit(notebook: nbformat.NotebookNode, degree: int) -> nbformat.NotebookNode:
    notebook.cells[
        3
    ].source = (
        f"coefficients = np.polyfit(train.x, train.y, {degree})\ntest['y'] = np.polyval(coefficients, test.x)"
    )
    return notebook


@pytest.fixture(scope="module")
def phase(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phase]:
    require("bwrap")
    fixture = make_challenge(
        tmp_path_factory.mktemp("credit"), edit={"phases.0.limits": LIMITS, "phases.0.open_code": True}
    )
    clone = fixture.clone
    start = git(clone, "rev-parse", "HEAD")
    shas = {"a1": fixture.commit("alice", {ALICE: _fit(fixture.baseline, 1)})}
    shas["a2"] = fixture.commit("alice", {ALICE: _fit(fixture.baseline, 3)})
    # bob: "Build on this" of alice's second version, then his own change
    git(clone, "checkout", "-q", "-b", "bob", shas["a2"])
    built = _fit(nbformat.read(clone / ALICE, as_version=4), 6)
    built.metadata = with_lineage(built.metadata, Lineage(path=ALICE, commit=shas["a2"]))
    shas["b1"] = fixture.commit("bob", {BOB: built})
    # carol: alice's notebook copied by hand with an edit, on a branch that never had it
    git(clone, "checkout", "-q", "-b", "carol", start)
    fixture.commit("carol", {"notes.md": "my own start\n"})
    copy = _fit(fixture.baseline, 3)
    copy.cells[0].source += "\nCarol's copy."
    shas["c1"] = fixture.commit("carol", {CAROL: copy})
    rmse, ids = {}, {}
    for name in ("a1", "a2", "b1", "c1"):
        [run] = fixture.score(shas[name])
        assert run.outcome == "scored", run.reason
        rmse[name], ids[name] = run.scores.public["rmse"], run.view.id
    yield Phase(fixture, rmse, ids, shas)


@pytest.fixture(scope="module")
def client(phase: Phase) -> Iterator[CoopClient]:
    api = phase.fixture.api()
    try:
        with (
            running(create_app(api, TOKENS, prefix=PREFIX)) as url,
            CoopClient(url + PREFIX.rstrip("/"), "bob-token") as served,
        ):
            yield served
    finally:
        api.close()


def test_building_on_alices_notebook_credits_her_gain_and_bob_only_his(phase: Phase, client: CoopClient):
    r = phase.rmse
    assert r["a1"] > r["a2"] > r["b1"]  # each step gains (rmse goes down)
    table = client.credit(phase.fixture.challenge_id, "phase-1", board="main")
    credit = {row.person: row.credit for row in table.rows}
    assert table.measure == "main.rmse" and table.direction == "minimize"
    assert credit["alice"] == pytest.approx(r["a1"] - r["a2"])
    assert credit["bob"] == pytest.approx(r["a2"] - r["b1"])
    assert "carol" not in credit  # her copy is alice's version: nothing of her own
    assert sum(credit.values()) == pytest.approx(table.total) == pytest.approx(r["a1"] - r["b1"])


def test_the_graph_shows_the_build_on_and_the_copy_git_missed(phase: Phase, client: CoopClient):
    graph = client.contribution_graph(phase.fixture.challenge_id, "phase-1")
    nodes = {node.commit: node for node in graph.nodes}
    a2, b1, c1 = (f"{phase.shas[n]}:{p}" for n, p in (("a2", ALICE), ("b1", BOB), ("c1", CAROL)))
    kinds = {(edge.source, edge.target): edge.kind for edge in graph.edges}
    assert kinds[(a2, b1)] == "copy" and kinds[(a2, c1)] == "copy"
    assert "copy" in nodes[phase.shas["c1"]].flags and nodes[phase.shas["c1"]].increment == 0
    assert nodes[phase.shas["b1"]].credit == pytest.approx({"bob": phase.rmse["a2"] - phase.rmse["b1"]})
    assert nodes[phase.shas["b1"]].best == pytest.approx(phase.rmse["b1"])  # in rmse, not negated
    assert graph.total == 4 and graph.next_offset is None
    first = client.contribution_graph(phase.fixture.challenge_id, "phase-1", limit=1)
    assert first.next_offset == 1 and len(first.nodes) == 1


def test_private_credit_follows_the_private_score_rule(phase: Phase, client: CoopClient):
    with pytest.raises(CoopClientError) as refused:
        client.credit(phase.fixture.challenge_id, "phase-1", split="private")
    assert refused.value.status == 403


def test_the_cli_prints_the_table_and_audits_it_against_shapley(phase: Phase):
    home = ["--home", phase.fixture.settings.home]
    args = [phase.fixture.challenge_id, "--phase", "phase-1", "--json"]
    shown = CliRunner().invoke(app, [*home, "credit", *args])
    assert shown.exit_code == 0, shown.output
    table = json.loads(shown.output)
    assert {row["person"] for row in table["rows"]} == {"alice", "bob"}
    audited = CliRunner().invoke(app, [*home, "credit", "audit", *args, "--samples", "20"])
    assert audited.exit_code == 0, audited.output
    rows = {row["person"]: row for row in json.loads(audited.output)["rows"]}
    credits = {row["person"]: row["credit"] for row in table["rows"]}
    assert rows["alice"]["credit"] == pytest.approx(credits["alice"])
    assert abs(rows["bob"]["difference"]) <= rows["bob"]["error"] + 1e-12  # a chain: the ladder is Shapley
    printed = CliRunner().invoke(app, [*home, "credit", *args[:-1]])
    assert "credit on main.rmse" in printed.output and "alice" in printed.output


def _kept_and_afresh(api: CoopAPI, challenge_id: str) -> tuple[credit_phase.PhaseCredit, tuple, tuple]:
    """The kept state brought up to date with its tables and the graph's first view, then both
    computed afresh."""
    kept = credit_phase.phase_credit(api.sessions, api.settings.mirrors, challenge_id, "phase-1")

    def read() -> tuple:
        return api.credit_tables(challenge_id, "phase-1", split="public"), api.graph_overview(
            challenge_id, "phase-1"
        )

    updated = read()
    credit_phase._kept.items.clear()
    return kept, updated, read()


def test_a_version_scored_later_is_added_to_the_kept_graph_as_a_fresh_read_would(phase: Phase):
    api = phase.fixture.api()
    try:
        before = credit_phase.phase_credit(
            api.sessions, api.settings.mirrors, phase.fixture.challenge_id, "phase-1"
        )
        whole = partial(
            credit_phase.graph_overview, api.sessions, api.settings.mirrors, phase.fixture.challenge_id
        )
        first = whole("phase-1")[1]
        assert whole("phase-1")[1] is first  # kept until the phase changes
        git(phase.fixture.clone, "checkout", "-q", "bob")
        notebook = _fit(nbformat.read(phase.fixture.clone / BOB, as_version=4), 2)
        [run] = phase.fixture.score(phase.fixture.commit("bob", {BOB: notebook}))
        assert run.outcome == "scored", run.reason
        with ThreadPoolExecutor(4) as pool:  # readers racing to bring the phase up to date
            raced = list(
                pool.map(lambda _: api.credit_tables(phase.fixture.challenge_id, "phase-1"), range(4))
            )
        assert all(tables == raced[0] for tables in raced)
        kept, updated, afresh = _kept_and_afresh(api, phase.fixture.challenge_id)
        assert kept is before and len(kept.versions) == 5  # brought up to date, not read again
        assert updated == afresh and updated[1][1].total == first.total + 1
    finally:
        api.close()


def test_an_invalidated_version_counts_as_unscored_and_what_built_on_it_is_recomputed(
    phase: Phase, client: CoopClient
):
    api = phase.fixture.api()
    try:
        client.credit(phase.fixture.challenge_id, "phase-1")  # kept, then brought up to date
        with api.sessions.begin() as session:
            invalidate(session, phase.ids["a2"], "olga", "read the answers")
        table = client.credit(phase.fixture.challenge_id, "phase-1")
        credit = {row.person: row.credit for row in table.rows}
        assert "alice" not in credit  # her only gain was the invalidated version
        assert credit["bob"] == pytest.approx(phase.rmse["a1"] - phase.rmse["b1"])
        graph = client.contribution_graph(phase.fixture.challenge_id, "phase-1", detail="steps")
        flags = {node.commit: node.flags for node in graph.nodes}
        assert "invalidated" in flags[phase.shas["a2"]]
        _, updated, afresh = _kept_and_afresh(api, phase.fixture.challenge_id)
        assert updated == afresh
    finally:
        api.close()


def test_a_scored_commit_gone_from_the_repository_is_named_with_a_409(phase: Phase, client: CoopClient):
    gone = "0123456789abcdef0123456789abcdef01234567"
    api = phase.fixture.api()
    try:
        with api.sessions.begin() as session:
            row = enqueue(
                session,
                challenge_id=phase.fixture.challenge_id,
                phase_id="phase-1",
                commit_sha=gone,
                notebook_path=ALICE,
                username="alice",
                parameters={},
            )
            row.status = "scored"
        with pytest.raises(CoopClientError) as refused:
            client.credit(phase.fixture.challenge_id, "phase-1")
        assert refused.value.status == 409 and "0123456789ab" in refused.value.message
        with pytest.raises(HistoryRewritten):
            api.credit_tables(phase.fixture.challenge_id, "phase-1")
        assert api.submission(phase.ids["a1"])[1].public["rmse"] == phase.rmse["a1"]  # data intact
    finally:
        api.close()


def test_the_credit_routes_are_documented_with_their_response_models(tmp_path):
    api = CoopAPI(ScorerSettings(home=str(tmp_path / "home")))
    try:
        paths = create_app(api, TOKENS, prefix=PREFIX).openapi()["paths"]
    finally:
        api.close()
    phase = f"{PREFIX}api/challenges/{{challenge_id}}/phases/{{phase_id}}"
    for route, model in (("credit", "CreditTableOut"), ("graph", "ContributionGraphOut")):
        answers = paths[f"{phase}/{route}"]["get"]["responses"]
        assert answers["200"]["content"]["application/json"]["schema"]["$ref"].endswith(model)
        assert {"403", "409", "422"} <= set(answers)
