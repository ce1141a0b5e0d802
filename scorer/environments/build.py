"""Building a challenge environment, once per key.

Stage 1 fetches wheels only (no package code runs) into ``<root>/.wheels/index``: first from
the configured wheel folders alone, then, if something is missing, from the package index.
Stage 2 runs ``uv venv`` and ``uv pip install --offline`` inside bubblewrap, like a scored run:
read-only system and platform, no network, an unprivileged user, writable only the build's own
folder; so a package whose build tries the network or writes elsewhere fails, by name. The
result gets its kernelspec, its manifest and its lease file, then is renamed into place at once:
a failed build leaves nothing under the key's name, and what served before still serves.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path

from scorer.config import ScorerSettings
from scorer.environments import platform as coop_platform
from scorer.environments.inputs import EnvironmentInputs
from scorer.environments.model import KERNEL_NAME, Environment
from scorer.environments.store import LEASE, MANIFEST, environment_at, is_built
from scorer.exceptions import EnvironmentBuildFailed
from scorer.ingest.repo import file_lock
from scorer.scoring.sandbox.bwrap import NAMESPACES, PRESENT, SANDBOX_UID_RANGE, python_roots, system_binds

Progress = Callable[[str], None]
#: Where the build's folder appears inside the sandbox.
INSIDE = Path("/coop/build")
LOG_TAIL_LINES = 25
#: Printed by the build script before each step, to tell which step failed.
STEP = "coop-step: "
#: What a local package folder without pyproject.toml is built with (setup.py's defaults).
LEGACY_BUILD = ("setuptools>=40.8.0", "wheel")
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")
#: How uv names the distribution it failed on: "Failed to build `name @ file://…`", "Failed to
#: download `name==1.0`".
_UV_PACKAGE = re.compile(r"Failed to (?:build|download|install|prepare)[^`\n]*`([A-Za-z0-9_.-]+)")


def _quiet(_message: str) -> None:
    return None


def build(settings: ScorerSettings, inputs: EnvironmentInputs, progress: Progress = _quiet) -> Environment:
    """The environment of ``inputs``: the one built before, or a new one."""
    environment = environment_at(settings, inputs.key)
    if is_built(environment):
        return environment
    root = settings.environments
    for part in (".locks", ".building"):
        (root / part).mkdir(parents=True, exist_ok=True)
    with file_lock(root / ".locks" / f"{inputs.short}.lock"):
        if is_built(environment):  # built by another process while we waited
            return environment
        work = Path(tempfile.mkdtemp(prefix=f"{inputs.short}-", dir=root / ".building"))
        try:
            progress("fetching wheels")
            platform_wheels = _platform_wheels(settings, progress)
            progress("installing in the sandbox (no network)")
            _install(settings, inputs, work, platform_wheels)
            _finish(inputs, work / "env", environment)
            (work / "env").rename(environment.path)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    progress("built")
    return environment


# --- stage 1: wheels ---------------------------------------------------------------------------


def fetch_wheels(settings: ScorerSettings, requirements: list[str], python: str) -> None:
    """Every wheel ``requirements`` need, for Python ``python`` (major.minor), in the wheel cache."""
    wheels = _wheels(settings)
    links = [
        arg for link in [*settings.environment_find_links, str(wheels)] for arg in ("--find-links", link)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", dir=wheels.parent) as listed:
        listed.write("\n".join(requirements) + "\n")
        listed.flush()
        base = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--dest", str(wheels)]
        base += ["--progress-bar", "off", "--disable-pip-version-check", "--no-input", "-r", listed.name]
        if python != f"{sys.version_info.major}.{sys.version_info.minor}":
            base += ["--python-version", python]
        with file_lock(wheels.parent / "fetch.lock"):
            offline = _run([*base, "--isolated", "--no-index", *links], settings)
            if offline.returncode == 0 or settings.environment_offline:
                online = offline
            else:
                index = (
                    ["--index-url", settings.environment_index_url] if settings.environment_index_url else []
                )
                online = _run([*base, *index, *links], settings)
    if online.returncode != 0:
        raise _pip_failure(online.stdout)


def _pip_failure(log: str) -> EnvironmentBuildFailed:
    tail = _tail(log)
    missing = _NO_MATCH.search(log)
    if missing:
        name = re.split(r"[=<>!~\[;]", missing.group(1))[0]
        return EnvironmentBuildFailed(
            name, f"no wheel of {missing.group(1)} is available (unknown package, or no such version)", tail
        )
    if "ResolutionImpossible" in log or "conflict is caused by" in log:
        lines = log.split("The conflict is caused by:")[-1].strip().splitlines()
        cause = "; ".join(
            line.strip() for line in lines[:6] if line.strip() and not line.startswith("To fix")
        )
        return EnvironmentBuildFailed(None, f"the pinned packages conflict: {cause}", tail)
    return EnvironmentBuildFailed(None, "fetching the environment's packages failed", tail)


def _wheels(settings: ScorerSettings) -> Path:
    wheels = settings.environments / ".wheels" / "index"
    wheels.mkdir(parents=True, exist_ok=True)
    return wheels


def _platform_wheels(settings: ScorerSettings, progress: Progress) -> Path:
    """Wheels of the platform's own packages, built once per version of their sources."""
    digests = coop_platform.local_digests()
    folder = settings.environments / ".wheels" / "platform" / "-".join(d[:12] for d in digests.values())
    if folder.is_dir():
        return folder
    sources = {name: coop_platform.local_source(name) for name in digests}
    backends = sorted({r for source in sources.values() for r in build_requires(source)})
    fetch_wheels(settings, backends, f"{sys.version_info.major}.{sys.version_info.minor}")
    progress("building the platform's packages")
    with file_lock(folder.parent.parent / "platform.lock"):
        if folder.is_dir():
            return folder
        staging = Path(tempfile.mkdtemp(dir=folder.parent.parent))
        try:
            for name, source in sources.items():
                copy = staging / "src" / name
                shutil.copytree(
                    source, copy, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__")
                )
                uv = [
                    str(Path(sys.executable).with_name("uv")),
                    "build",
                    "--wheel",
                    "--no-config",
                    "--offline",
                ]
                uv += [
                    "--no-index",
                    "--find-links",
                    str(_wheels(settings)),
                    "--out-dir",
                    str(staging / "out"),
                    str(copy),
                ]
                built = _run(uv, settings)
                if built.returncode != 0:
                    raise EnvironmentBuildFailed(
                        name, f"building the platform's {name} failed", _tail(built.stdout)
                    )
            folder.parent.mkdir(parents=True, exist_ok=True)
            (staging / "out").rename(folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


def build_requires(source: Path) -> list[str]:
    """A source folder's build requirements, read (never run) from its pyproject.toml."""
    pyproject = source / "pyproject.toml"
    if pyproject.is_file():
        try:
            system = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("build-system", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise EnvironmentBuildFailed(
                source.name, f"./{source.name}/pyproject.toml is not valid TOML: {exc}"
            ) from None
        if isinstance(system.get("requires"), list):
            return [str(r) for r in system["requires"]]
    return list(LEGACY_BUILD)


# --- stage 2: the sandboxed install --------------------------------------------------------


def _install(settings: ScorerSettings, inputs: EnvironmentInputs, work: Path, platform_wheels: Path) -> None:
    local = {name: inputs.folder / name for name in inputs.requirements.local_folders()}
    wanted = [*inputs.requirements.index_lines(), *coop_platform.index_pins()]
    fetch_wheels(
        settings,
        wanted + [r for src in local.values() for r in build_requires(src)],
        inputs.interpreter.minor,
    )
    for sub in ("scratch/home", "scratch/tmp", "scratch/cache", "src"):
        (work / sub).mkdir(parents=True)
    for name, source in local.items():  # a copy: a build writes into its source folder
        shutil.copytree(source, work / "src" / name, symlinks=True)
    platform_lines = [
        f"{n}=={v}" for n, v in coop_platform.kernel_pins().items() if n in coop_platform.LOCAL_PACKAGES
    ]
    (work / "requirements.txt").write_text("\n".join([*wanted, *platform_lines]) + "\n")
    env, uv = f"{INSIDE}/env", str(Path(sys.executable).with_name("uv"))
    python = str(inputs.interpreter.path)
    offline = ["--no-config", "--offline", "--no-index", "--find-links", "/coop/wheels"]
    script = ["set -e", shlex.join([uv, "venv", "--relocatable", "--no-config", "--python", python, env])]
    for name in local:  # one at a time, each announced: a failure is named by its folder
        script.append(shlex.join(["echo", f"{STEP}./{name}"]))
        build_one = [uv, "build", "--wheel", *offline, "--python", python, "--out-dir", f"{INSIDE}/local"]
        script.append(shlex.join([*build_one, f"{INSIDE}/src/{name}"]))
    install = [
        uv,
        "pip",
        "install",
        "--python",
        f"{env}/bin/python",
        *offline,
        "--find-links",
        "/coop/platform",
    ]
    install += ["--link-mode", "copy", "--compile-bytecode", "-r", f"{INSIDE}/requirements.txt"]
    script += [
        shlex.join(["echo", f"{STEP}install"]),
        shlex.join(install) + (f" {INSIDE}/local/*.whl" if local else ""),
    ]
    (work / "build.sh").write_text("\n".join(script) + "\n")
    sandbox = _Sandbox(settings.bwrap)
    argv = sandbox.argv(work, _wheels(settings), platform_wheels, inputs.interpreter.path)
    sandbox.hand_over(work)
    try:
        done = _run([*argv, "/bin/sh", f"{INSIDE}/build.sh"], settings)
    finally:
        sandbox.take_back(work)
    if done.returncode != 0:
        raise _uv_failure(done.stdout)


def _uv_failure(log: str) -> EnvironmentBuildFailed:
    tail = _tail(log)
    steps = [line.removeprefix(STEP) for line in log.splitlines() if line.startswith(STEP)]
    if steps and steps[-1].startswith("./"):
        name: str | None = steps[-1].removeprefix("./")
    else:
        found = _UV_PACKAGE.search(log)
        name = found.group(1) if found else None
    what = f"installing {name} failed" if name else "installing the environment failed"
    return EnvironmentBuildFailed(
        name, f"{what} (built without network, writing only into the environment)", tail
    )


class _Sandbox:
    """bubblewrap as the scorer's runs use it, with the build folder the only writable place."""

    def __init__(self, bwrap: str) -> None:
        found = shutil.which(bwrap)
        if not found:
            raise EnvironmentBuildFailed(
                None, "bubblewrap (bwrap) is not installed: environments are built in it"
            )
        self.bwrap = found
        self.as_root = os.geteuid() == 0
        self.uid = SANDBOX_UID_RANGE[0] + os.getpid() % (SANDBOX_UID_RANGE[1] - SANDBOX_UID_RANGE[0])

    def argv(self, work: Path, wheels: Path, platform_wheels: Path, python: Path) -> list[str]:
        argv = [self.bwrap, *NAMESPACES, "--hostname", "build", "--clearenv", *system_binds()]
        argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
        roots = [*python_roots(), python.resolve().parent.parent]
        roots = [r for r in dict.fromkeys(roots) if not str(r).startswith("/usr/")]
        for path in sorted({p for root in roots for p in root.parents} - PRESENT):
            argv += ["--perms", "0755", "--dir", str(path)]
        for path in roots:
            argv += ["--ro-bind", str(path), str(path)]
        argv += ["--perms", "0755", "--dir", "/coop"]
        argv += [
            "--ro-bind",
            str(wheels),
            "/coop/wheels",
            "--ro-bind",
            str(platform_wheels),
            "/coop/platform",
        ]
        argv += ["--bind", str(work), str(INSIDE), "--chdir", str(INSIDE)]
        scratch = f"{INSIDE}/scratch"
        variables = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": f"{scratch}/home",
            "TMPDIR": f"{scratch}/tmp",
            "UV_CACHE_DIR": f"{scratch}/cache",
            "UV_PYTHON_DOWNLOADS": "never",
            "LANG": "C.UTF-8",
        }
        for key, value in variables.items():
            argv += ["--setenv", key, value]
        if self.as_root:
            drop = ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"]
            return [
                *argv,
                "--cap-add",
                "CAP_SETUID",
                "--cap-add",
                "CAP_SETGID",
                "--",
                *drop,
                "--no-new-privs",
                "--inh-caps=-all",
            ]
        return [*argv, "--unshare-user", "--disable-userns", "--"]

    def hand_over(self, work: Path) -> None:
        if self.as_root:
            _chown_tree(work, self.uid)

    def take_back(self, work: Path) -> None:
        if self.as_root:
            _chown_tree(work, 0)


def _chown_tree(folder: Path, uid: int) -> None:
    os.chown(folder, uid, uid)
    for dirpath, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(dirpath, name), uid, uid)


# --- the finished environment ----------------------------------------------------------------


def _finish(inputs: EnvironmentInputs, env: Path, environment: Environment) -> None:
    """The kernelspec (naming the python of the final folder), the lease file, the manifest."""
    kernel = env / "share" / "jupyter" / "kernels" / KERNEL_NAME
    kernel.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": environment.kernel_argv(built_in=env),
        "display_name": f"Python {inputs.interpreter.minor} (challenge environment {inputs.short})",
        "language": "python",
        "metadata": {"coop": {"environment": inputs.key}},
    }
    (kernel / "kernel.json").write_text(json.dumps(spec, indent=1))
    (env / LEASE).touch()
    for made in env.glob("*"):  # uv venv leaves a world-writable lock file
        if made.is_file():
            made.chmod(0o644)
    (env / MANIFEST).write_text(json.dumps({"key": inputs.key, **inputs.manifest}, indent=1, sort_keys=True))


def _run(argv: list[str], settings: ScorerSettings) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=settings.environment_build_timeout,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentBuildFailed(
            None, f"the build took longer than {settings.environment_build_timeout} s and was stopped"
        ) from None


def _tail(log: str) -> str:
    return "\n".join(log.strip().splitlines()[-LOG_TAIL_LINES:])
