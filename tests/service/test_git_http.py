"""The challenge repository over smart HTTP: the real git CLI against uvicorn on loopback.

One served repository for the module; each test works in its own clone, and every refused push
is checked for its ``remote:`` message and for leaving the served repository's refs unchanged.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scorer.ingest.policy import MAX_FILE_SIZE
from scorer.ingest.served import serve_repository
from scorer.service import git_http
from scorer.service.app import create_app
from scorer.service.auth import SUBMIT, Identity, StaticTokens
from tests.conftest import make_challenge
from tests.service.conftest import PREFIX, TOKENS, running

TOKENS_WITH_VIEWER = StaticTokens({**TOKENS.tokens, "carol-token": Identity("carol", frozenset())})
assert SUBMIT in TOKENS.tokens["alice-token"].scopes


@dataclass
class Served:
    base: str  # http://127.0.0.1:<port>/services/coop
    repo: Path  # the served bare repository
    challenge_id: str
    home: Path  # a HOME for git clients

    def url(self, user: str | None = None, token: str | None = None) -> str:
        address = f"{self.base}/git/{self.challenge_id}.git"
        if user is None:
            return address
        return address.replace("http://", f"http://{user}:{token}@", 1)


def run_git(
    cwd: Path, *args: str, home: Path, user: str = "someone", check: bool = True, timeout: float = 20
) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "GIT_AUTHOR_NAME": user,
        "GIT_AUTHOR_EMAIL": f"{user}@example.org",
        "GIT_COMMITTER_NAME": user,
        "GIT_COMMITTER_EMAIL": f"{user}@example.org",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(
            f"git {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("git-http")
    fixture = make_challenge(root)
    home = Path(fixture.settings.home)
    repo = serve_repository(home, fixture.challenge_id, fixture.bare)
    api = fixture.api()
    client_home = root / "client-home"
    client_home.mkdir()
    try:
        with running(create_app(api, TOKENS_WITH_VIEWER, prefix=PREFIX)) as url:
            yield Served(url + PREFIX.rstrip("/"), repo, fixture.challenge_id, client_home)
    finally:
        api.close()


def refs(repo: Path) -> str:
    done = subprocess.run(
        ["git", "for-each-ref", "--format=%(objectname) %(refname)"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def clone(served: Served, where: Path, user: str, token: str) -> Path:
    run_git(where.parent, "clone", "-q", served.url(user, token), str(where), home=served.home)
    return where


def commit(
    work: Path, served: Served, user: str, files: dict[str, bytes | str], message: str = "work"
) -> str:
    for relative, content in files.items():
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    run_git(work, "add", "--all", home=served.home)
    run_git(work, "commit", "-q", "-m", message, home=served.home, user=user)
    return run_git(work, "rev-parse", "HEAD", home=served.home).stdout.strip()


def refused(served: Served, work: Path, *push_args: str, expect: str) -> str:
    """Push, expect a refusal whose ``remote:`` output contains ``expect``, and no ref changed."""
    before = refs(served.repo)
    done = run_git(work, "push", *push_args, home=served.home, check=False)
    assert done.returncode != 0, done.stderr
    assert "remote: " in done.stderr and expect in done.stderr, done.stderr
    assert "pre-receive hook declined" in done.stderr, done.stderr
    assert refs(served.repo) == before
    return done.stderr


def test_anonymous_clone_works(served: Served, tmp_path: Path) -> None:
    run_git(tmp_path, "clone", "-q", served.url(), "anon", home=served.home)
    assert (tmp_path / "anon" / "challenge.yaml").is_file()
    head = run_git(tmp_path / "anon", "rev-parse", "HEAD", home=served.home).stdout.strip()
    assert head in refs(served.repo)


def test_anonymous_push_is_refused_with_an_auth_error(served: Served, tmp_path: Path) -> None:
    run_git(tmp_path, "clone", "-q", served.url(), "anon", home=served.home)
    work = tmp_path / "anon"
    commit(work, served, "alice", {"solutions/alice/a.txt": "hello"})
    before = refs(served.repo)
    done = run_git(work, "push", "origin", "HEAD:refs/heads/alice/anon", home=served.home, check=False)
    assert done.returncode != 0
    assert "could not read Username" in done.stderr or "Authentication failed" in done.stderr, done.stderr
    assert refs(served.repo) == before


def test_push_needs_auth_at_the_http_level(served: Served) -> None:
    url = f"{served.url()}/info/refs?service=git-receive-pack"
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith('Basic realm="coop"')
    no_scope = httpx.get(url, auth=("carol", "carol-token"))
    assert no_scope.status_code == 403
    wrong = httpx.get(url, auth=("alice", "not-a-token"))
    assert wrong.status_code == 401
    allowed = httpx.get(url, auth=("alice", "alice-token"))
    assert allowed.status_code == 200
    assert allowed.headers["content-type"] == "application/x-git-receive-pack-advertisement"


def test_a_push_with_a_wrong_token_shows_the_services_reason(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    commit(work, served, "alice", {"solutions/alice/typo.txt": "pushed with a mistyped token"})
    run_git(work, "remote", "set-url", "origin", served.url("alice", "not-a-token"), home=served.home)
    before = refs(served.repo)
    done = run_git(work, "push", "origin", "HEAD:refs/heads/alice/typo", home=served.home, check=False)
    assert done.returncode != 0
    assert "remote: the API token is not valid (expired, revoked or mistyped)" in done.stderr, done.stderr
    assert "Authentication failed" in done.stderr
    assert refs(served.repo) == before


def test_git_errors_are_one_line_of_text_and_the_api_keeps_json(served: Served) -> None:
    wrong = httpx.get(f"{served.url()}/info/refs?service=git-receive-pack", auth=("alice", "not-a-token"))
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("text/plain")
    assert wrong.headers["www-authenticate"].startswith('Basic realm="coop"')
    assert wrong.text == "the API token is not valid (expired, revoked or mistyped)\n"
    missing = httpx.get(f"{served.base}/git/nope.git/info/refs?service=git-upload-pack")
    assert (missing.status_code, missing.text) == (404, "no challenge 'nope'\n")
    api = httpx.get(f"{served.base}/api/me", auth=("alice", "not-a-token"))
    assert api.status_code == 401 and api.headers["www-authenticate"].startswith('Basic realm="coop"')
    assert api.json() == {
        "error": "the API token is not valid (expired, revoked or mistyped)",
        "code": "bad-credentials",
    }


def test_git_waits_while_the_starting_service_prepares_its_repositories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = make_challenge(tmp_path / "starting")
    ready = threading.Event()
    with running(create_app(fixture.api(), TOKENS_WITH_VIEWER, prefix=PREFIX, git_ready=ready)) as url:
        address = f"{url}{PREFIX.rstrip('/')}/git/{fixture.challenge_id}.git"
        monkeypatch.setattr(git_http, "READY_WAIT", 0.2)
        early = httpx.get(f"{address}/info/refs?service=git-upload-pack")
        assert (early.status_code, early.text) == (
            503,
            "the service is still preparing the challenges' repositories: try again shortly\n",
        )
        assert httpx.get(f"{url}{PREFIX}api/challenges").status_code == 200  # the API answers meanwhile
        monkeypatch.setattr(git_http, "READY_WAIT", 120.0)

        def prepare() -> None:
            serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
            ready.set()

        threading.Timer(1.0, prepare).start()  # the clone below starts before the repository exists
        run_git(tmp_path, "clone", "-q", address, "waited", home=tmp_path, timeout=120)
    assert (tmp_path / "waited" / "challenge.yaml").is_file()


def test_unknown_challenge_is_404(served: Served) -> None:
    for name in ("nope", "..", "x%2F..%2Fy"):
        response = httpx.get(f"{served.base}/git/{name}.git/info/refs?service=git-upload-pack")
        assert response.status_code == 404, (name, response.text)


def test_alice_pushes_to_her_namespace(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    sha = commit(work, served, "alice", {"solutions/alice/idea.txt": "an idea"})
    done = run_git(work, "push", "origin", "HEAD:refs/heads/alice/idea", home=served.home)
    assert "alice/idea" in done.stderr
    assert f"{sha} refs/heads/alice/idea" in refs(served.repo)


def test_alice_cannot_push_outside_her_namespace(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    commit(work, served, "alice", {"solutions/alice/x.txt": "x"})
    out = refused(served, work, "origin", "HEAD:refs/heads/bob/x", expect="refusing refs/heads/bob/x")
    assert "try: git push origin HEAD:refs/heads/alice/my-idea" in out
    refused(served, work, "origin", "HEAD:refs/heads/main", expect="refusing refs/heads/main")
    refused(served, work, "origin", "HEAD:refs/tags/v1", expect="refusing refs/tags/v1")


def test_alice_cannot_change_organiser_paths(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    commit(work, served, "alice", {"scoring.py": "def score(): return 1.0\n"})
    out = refused(
        served, work, "origin", "HEAD:refs/heads/alice/cheat", expect="scoring.py is owned by the organiser"
    )
    assert "git checkout origin/main -- scoring.py" in out
    # deleting an organiser-owned file in a folder is refused as well
    run_git(work, "reset", "-q", "--hard", "origin/main", home=served.home)
    run_git(work, "rm", "-q", "-r", "baselines", home=served.home)
    run_git(work, "commit", "-q", "-m", "drop baselines", home=served.home, user="alice")
    refused(served, work, "origin", "HEAD:refs/heads/alice/cheat", expect="baselines/")


def test_alice_cannot_change_bobs_folder(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    commit(work, served, "alice", {"solutions/bob/fit.ipynb": "{}"})
    refused(served, work, "origin", "HEAD:refs/heads/alice/other", expect="is in bob's folder")


def test_force_push_and_delete_are_refused_for_alice(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    commit(work, served, "alice", {"solutions/alice/v1.txt": "one"})
    run_git(work, "push", "-q", "origin", "HEAD:refs/heads/alice/forced", home=served.home)
    run_git(work, "reset", "-q", "--hard", "HEAD~1", home=served.home)
    commit(work, served, "alice", {"solutions/alice/v2.txt": "two"})
    refused(served, work, "--force", "origin", "HEAD:refs/heads/alice/forced", expect="refusing to rewrite")
    refused(
        served,
        work,
        "origin",
        ":refs/heads/alice/forced",
        expect="refusing to delete refs/heads/alice/forced",
    )


def test_files_over_the_cap_are_refused(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    commit(work, served, "alice", {"solutions/alice/big.bin": os.urandom(MAX_FILE_SIZE + 1)})
    refused(served, work, "origin", "HEAD:refs/heads/alice/big", expect="over the 10485760 bytes limit")


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A challenge whose spec caps files at 64 KiB (``solutions.max_file_size``)."""
    root = tmp_path_factory.mktemp("git-capped")
    fixture = make_challenge(root, edit={"solutions": {"max_file_size": "64KiB"}})
    repo = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    api = fixture.api()
    (root / "client-home").mkdir()
    try:
        with running(create_app(api, TOKENS_WITH_VIEWER, prefix=PREFIX)) as url:
            yield Served(url + PREFIX.rstrip("/"), repo, fixture.challenge_id, root / "client-home")
    finally:
        api.close()


def test_the_challenge_sets_its_own_size_cap(capped: Served, tmp_path: Path) -> None:
    work = clone(capped, tmp_path / "alice", "alice", "alice-token")
    commit(work, capped, "alice", {"solutions/alice/big.bin": os.urandom(100 * 1024)})
    expect = "solutions/alice/big.bin is 100.0 KiB, over the 64.0 KiB limit"
    refused(capped, work, "origin", "HEAD:refs/heads/alice/big", expect=expect)
    run_git(work, "reset", "-q", "--hard", "origin/main", home=capped.home)
    sha = commit(work, capped, "alice", {"solutions/alice/fits.bin": os.urandom(64 * 1024)})
    run_git(work, "push", "-q", "origin", "HEAD:refs/heads/alice/fits", home=capped.home)
    assert f"{sha} refs/heads/alice/fits" in refs(capped.repo)


def test_bob_is_told_every_problem_at_once(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "bob", "bob", "bob-token")
    commit(work, served, "bob", {"challenge.yaml": "id: mine\n", "solutions/bob/ok.txt": "ok"})
    out = refused(served, work, "origin", "HEAD:refs/heads/main", expect="refusing refs/heads/main")
    assert "challenge.yaml is owned by the organiser" in out
    assert "push refused (2 problems); nothing was changed" in out


def test_organiser_pushes_to_main_but_never_rewrites_it(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "olga", "olga", "org-token")
    sha = commit(work, served, "olga", {"scoring.py": "# tuned\n", "baselines/notes.md": "notes"})
    run_git(work, "push", "-q", "origin", "HEAD:refs/heads/main", home=served.home)
    assert f"{sha} refs/heads/main" in refs(served.repo)
    run_git(work, "reset", "-q", "--hard", "HEAD~1", home=served.home)
    commit(work, served, "olga", {"scoring.py": "# other\n"})
    refused(
        served,
        work,
        "--force",
        "origin",
        "HEAD:refs/heads/main",
        expect="the organiser ref only moves forward",
    )
    refused(served, work, "origin", ":refs/heads/main", expect="the organiser ref is never deleted")


def test_merging_the_organisers_update_is_not_a_change_of_organiser_paths(
    served: Served, tmp_path: Path
) -> None:
    alice = clone(served, tmp_path / "alice", "alice", "alice-token")
    commit(alice, served, "alice", {"solutions/alice/merge.txt": "mine"})
    run_git(alice, "push", "-q", "origin", "HEAD:refs/heads/alice/merge", home=served.home)
    olga = clone(served, tmp_path / "olga", "olga", "org-token")
    commit(olga, served, "olga", {"scoring.py": "# phase 2 metric\n"})
    run_git(olga, "push", "-q", "origin", "HEAD:refs/heads/main", home=served.home)
    run_git(alice, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main", home=served.home, user="alice")
    merged = run_git(alice, "rev-parse", "HEAD", home=served.home).stdout.strip()
    run_git(alice, "push", "-q", "origin", "HEAD:refs/heads/alice/merge", home=served.home)
    assert f"{merged} refs/heads/alice/merge" in refs(served.repo)
    # an "evil merge" that changes scoring.py itself is refused
    run_git(alice, "reset", "-q", "--hard", "HEAD~1", home=served.home)
    run_git(alice, "merge", "-q", "--no-commit", "origin/main", home=served.home, user="alice", check=False)
    (alice / "scoring.py").write_text("def cheat(): ...\n")
    run_git(alice, "commit", "-q", "-am", "merge main", home=served.home, user="alice")
    refused(
        served, alice, "origin", "HEAD:refs/heads/alice/merge2", expect="scoring.py is owned by the organiser"
    )


@pytest.mark.needs("curl")  # httpx normalises '..'
def test_dot_dot_paths_are_404(served: Served) -> None:
    url = f"{served.url()}/objects/../info/refs?service=git-upload-pack"
    done = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--path-as-is", url],
        capture_output=True,
        text=True,
    )
    assert done.stdout == "404"


def test_the_scorer_mirrors_a_challenge_by_url(served: Served, tmp_path: Path) -> None:
    """`coop score --repo URL`: the scorer's mirror fetches over smart HTTP like any client."""
    from scorer.ingest.repo import ChallengeRepo

    mirror = ChallengeRepo.mirror(served.url(), tmp_path / "mirrors")
    main = run_git(served.repo, "rev-parse", "refs/heads/main", home=served.home).stdout.strip()
    assert mirror.resolve("main") == main
    assert mirror.read(main, "challenge.yaml").startswith(b"#") or b"id:" in mirror.read(
        main, "challenge.yaml"
    )


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A challenge whose phase keeps code closed (RAMP's competitive mode)."""
    root = tmp_path_factory.mktemp("git-closed")
    fixture = make_challenge(root, edit={"phases.0.open_code": False})
    repo = serve_repository(Path(fixture.settings.home), fixture.challenge_id, fixture.bare)
    api = fixture.api()
    (root / "client-home").mkdir()
    try:
        with running(create_app(api, TOKENS_WITH_VIEWER, prefix=PREFIX)) as url:
            yield Served(url + PREFIX.rstrip("/"), repo, fixture.challenge_id, root / "client-home")
    finally:
        api.close()


def remote_heads(served: Served, cwd: Path, user: str | None = None, token: str | None = None) -> set[str]:
    out = run_git(cwd, "ls-remote", "--heads", served.url(user, token), home=served.home).stdout
    return {line.split("\t")[1] for line in out.splitlines()}


def test_closed_code_shows_each_participant_only_the_organiser_branch_and_their_own(
    closed: Served, tmp_path: Path
) -> None:
    for user in ("alice", "bob"):
        work = clone(closed, tmp_path / user, user, f"{user}-token")
        commit(work, closed, user, {f"solutions/{user}/idea.txt": user})
        run_git(work, "push", "-q", "origin", f"HEAD:refs/heads/{user}/idea", home=closed.home)
    everything = {"refs/heads/main", "refs/heads/alice/idea", "refs/heads/bob/idea"}
    assert remote_heads(closed, tmp_path, "olga", "org-token") == everything
    assert remote_heads(closed, tmp_path, "alice", "alice-token") == {
        "refs/heads/main",
        "refs/heads/alice/idea",
    }
    anonymous = run_git(tmp_path, "ls-remote", closed.url(), home=closed.home, check=False)
    assert anonymous.returncode != 0 and "terminal prompts disabled" in anonymous.stderr  # asked to log in
    bobs = run_git(closed.repo, "rev-parse", "refs/heads/bob/idea", home=closed.home).stdout.strip()
    work = tmp_path / "alice"
    done = run_git(work, "fetch", "origin", bobs, home=closed.home, check=False)
    assert done.returncode != 0  # a hidden commit cannot be fetched by its SHA either


def pkt(line: bytes) -> bytes:
    return b"%04x" % (len(line) + 4) + line


def side_band(body: bytes) -> tuple[bytes, str]:
    """git's side-band-64k answer: the report (band 1) and what the hooks printed (band 2)."""
    report, messages, rest = b"", b"", body
    while len(rest) >= 4 and rest[:4] != b"0000":
        size = int(rest[:4], 16)
        band, payload, rest = rest[4:5], rest[5:size], rest[size:]
        if band == b"\x01":
            report += payload
        elif band == b"\x02":
            messages += payload
    return report, messages.decode(errors="replace")


def test_a_push_cannot_build_on_a_commit_the_closed_phase_hides(closed: Served, tmp_path: Path) -> None:
    """Bob learns the SHA of Alice's hidden commit (the boards show submissions' commits) and
    sends, in a pack made by hand, a merge of main and that commit keeping main's files (git's
    own push cannot: it has to read the parents). The push is refused: his own branch would
    let him fetch Alice's work."""
    alice = clone(closed, tmp_path / "alice", "alice", "alice-token")
    secret = commit(alice, closed, "alice", {"solutions/alice/secret.txt": "alice's idea"})
    run_git(alice, "push", "-q", "origin", "HEAD:refs/heads/alice/secret", home=closed.home)
    bob = clone(closed, tmp_path / "bob", "bob", "bob-token")
    tree = run_git(bob, "write-tree", home=closed.home).stdout.strip()
    main = run_git(bob, "rev-parse", "HEAD", home=closed.home).stdout.strip()
    body = (  # a merge that keeps main's tree: it changes nothing of anyone's folder
        f"tree {tree}\nparent {main}\nparent {secret}\nauthor bob <bob@example.org> 1700000000 +0000\n"
        "committer bob <bob@example.org> 1700000000 +0000\n\nbuilt on alice's closed work\n"
    )
    git = ["git", "-C", str(bob)]
    forged = subprocess.run(
        [*git, "hash-object", "-t", "commit", "-w", "--stdin"], input=body.encode(), capture_output=True
    )
    objects = f"{forged.stdout.decode().strip()}\n{tree}\n".encode()  # no --revs: nothing is walked
    pack = subprocess.run([*git, "pack-objects", "--stdout", "-q"], input=objects, capture_output=True).stdout
    ref = b"refs/heads/bob/borrowed"
    command = b"0" * 40 + b" " + forged.stdout.strip() + b" " + ref + b"\0report-status side-band-64k\n"
    answer = httpx.post(
        closed.url() + "/git-receive-pack",
        content=pkt(command) + b"0000" + pack,
        headers={"Content-Type": "application/x-git-receive-pack-request"},
        auth=("bob", "bob-token"),
        timeout=60,
    )
    report, messages = side_band(answer.content)
    assert b"ng " + ref in report, (report, messages)
    assert f"refusing {ref.decode()}: it builds on {secret[:10]}" in messages, messages
    assert ref.decode() not in remote_heads(closed, tmp_path, "bob", "bob-token")
    honest = commit(bob, closed, "bob", {"solutions/bob/mine.txt": "bob's own"})  # on main: fine
    run_git(bob, "push", "-q", "origin", f"{honest}:refs/heads/bob/mine", home=closed.home)
