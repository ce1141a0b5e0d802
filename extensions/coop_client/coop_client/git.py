"""The one way Coopetition runs git: the git CLI as a subprocess, sync (:func:`run`, :func:`call`)
and async (:func:`arun`, :func:`acall`, for a kernel's event loop), with git's constants.

``repo`` is the folder git runs in (a work tree, or a bare repository), or with ``bare=True`` a
repository named by ``--git-dir`` (no discovery: ``safe.bareRepository=explicit`` still allows it);
``None`` runs git where the process is (a hook, whose repository git names in the environment).
git never prompts (a missing credential is an error) and speaks English (its messages are parsed).
:func:`enable_nbdime` makes a repository diff and merge notebooks with nbdime.
:func:`run` returns stdout and raises :class:`GitError` on a non-zero exit; :func:`call` returns the
whole :class:`GitResult` for callers that read a failure's stderr, and raises only when git could
not run or finish.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from coop_client.errors import GitError

#: The object name git gives to "nothing": the old side of a created ref, the new side of a deleted one.
ZERO_SHA = "0" * 40
HEADS = "refs/heads/"
#: Notebooks diff and merge with nbdime (``git-nbdiffdriver``, ``git-nbmergedriver``).
NOTEBOOK_ATTRIBUTES = "*.ipynb diff=jupyternotebook merge=jupyternotebook\n"
#: What every git command runs with, above the process's environment and below the caller's.
BASE_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C.UTF-8"}
#: Global options that take a value as the next argument (skipped to find the subcommand).
_VALUED_OPTIONS = {"-c", "-C", "--git-dir", "--work-tree", "--namespace", "--exec-path"}


def is_zero(sha: str) -> bool:
    """Whether ``sha`` is git's all-zero name (of any length: ``git diff-tree`` abbreviates)."""
    return not sha.strip("0")


@dataclass(frozen=True)
class GitResult:
    """A git command that ran to its end: its argv, exit code and output."""

    command: tuple[str, ...]
    exit_code: int
    stdout: bytes
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def remote(self) -> list[str]:
        """The lines the server printed (git shows them as ``remote: …``)."""
        lines = (
            line.removeprefix("remote:").strip()
            for line in self.stderr.splitlines()
            if line.startswith("remote:")
        )
        return [line for line in lines if line]

    @property
    def text(self) -> str:
        """What git said, for showing: stderr, else stdout, at most the last 2000 characters."""
        return (self.stderr.strip() or self.out.strip())[-2000:]

    def check(self) -> GitResult:
        """This result, or :class:`GitError` when git failed."""
        if not self.ok:
            raise _failure(self.command, self.exit_code, self.stderr)
        return self


def call(
    repo: Path | None,
    *args: str,
    bare: bool = False,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> GitResult:
    """Run ``git args``; the result whatever the exit code (:class:`GitError` only when git could
    not be started or did not finish within ``timeout`` seconds)."""
    command, cwd, environment = _prepare(repo, args, bare, env)
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=environment,
            input=None if input is None else input.encode(),
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _failure(command, None, f"did not finish in {timeout:g} s") from None
    except OSError as exc:
        raise _failure(command, None, str(exc)) from None
    return GitResult(command, done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))


def run(
    repo: Path | None,
    *args: str,
    bare: bool = False,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    """``git args``'s stdout; :class:`GitError` when it fails."""
    return call(repo, *args, bare=bare, input=input, env=env, timeout=timeout).check().out


async def acall(
    repo: Path | None,
    *args: str,
    bare: bool = False,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> GitResult:
    """:func:`call` as an asyncio subprocess: the event loop runs on while git does."""
    command, cwd, environment = _prepare(repo, args, bare, env)
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL if input is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise _failure(command, None, str(exc)) from None
    out, err = await process.communicate(None if input is None else input.encode())
    assert process.returncode is not None
    return GitResult(command, process.returncode, out, err.decode("utf-8", "replace"))


async def arun(
    repo: Path | None,
    *args: str,
    bare: bool = False,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """:func:`run` as an asyncio subprocess."""
    return (await acall(repo, *args, bare=bare, input=input, env=env)).check().out


def enable_nbdime(repository: Path) -> None:
    """Notebook-aware diff and merge in ``repository`` (bare or not), with nbdime's own
    ``config-git``; the attributes go in ``info/attributes`` so they hold whatever is committed."""
    subprocess.run(
        [sys.executable, "-m", "nbdime", "config-git", "--enable"],
        cwd=repository,
        check=True,
        capture_output=True,
    )
    git_dir = repository if (repository / "HEAD").is_file() else repository / ".git"
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text(NOTEBOOK_ATTRIBUTES)


def _failure(command: Sequence[str], code: int | None, stderr: str) -> GitError:
    """The :class:`GitError` of ``command``: "git <subcommand> failed" for anyone, the rest for the log."""
    stderr = stderr.strip()
    status = "did not run" if code is None else f"exited with {code}"
    return GitError(
        f"git {subcommand(command[1:])} failed",
        f"{shlex.join(command)} {status}: {stderr}",
        command=tuple(command),
        exit_code=code,
        stderr=stderr,
    )


def subcommand(args: Sequence[str]) -> str:
    """The subcommand in git's arguments, past the global options (``-c key=value`` and the like)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUED_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return "(no subcommand)"


def _prepare(
    repo: Path | None, args: Sequence[str], bare: bool, env: Mapping[str, str] | None
) -> tuple[tuple[str, ...], Path | None, dict[str, str]]:
    """The argv, working folder and environment of one git command."""
    where = ("--git-dir", str(repo)) if bare and repo is not None else ()
    command = ("git", *where, *args)
    return command, None if bare else repo, {**os.environ, **BASE_ENV, **(env or {})}
