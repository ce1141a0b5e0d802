"""The one git runner (coop_client.git) against real git in a temporary repository."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from coop_client.errors import CoopError, GitError
from coop_client.git import ZERO_SHA, acall, arun, call, is_zero, run, subcommand

IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "a.txt").write_text("hello\n")
    subprocess.run(["git", "add", "a.txt"], cwd=work, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "first"], cwd=work, env=_env(), check=True)
    return work


def _env() -> dict[str, str]:
    import os

    return {**os.environ, **IDENTITY}


def test_run_returns_stdout(repo: Path):
    sha = run(repo, "rev-parse", "HEAD").strip()
    assert len(sha) == 40 and run(repo, "cat-file", "-t", sha) == "commit\n"
    assert run(repo, "show", "HEAD:a.txt") == "hello\n"


def test_a_failure_carries_the_command_exit_code_and_stderr(repo: Path):
    with pytest.raises(GitError) as caught:
        run(repo, "-c", "core.quotepath=off", "show", "HEAD:missing.txt")
    error = caught.value
    assert isinstance(error, CoopError)
    assert error.command == ("git", "-c", "core.quotepath=off", "show", "HEAD:missing.txt")
    assert error.exit_code == 128
    assert "missing.txt" in error.stderr and error.stderr == error.stderr.strip()
    assert error.user_message == "git show failed"  # nothing of the server's paths or git's words
    assert "exited with 128" in error.log_message and "missing.txt" in error.log_message


def test_call_returns_a_failure_instead_of_raising(repo: Path):
    done = call(repo, "rev-parse", "--verify", "--quiet", "refs/heads/nowhere")
    assert not done.ok and done.exit_code == 1 and done.out == ""
    with pytest.raises(GitError):
        done.check()
    assert call(repo, "rev-parse", "HEAD").check().ok


def test_git_that_cannot_start_is_a_git_error(tmp_path: Path):
    with pytest.raises(GitError) as caught:
        run(tmp_path / "absent", "status")
    assert caught.value.exit_code is None and caught.value.user_message == "git status failed"


def test_input_reaches_git_stdin(repo: Path):
    blob = run(repo, "hash-object", "-w", "--stdin", input="from stdin\n").strip()
    assert run(repo, "cat-file", "blob", blob) == "from stdin\n"
    assert call(repo, "cat-file", "blob", blob).stdout == b"from stdin\n"


def test_env_is_passed_above_the_process_environment(repo: Path):
    (repo / "b.txt").write_text("b\n")
    run(repo, "add", "b.txt")
    env = {**IDENTITY, "GIT_AUTHOR_NAME": "Grace Hopper"}
    run(repo, "commit", "-q", "-m", "second", env=env)
    assert run(repo, "log", "-1", "--format=%an|%ae").strip() == "Grace Hopper|ada@example.org"


def test_git_never_prompts_and_speaks_english(repo: Path):
    env = run(repo, "-c", "alias.env=!env", "env")
    assert "GIT_TERMINAL_PROMPT=0" in env.splitlines() and "LC_ALL=C.UTF-8" in env.splitlines()


def test_a_bare_repository_is_named_by_git_dir(repo: Path, tmp_path: Path):
    bare = tmp_path / "served.git"
    run(None, "clone", "--bare", "-q", str(repo), str(bare))
    head = run(bare, "rev-parse", "HEAD", bare=True)
    assert call(bare, "rev-parse", "HEAD", bare=True).command[:3] == ("git", "--git-dir", str(bare))
    assert head == run(repo, "rev-parse", "HEAD")


def test_a_timeout_is_a_git_error(repo: Path):
    with pytest.raises(GitError) as caught:
        run(repo, "-c", "alias.wait=!sleep 3", "wait", timeout=0.2)
    assert caught.value.exit_code is None and "did not finish" in caught.value.log_message


def test_the_async_twin_behaves_the_same(repo: Path):
    async def both() -> None:
        assert await arun(repo, "show", "HEAD:a.txt") == "hello\n"
        blob = (await arun(repo, "hash-object", "--stdin", input="x\n")).strip()
        assert blob == run(repo, "hash-object", "--stdin", input="x\n").strip()
        failed = await acall(repo, "show", "HEAD:missing.txt")
        assert not failed.ok and failed.exit_code == 128 and "missing.txt" in failed.stderr
        with pytest.raises(GitError) as caught:
            await arun(repo, "show", "HEAD:missing.txt")
        assert caught.value.exit_code == 128 and caught.value.command[-1] == "HEAD:missing.txt"
        alias = 'alias.show-name=!printf %s "$GIT_AUTHOR_NAME"'
        assert await arun(repo, "-c", alias, "show-name", env={"GIT_AUTHOR_NAME": "Lin"}) == "Lin"
        with pytest.raises(GitError) as absent:
            await arun(repo / "absent", "status")
        assert absent.value.exit_code is None

    asyncio.run(both())


def test_remote_lines_and_text_of_a_result():
    from coop_client.git import GitResult

    done = GitResult(("git", "push"), 1, b"", "remote: \nremote: submission 3 queued\nTo there\n")
    assert done.remote == ["submission 3 queued"]
    assert done.text.endswith("To there")


def test_constants_and_subcommands():
    assert is_zero(ZERO_SHA) and is_zero("0000000") and not is_zero("0" * 39 + "1")
    assert subcommand(["-c", "user.name=x", "--git-dir", "/r", "pull", "--no-rebase"]) == "pull"
    assert subcommand(["--version"]) == "(no subcommand)"
