"""The commit graph read from a real git repository: per-notebook lineage, merges, copies and
co-authors."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import nbformat
import pytest

from coop_client.git import run
from scorer.credit.graph import CreditError
from scorer.credit.history import Version, read_graph, verified_people
from scorer.credit.ladder import Metric, compute
from scorer.ingest.repo import ChallengeRepo

IDENTITY = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.org", "GIT_COMMITTER_NAME": "A"}
IDENTITY |= {"GIT_COMMITTER_EMAIL": "a@example.org"}


def write(repo: Path, path: str, source: str) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, repo / path)


def commit(repo: Path, message: str) -> str:
    run(repo, "add", "-A")
    run(repo, "commit", "-q", "-m", message, env=IDENTITY)
    return run(repo, "rev-parse", "HEAD").strip()


def test_a_phase_graph_follows_each_notebook_through_merges_and_copies(tmp_path):
    repo = tmp_path / "challenge"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    alice, bob = "solutions/alice/model.ipynb", "solutions/bob/model.ipynb"
    write(repo, alice, "model = 1")
    a1 = commit(repo, "alice: a first model")
    write(repo, alice, "model = 2\n# a longer model so that a copy of it is recognised as one")
    a2 = commit(repo, "alice: better")
    run(repo, "checkout", "-q", "-b", "side", a2)
    write(repo, alice, "model = 3\n# a longer model so that a copy of it is recognised as one")
    a3 = commit(repo, "alice: on a side branch")
    run(repo, "checkout", "-q", "main")
    (repo / "solutions/bob").mkdir(parents=True)
    (repo / bob).write_bytes((repo / alice).read_bytes())
    b1 = commit(repo, "bob: start from alice's model")
    write(repo, bob, "model = 2\n# a longer model so that a copy of it is recognised as one\nextra = 1")
    b2 = commit(
        repo, "bob: tuned\n\nCo-authored-by: Carol <CAROL@example.org>\nCo-authored-by: Eve <eve@example.org>"
    )
    write(repo, alice, "model = 4\n# a longer model so that a copy of it is recognised as one")
    a4 = commit(repo, "alice: main line")
    run(repo, "merge", "-q", "-X", "theirs", "--no-edit", "side", env=IDENTITY)
    merged = run(repo, "rev-parse", "HEAD").strip()
    write(repo, alice, "model = 5\n# a longer model so that a copy of it is recognised as one")
    m = commit(repo, "alice: after the merge")

    versions = [
        Version(a1, alice, 1),
        Version(a2, alice, 3),
        Version(a3, alice, 3.5),
        Version(b1, bob, 3),
        Version(b2, bob, 4),
        Version(a4, alice, 3.2),
        Version(merged, alice, None),
        Version(m, alice, 5),
    ]
    pushers = {
        a1: "alice",
        a2: "alice",
        a3: "alice",
        b1: "bob",
        b2: "bob",
        a4: "alice",
        merged: "alice",
        m: "alice",
    }
    aliases = {"carol@example.org": "carol"}
    graph = read_graph(
        ChallengeRepo(repo), versions, lambda facts: verified_people(pushers[facts.sha], facts, aliases)
    )

    node = graph.commits
    assert node[f"{b1}:{bob}"].copied_from == (f"{a2}:{alice}",)  # the copy descends from alice's version
    assert node[f"{b2}:{bob}"].people == ("bob", "carol")  # eve's email is no verified alias
    assert node[f"{b2}:{bob}"].parents == (f"{b1}:{bob}",)
    assert set(node[f"{merged}:{alice}"].parents) == {f"{a4}:{alice}", f"{a3}:{alice}"}
    ladder = compute(graph, Metric())
    assert ladder.nodes[f"{b1}:{bob}"].increment == 0  # a copy earns nothing for what it copied
    assert ladder.totals["bob"] == ladder.totals["carol"] > 0
    assert ladder.totals["alice"] > ladder.totals["bob"]


def test_a_scored_commit_gone_from_a_rewritten_history_is_named(tmp_path):
    repo = tmp_path / "challenge"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    write(repo, "solutions/alice/model.ipynb", "model = 1")
    kept = commit(repo, "alice: a model")
    gone = "0123456789abcdef0123456789abcdef01234567"
    versions = [
        Version(kept, "solutions/alice/model.ipynb", 1),
        Version(gone, "solutions/alice/model.ipynb", 2),
    ]
    with pytest.raises(
        CreditError, match=r"no longer in the repository \(history rewritten\?\): 0123456789ab"
    ):
        read_graph(ChallengeRepo(repo), versions, lambda facts: ("alice",))


def _fast_import(repo: Path, commits: int, path: str) -> list[str]:
    """``commits`` commits in a chain, each changing ``path``; their SHAs, oldest first."""
    stream = []
    for at in range(1, commits + 1):
        data = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"model = {at}")]))
        message = f"version {at}"
        stream += [
            "commit refs/heads/main",
            f"mark :{at}",
            f"committer A <a@example.org> {1_700_000_000 + at} +0000",
            f"data {len(message)}",
            message,
            *([f"from :{at - 1}"] if at > 1 else []),
            f"M 100644 inline {path}",
            f"data {len(data.encode())}",
            data,
            "",
        ]
    run(repo, "fast-import", "--quiet", "--export-marks=marks", input="\n".join(stream) + "\n")
    marks = dict(line.split() for line in (repo / "marks").read_text().splitlines())
    return [marks[f":{at}"] for at in range(1, commits + 1)]


def test_a_ten_thousand_deep_history_is_read_in_one_pass_without_recursion(tmp_path):
    repo = tmp_path / "challenge.git"
    run(None, "init", "-q", "--bare", str(repo))
    path = "solutions/alice/model.ipynb"
    shas = _fast_import(repo, 10_000, path)
    versions = [Version(sha, path, at / 10_000) for at, sha in enumerate(shas)]
    graph = read_graph(ChallengeRepo(repo), versions, lambda facts: ("alice",))
    assert graph.commits[f"{shas[-1]}:{path}"].parents == (f"{shas[-2]}:{path}",)
    ladder = compute(graph, Metric())
    assert ladder.totals["alice"] == Fraction(versions[-1].score) - Fraction(versions[0].score)


def test_an_octopus_merge_of_eight_branches_has_eight_parents(tmp_path):
    repo = tmp_path / "challenge"
    repo.mkdir()
    run(repo, "init", "-q", "-b", "main")
    alice = "solutions/alice/model.ipynb"
    write(repo, alice, "model = 0")
    base = commit(repo, "alice: the start")
    tips, versions = [], [Version(base, alice, 0)]
    for branch in range(8):
        run(repo, "checkout", "-q", "-b", f"b{branch}", base)
        write(repo, f"solutions/alice/part{branch}.py", f"part = {branch}")
        write(repo, alice, f"model = {branch + 1}")
        tips.append(commit(repo, f"alice: branch {branch}"))
        versions.append(Version(tips[-1], alice, branch + 1))
    run(repo, "checkout", "-q", "main")
    run(repo, "merge", "-q", "-s", "ours", "--no-commit", *tips, env=IDENTITY)
    write(repo, alice, "model = 'all of them'")
    head = commit(repo, "alice: the octopus, resolved")
    versions.append(Version(head, alice, 10))
    graph = read_graph(ChallengeRepo(repo), versions, lambda facts: ("alice",))
    node = graph.commits[f"{head}:{alice}"]
    assert set(node.parents) == {f"{sha}:{alice}" for sha in (base, *tips)}  # main, then 8 branches
    ladder = compute(graph, Metric())
    assert ladder.nodes[node.sha].merge is not None and ladder.nodes[node.sha].merge.method == "exact"
    assert sum(ladder.totals.values()) == 10
