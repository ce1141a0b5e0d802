"""The embedded hub end to end: log in, spawn, the attached clones, git push through the
credential helper, Easy start, the scopes of a kernel's token, the services, a hub restart.

One hub for the module (see ``conftest.py``); the restart runs last but one, the idle culler
(restarting the hub with a short idle timeout) last.
"""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from coop_widgets.attach import credential_helper
from scorer.service.auth import ORGANISE, SUBMIT, HubAuthenticator
from tests.hub.conftest import HubSession, RunningHub

PHASE = "realistic"  # open since 2026-06-01 and open-ended: the current phase of both challenges


def git(cwd: Path, *args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert not check or done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done


@dataclass
class Participant:
    session: HubSession
    env: dict[str, str]  # the server's environment, as its kernels and terminals get it
    home: Path

    @property
    def token(self) -> str:
        return self.env["JUPYTERHUB_API_TOKEN"]

    def server_get(self, hub: RunningHub, path: str) -> httpx.Response:
        """A request to the user's own server through the proxy, with the server's token."""
        user = self.session.user
        return httpx.get(
            f"{hub.url}/user/{user}/{path}", headers={"Authorization": f"token {self.token}"}, timeout=30
        )


def wait_attached(hub: RunningHub, participant: Participant, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = participant.server_get(hub, "coop/attach").json()
        if status["state"] in {"done", "failed"}:
            return status
        time.sleep(0.5)
    raise AssertionError(f"attaching did not finish in {timeout:.0f} s")


def parameters_cell(notebook: str) -> str:
    [cell] = [c for c in json.loads(notebook)["cells"] if "parameters" in c["metadata"].get("tags", [])]
    return "".join(cell["source"])


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def alice(hub: RunningHub) -> Participant:
    session = hub.login("alice")
    assert session.logged_in, session.login_response.text[:300]
    session.start_server()
    participant = Participant(session, hub.server_environment("alice"), hub.user_home("alice"))
    status = wait_attached(hub, participant)
    assert status["state"] == "done", status
    return participant


def test_demo_accounts_log_in_with_the_shared_password_and_nobody_else(hub: RunningHub):
    for user in ("alice", "olga"):
        session = hub.login(user)
        assert session.logged_in and session.login_response.headers["location"].endswith("/hub/spawn")
    assert not HubSession(hub.url, "alice", "not-the-password").logged_in
    assert not HubSession(hub.url, "mallory", hub.password).logged_in  # not a demo account


def test_alice_server_has_a_clone_of_every_challenge(hub: RunningHub, alice: Participant):
    assert alice.env["COOP_SERVICE_URL"] == hub.service_url
    assert sorted(p.name for p in (alice.home / "challenges").iterdir()) == sorted(hub.challenges)
    for challenge_id in hub.challenges:
        clone = alice.home / "challenges" / challenge_id
        settings = dict(
            line.split("=", 1)
            for line in git(clone, "config", "--local", "--list", env=alice.env).stdout.splitlines()
            if not line.startswith("credential.helper")
        )
        helpers = git(clone, "config", "--local", "--get-all", "credential.helper", env=alice.env).stdout
        assert settings["remote.origin.url"] == f"{hub.service_url}git/{challenge_id}.git"
        assert git(clone, "branch", "--show-current", env=alice.env).stdout.strip() == "work"
        assert settings["branch.work.remote"] == "origin"
        assert settings["branch.work.merge"] == "refs/heads/alice/work"
        assert settings["push.default"] == "upstream"
        assert settings["user.name"] == "alice"
        assert settings["user.email"] == "alice@users.coopetition.local"
        assert helpers.splitlines() == ["", credential_helper()]  # git's other helpers never see the token
        assert settings["diff.jupyternotebook.command"].startswith("git-nbdiffdriver")
        assert "jupyternotebook" in (clone / ".git" / "info" / "attributes").read_text()
        assert (
            git(clone, "rev-parse", "HEAD", env=alice.env).stdout
            == git(hub.served(challenge_id), "rev-parse", "main", env=alice.env).stdout
        )
        for path in (clone / ".git").rglob("*"):  # the token is in no file, URL included
            assert not path.is_file() or alice.token.encode() not in path.read_bytes(), path


def test_git_push_from_the_clone_goes_through_the_credential_helper(hub: RunningHub, alice: Participant):
    clone = alice.home / "challenges" / "higgs"
    (clone / "solutions" / "alice").mkdir(parents=True, exist_ok=True)
    (clone / "solutions" / "alice" / "notes.md").write_text("ideas: use the transverse mass too\n")
    git(clone, "add", "solutions/alice/notes.md", env=alice.env)
    git(clone, "commit", "-q", "-m", "notes", env=alice.env)
    pushed = git(clone, "push", env=alice.env)
    assert "-> alice/work" in pushed.stderr
    head = git(clone, "rev-parse", "HEAD", env=alice.env).stdout
    assert git(hub.served("higgs"), "rev-parse", "alice/work", env=alice.env).stdout == head
    # the pusher is the token's owner: another's namespace is refused
    refused = git(clone, "push", "origin", "HEAD:refs/heads/bob/work", env=alice.env, check=False)
    assert refused.returncode != 0 and "bob" in refused.stderr
    # without the server's token git has nothing to send (and never prompts)
    anonymous = {**alice.env, "JUPYTERHUB_API_TOKEN": ""}
    assert git(clone, "push", "--dry-run", env=anonymous, check=False).returncode != 0


def test_easy_start_copies_the_baseline_once_and_opens_it(hub: RunningHub, alice: Participant):
    session = alice.session
    _response, seen = session.follow("/hub/user-redirect/coop/start/trackml")
    target = f"/user/alice/lab/tree/challenges/trackml/solutions/alice/{PHASE}.ipynb"
    assert seen[-1] == target, seen
    clone = alice.home / "challenges" / "trackml"
    notebook = clone / "solutions" / "alice" / f"{PHASE}.ipynb"
    baseline = git(hub.served("trackml"), "show", f"main:baselines/{PHASE}.ipynb", env=alice.env).stdout
    assert notebook.read_text() == baseline
    # the phase's inputs, where the baseline's parameters cell reads them, relative to the notebook
    parameters = parameters_cell(baseline)
    assert f'inputs_dir = "data/{PHASE}"' in parameters
    assert 'predictions_path = "predictions.csv"' in parameters
    data = notebook.parent / "data" / PHASE
    assert files(data) == files(hub.home / "data" / "trackml" / PHASE / "inputs")  # the scorer's inputs/
    (notebook.parent / "predictions.csv").write_text("hit_id,track_id\n")  # what Run All writes
    untracked = git(clone, "status", "--porcelain", "--untracked-files=all", env=alice.env).stdout
    assert untracked.splitlines() == [f"?? solutions/alice/{PHASE}.ipynb"]  # data and predictions excluded
    [inputs] = [i for i in wait_attached(hub, alice)["inputs"] if i["challenge"] == "trackml"]
    assert (inputs["folder"], inputs["state"]) == (f"solutions/alice/data/{PHASE}", "unpacked")

    notebook.write_text(baseline.replace("baseline", "my own work"))
    (data / "detector.json").write_text('{"edited": "by alice"}')
    _response, seen = session.follow("/hub/user-redirect/coop/start/trackml")
    assert seen[-1] == target
    assert "my own work" in notebook.read_text()  # a second visit opens, never overwrites
    assert (data / "detector.json").read_text() == '{"edited": "by alice"}'  # nor refills the data
    [inputs] = [i for i in wait_attached(hub, alice)["inputs"] if i["challenge"] == "trackml"]
    assert inputs["state"] == "present"
    _response, seen = session.follow("/user/alice/coop/start/trackml?phase=toy")
    assert seen[-1].endswith("/solutions/alice/toy.ipynb")
    assert (notebook.parent / "data" / "toy" / "detector.json").is_file()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("coop/start/trackml?phase=nope", "unknown phase &#39;nope&#39;"),
        ("coop/start/no-such-challenge", "no clone of this challenge"),
    ],
)
def test_easy_start_explains_what_it_cannot_do(hub: RunningHub, alice: Participant, path: str, message: str):
    response = alice.server_get(hub, path)
    assert response.status_code == 404
    assert message in response.text


def test_jupyterlab_offers_the_challenge_environment_and_easy_start_opens_the_baseline_in_it(
    hub: RunningHub, alice: Participant
):
    """Higgs declares an environment: prepare built it and wrote its kernelspec, which alice's
    JupyterLab lists; that kernel runs from the environment, and Easy start names it."""
    headers = {"Authorization": f"token {alice.token}"}
    specs = httpx.get(f"{hub.url}/user/alice/api/kernelspecs", headers=headers, timeout=60).json()
    assert specs["kernelspecs"]["coop-higgs"]["spec"]["display_name"] == "Python (higgs)"
    assert "coop-trackml" not in specs["kernelspecs"]  # TrackML runs in the platform's Python
    started = httpx.post(
        f"{hub.url}/user/alice/api/kernels", headers=headers, json={"name": "coop-higgs"}, timeout=60
    )
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    try:
        [kernel] = [
            p
            for p in hub.server_process("alice").children(recursive=True)
            if kernel_id in " ".join(p.cmdline())
        ]
        assert kernel.cmdline()[0].startswith(str(hub.home / "environments"))
    finally:
        httpx.delete(f"{hub.url}/user/alice/api/kernels/{kernel_id}", headers=headers, timeout=60)
    _response, seen = alice.session.follow("/hub/user-redirect/coop/start/higgs?phase=toy")
    assert seen[-1].endswith("/challenges/higgs/solutions/alice/toy.ipynb"), seen
    notebook = alice.home / "challenges" / "higgs" / "solutions" / "alice" / "toy.ipynb"
    assert json.loads(notebook.read_text())["metadata"]["kernelspec"]["name"] == "coop-higgs"


def test_a_kernel_token_submits_as_its_user_and_does_nothing_more(hub: RunningHub, alice: Participant):
    started = httpx.post(
        f"{hub.url}/user/alice/api/kernels",
        headers={"Authorization": f"token {alice.token}"},
        json={"name": "python3"},
        timeout=60,
    )
    assert started.status_code == 201, started.text
    kernel_id = started.json()["id"]
    try:
        kernel = next(
            p
            for p in hub.server_process("alice").children(recursive=True)
            if kernel_id in " ".join(p.cmdline())
        )
        token = kernel.environ()["JUPYTERHUB_API_TOKEN"]
    finally:
        httpx.delete(
            f"{hub.url}/user/alice/api/kernels/{kernel_id}", headers={"Authorization": f"token {alice.token}"}
        )
    me = httpx.get(f"{hub.api_url}/user", headers={"Authorization": f"token {token}"}).json()
    assert set(me["scopes"]) == {
        "access:servers!server=alice/",
        "custom:coop:submit!user=alice",
        "read:users:activity!user=alice",
        "read:users:groups!user=alice",
        "read:users:name!user=alice",
        "users:activity!user=alice",
    }
    who = asyncio.run(HubAuthenticator(api_url=hub.api_url).identify(token))  # how the scorer reads it
    assert who is not None and who.name == "alice" and who.has(SUBMIT) and not who.has(ORGANISE)
    scorer_me = httpx.get(f"{hub.service_url}api/me", headers={"Authorization": f"token {token}"}).json()
    assert scorer_me["name"] == "alice" and scorer_me["organiser"] is False
    for forbidden in ("users", "users/bob", "services"):  # no other hub business
        answer = httpx.get(f"{hub.api_url}/{forbidden}", headers={"Authorization": f"token {token}"})
        assert answer.status_code in {403, 404}, (forbidden, answer.status_code)


def test_the_organiser_holds_organise_and_a_participant_does_not(hub: RunningHub):
    scopes = {user: set(hub.login(user).api("GET", "user").json()["scopes"]) for user in ("olga", "bob")}
    assert ORGANISE in scopes["olga"] and f"{SUBMIT}!user=olga" in scopes["olga"]
    assert ORGANISE not in scopes["bob"] and f"{SUBMIT}!user=bob" in scopes["bob"]
    assert "access:services!service=coop" in scopes["bob"]


def test_dashboards_are_public_and_list_the_challenges(hub: RunningHub):
    """Served without a login; the page draws its cards in widgets, which a browser shows (the
    dashboards' browser tests read them): here the page's one cell ran without an error."""
    page = httpx.get(f"{hub.url}/services/dashboards/voila/render/index.ipynb", timeout=120)
    assert page.status_code == 200
    assert "application/vnd.jupyter.widget-view+json" in page.text
    assert "There was an error when executing cell" not in page.text


def test_idle_culler_runs_with_its_role(hub: RunningHub):
    """Its first look at the users comes a moment after the hub starts (run alone, this test
    can come first): waited for, up to a bound."""

    def listed() -> bool:
        log = hub.log.read_text(errors="replace")
        return "200 GET /hub/api/users?state=" in log and "(idle-culler@" in log

    deadline = time.monotonic() + 120
    while not listed() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert listed(), hub.log_tail()


def test_a_respawned_server_fetches_and_never_touches_work(hub: RunningHub, alice: Participant):
    clone = alice.home / "challenges" / "higgs"
    git(clone, "commit", "-q", "--allow-empty", "-m", "local work, not pushed", env=alice.env)
    work = git(clone, "rev-parse", "work", env=alice.env).stdout
    (clone / "draft.txt").write_text("unsaved thoughts\n")
    served = hub.served("higgs")  # the organiser publishes meanwhile
    organiser = {
        **alice.env,
        **{f"GIT_{who}_{what}": "olga" for who in ("AUTHOR", "COMMITTER") for what in ("NAME", "EMAIL")},
    }
    published = git(
        served, "commit-tree", "main^{tree}", "-p", "main", "-m", "update", env=organiser
    ).stdout.strip()
    git(served, "update-ref", "refs/heads/main", published, env=organiser)

    alice.session.stop_server()
    alice.session.start_server()
    alice.env = hub.server_environment("alice")
    status = wait_attached(hub, alice)
    assert {c["challenge"]: c["action"] for c in status["challenges"]}["higgs"] == "fetched"
    assert git(clone, "rev-parse", "work", env=alice.env).stdout == work
    assert git(clone, "rev-parse", "origin/main", env=alice.env).stdout.strip() == published
    assert (clone / "draft.txt").read_text() == "unsaved thoughts\n"
    assert git(clone, "branch", "--show-current", env=alice.env).stdout.strip() == "work"


def test_hub_restart_keeps_servers_and_clones(hub: RunningHub, alice: Participant):
    server = hub.server_process("alice")
    draft = alice.home / "challenges" / "trackml" / "solutions" / "alice" / "during-restart.md"
    draft.parent.mkdir(parents=True, exist_ok=True)
    draft.write_text("written before the restart\n")
    hub.restart()
    assert server.is_running() and hub.server_process("alice").pid == server.pid
    assert alice.server_get(hub, "api/status").status_code == 200  # routed again through the new proxy
    assert alice.session.api("GET", "users/alice").json()["servers"][""]["ready"]  # still logged in
    assert draft.read_text() == "written before the restart\n"
    clone = draft.parents[2]
    git(clone, "add", str(draft), env=alice.env)
    git(clone, "commit", "-q", "-m", "after the restart", env=alice.env)
    assert "-> alice/work" in git(clone, "push", env=alice.env).stderr  # the token still works


def test_the_instance_keys_are_published_at_the_hosts_root(hub: RunningHub):
    """Other instances verify this one's credentials with /.well-known/jwks.json: the proxy
    routes it to the scorer (``Proxy.extra_routes``), the same keys as under its prefix."""
    at_root = httpx.get(f"{hub.url}/.well-known/jwks.json", timeout=30)
    assert at_root.status_code == 200
    [key] = at_root.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "Ed25519")
    assert "d" not in key
    assert httpx.get(f"{hub.service_url}.well-known/jwks.json", timeout=30).json() == at_root.json()
    assert stat.S_IMODE((hub.home / "issuer-keys.json").stat().st_mode) == 0o600


#: The idle timeout the culler test gives the hub (``COOP_IDLE_TIMEOUT``; the culler looks every
#: half of it), and how long it waits at most for carol's server to start and be culled.
IDLE_TIMEOUT = 30
CULL_WAIT = 300.0


def test_the_idle_culler_stops_a_server_left_idle(hub: RunningHub):
    """Runs last: the hub restarts with a short idle timeout, so the culler (the shipped
    service, with its role) stops every idle server. Carol's, started and then left alone,
    becomes ready and is then stopped by the culler: the hub's API shows her without a server."""
    hub.env["COOP_IDLE_TIMEOUT"] = str(IDLE_TIMEOUT)
    hub.restart()
    carol = hub.login("carol")
    assert carol.logged_in
    assert carol.api("POST", "users/carol/server").status_code in {201, 202}
    states = []  # carol's server as the hub shows it, each time it changes
    deadline = time.monotonic() + CULL_WAIT
    while time.monotonic() < deadline:
        servers = carol.api("GET", "users/carol").json()["servers"]
        state = {"ready": servers[""]["ready"], "pending": servers[""]["pending"]} if servers else {}
        if not states or states[-1] != state:
            states.append(state)
        if not servers:
            break
        time.sleep(0.5)
    assert {"ready": True, "pending": None} in states and states[-1] == {}, (states, hub.log_tail())
    culled = [
        line for line in hub.log.read_text(errors="replace").splitlines() if "/users/carol/server" in line
    ]
    assert any("DELETE" in line and "(idle-culler@" in line for line in culled), culled
