"""``coop up``: the hub and everything it starts come up, and Ctrl-C (SIGINT) leaves nothing; in
production it waits for the hub over TLS and prints the public address."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import signal
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import text

from scorer.cli.up import builds_demo
from scorer.ledger import store
from scorer.ledger.db import make_engine, session_factory, upgrade
from scorer.ports import Ports
from tests.hub.conftest import (
    COOP,
    ROOT,
    HubSession,
    coop_up,
    hold_hub_ports,
    hub_environment,
    leave_nothing_running,
    printed_lines,
    processes_of,
    read_until,
)
from tests.hub.production_hub import production_environment, self_signed
from tests.pg import schema_url

BOARD = "throughput"  # a board of TrackML's toy phase


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def ports() -> Iterator[Ports]:
    with hold_hub_ports() as held:
        yield held


def test_the_demo_is_built_when_asked_afresh_or_missing_and_else_reused(tmp_path: Path):
    assert builds_demo(tmp_path, fresh=False) and builds_demo(tmp_path, fresh=True)
    (tmp_path / "coop.db").touch()
    assert not builds_demo(tmp_path, fresh=False)
    assert builds_demo(tmp_path, fresh=True)


def stale_demo(home: Path) -> str:
    """An earlier demo's ledger in ``home`` (a person nobody else has), and a file beside it."""
    url = f"sqlite:///{home / 'coop.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            store.person(session, "left-over")
    finally:
        engine.dispose()
    (home / "left-over.txt").write_text("from the earlier demo\n")
    return url


def usernames(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT username FROM people")).scalars())
    finally:
        engine.dispose()


def test_coop_up_starts_the_hub_and_ctrl_c_stops_every_process(tmp_path: Path, ports: Ports):
    password = secrets.token_urlsafe(12)
    env = hub_environment(tmp_path, password, ports)
    port = env.pop("COOP_HUB_PORT")
    up = coop_up(tmp_path, port, env)
    lines = printed_lines(up)
    url = f"http://127.0.0.1:{port}"
    api_url = f"http://127.0.0.1:{env['COOP_HUB_API_PORT']}/hub/api"
    try:
        printed = "".join(read_until(lines, "Ctrl-C stops everything", timeout=240))
        assert f"open {url}/" in printed
        logins = "alice, bob, carol (participants), olga (organiser)"
        assert f"log in as {logins}; password: {password}" in printed
        assert f"dashboards (no login): {url}/services/dashboards/" in printed

        session = HubSession(url, "alice", password)
        assert session.logged_in
        session.start_server()
        tree = psutil.Process(up.pid).children(recursive=True)
        commands = [" ".join(p.cmdline()) for p in tree]
        started = ("jupyterhub -f", "http-proxy", "coop serve", "voila", "idle_culler", "singleuser")
        for part in started:
            assert any(part in command for command in commands), (part, commands)
        session.close()

        up.send_signal(signal.SIGINT)
        assert up.wait(120) == 0
        assert "stopped" in "".join(read_until(lines, "stopped", timeout=10))
        assert [p for p in tree if alive(p)] == []
        assert [p for p in processes_of(api_url, tmp_path) if alive(p)] == []
    finally:  # whatever happened above, leave nothing running
        leave_nothing_running(up, api_url, tmp_path)


def test_coop_up_demo_shows_rewards_credit_and_likes_and_serves_the_contribution_graph(
    tmp_path: Path, ports: Ports
):
    """``make demo`` on TrackML's toy phase: alice improves the baseline, bob builds on alice
    (coop.lineage), alice likes bob's; the ended phase is settled; both are credited, and the
    printed API addresses answer with the graph and the rewards. Higgs's baselines too: its
    environment is built, alice's JupyterLab offers its kernel, its scores carry its key.
    ``--fresh`` builds it over an earlier demo's ledger, which it replaces; ``coop up --demo``
    again then reuses it as it is (the same submissions and boards), building nothing."""
    source = tmp_path / "challenges"  # outside the home: the demo builds the home afresh
    shutil.copytree(ROOT / "challenge_notebooks" / "trackml", source / "trackml")
    for example in (source / "trackml" / "examples").glob("*.ipynb"):
        if "-toy-" not in example.name:
            example.unlink()
    shutil.copytree(ROOT / "challenge_notebooks" / "higgs", source / "higgs")
    for example in (source / "higgs" / "examples").glob("*.ipynb"):
        example.unlink()
    home = tmp_path / "home"
    home.mkdir()
    ledger = stale_demo(home)  # --fresh replaces it; a plain --demo would reuse it
    password = secrets.token_urlsafe(12)
    env = hub_environment(home, password, ports)
    port = env.pop("COOP_HUB_PORT")
    up = coop_up(home, port, env, "--demo", "--fresh", "--source", str(source))
    lines = printed_lines(up)
    url = f"http://127.0.0.1:{port}"
    api_url = f"http://127.0.0.1:{env['COOP_HUB_API_PORT']}/hub/api"
    try:
        printed = "".join(read_until(lines, "Ctrl-C stops everything", timeout=700))
        assert "reusing the demo" not in printed and "published 2 challenge(s)" in printed
        assert not (home / "left-over.txt").exists() and "left-over" not in usernames(ledger)
        assert "settled trackml/toy on private scores" in printed
        credit = printed[printed.index("settled trackml/toy on private scores") :]  # its credit table
        assert re.search(r"│ alice\s+│\s+0\.\d+ │", credit) and re.search(r"│ bob\s+│\s+0\.\d+ │", credit)
        for granted in ("beat-baseline", "new-record", "score-threshold (settled)", "credit-share (settled)"):
            assert granted in printed, granted
        api = f"{url}/services/coop/api/challenges/trackml"
        assert f"rewards of trackml: {api}/rewards" in printed
        assert f"toy: credit {api}/phases/toy/credit · graph {api}/phases/toy/graph" in printed
        graph = httpx.get(f"{api}/phases/toy/graph", timeout=60).json()
        people = {person: node for node in graph["nodes"] for person in node["people"]}
        assert set(people) == {"baseline", "alice", "bob"}
        assert people["alice"]["credit"]["alice"] > 0 and people["bob"]["credit"]["bob"] > 0
        assert people["bob"]["likes"] == 1
        copy = {"source": people["alice"]["id"], "target": people["bob"]["id"], "kind": "copy"}
        assert copy in graph["edges"]
        demo_search = "--skill clustering=2 --skill performance-optimisation=1 --skill numpy=1"
        assert f"people search: {demo_search}" in printed
        search = f"{url}/services/coop/api/people"
        assert (
            f"people search: {search}?skill=clustering=2&skill=numpy · a profile: {search}/<name>" in printed
        )
        found = httpx.get(search, params={"skill": ["clustering=2", "numpy"]}, timeout=60).json()
        assert {row["person"] for row in found["rows"]} == {"alice", "bob"}  # never the baseline
        assert all(term["evidence"] for row in found["rows"] for term in row["terms"])
        assert httpx.get(f"{search}/alice", timeout=60).json()["person"] == "alice"
        pages = f"{url}/services/dashboards/voila/render"
        assert f"trackml: {pages}/challenge.ipynb?id=trackml · rewards, graph: " in printed
        assert f"people: {pages}/people.ipynb · a profile: {pages}/profile.ipynb?id=<name>" in printed
        page = httpx.get(f"{pages}/profile.ipynb?id=alice", timeout=120)
        assert page.status_code == 200 and "profile" in page.text.lower()
        rewards = httpx.get(f"{api}/rewards?phase=toy", timeout=60).json()
        assert {r["person"] for r in rewards if r["rewarder"] == "credit-share"} == {"alice", "bob"}
        # the second instance: its own key, alice's credentials from the first verified and kept
        partner = f"{url}/services/partner"
        assert f"imported: {partner}/api/people/alice" in printed
        assert f"trusts credentials issued by {url}/services/coop" in printed
        keys = (httpx.get(f"{where}/.well-known/jwks.json", timeout=60).json() for where in (partner, url))
        assert not {k["kid"] for k in next(keys)["keys"]} & {k["kid"] for k in next(keys)["keys"]}
        there = httpx.get(f"{partner}/api/people/alice", timeout=60).json()
        imported = there["credentials"]
        assert imported and {c["issuer"] for c in imported} == {f"{url}/services/coop"}
        assert {c["issued_to"] for c in imported} == {"alice"}
        assert any(c["name"].startswith("beat-baseline in ") for c in imported)
        assert {c["kind"] for c in imported} >= {"achievement", "credit"}
        # Higgs runs in its own environment: built by the demo's prepare, in every score's
        # provenance, and offered to alice's JupyterLab as a kernel
        higgs = httpx.get(f"{url}/services/coop/api/submissions", params={"challenge": "higgs"}, timeout=60)
        first = min(s["id"] for s in higgs.json())
        shown = subprocess.run(
            [COOP, "--home", str(home), "submission", str(first), "--json"],
            env=env, capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        [submission] = json.loads(shown.stdout)
        key = submission["challenge_environment"]
        assert re.fullmatch(r"[0-9a-f]{64}", key) and submission["status"] == "scored"
        assert submission["provenance"]["challenge_environment"] == key
        assert (home / "environments" / key[:16] / "pyvenv.cfg").is_file()
        session = HubSession(url, "alice", password)
        session.start_server()
        token = session.api("POST", "users/alice/tokens", json={"note": "kernelspecs"}).json()["token"]
        specs = httpx.get(
            f"{url}/user/alice/api/kernelspecs", headers={"Authorization": f"token {token}"}, timeout=60
        ).json()["kernelspecs"]
        assert specs["coop-higgs"]["spec"]["display_name"] == "Python (higgs)"
        session.close()
        board = f"{api}/phases/toy/leaderboards/{BOARD}"
        built = [
            httpx.get(where, timeout=60).json() for where in (f"{url}/services/coop/api/submissions", board)
        ]
        up.send_signal(signal.SIGINT)
        assert up.wait(120) == 0

        # `coop up --demo` again: the demo built above is reused as it is, not built again
        up = coop_up(home, port, env, "--demo", "--source", str(source))
        lines = printed_lines(up)
        printed = "".join(read_until(lines, "Ctrl-C stops everything", timeout=240))
        assert f"reusing the demo in {home} (--fresh rebuilds it)" in printed
        assert "published 2 challenge(s)" not in printed
        again = [
            httpx.get(where, timeout=60).json() for where in (f"{url}/services/coop/api/submissions", board)
        ]
        assert again == built and built[1]["rows"]
        up.send_signal(signal.SIGINT)
        assert up.wait(120) == 0
    finally:
        leave_nothing_running(up, api_url, home)


def test_coop_up_reports_a_hub_that_cannot_start(tmp_path: Path, ports: Ports):
    env = {
        **hub_environment(tmp_path, secrets.token_urlsafe(12), ports),
        "COOP_HUB_MODE": "bogus",
        "COLUMNS": "200",
    }
    up = [COOP, "--home", str(tmp_path), "up"]
    done = subprocess.run(up, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 1
    assert "JupyterHub stopped (exit code 1)" in done.stderr and "jupyterhub.log" in done.stderr
    assert "COOP_HUB_MODE='bogus': use 'embedded' or 'production'" in done.stderr  # the log's tail


def test_coop_up_in_production_answers_over_tls_and_prints_the_public_address(tmp_path: Path, ports: Ports):
    cert, key = self_signed(tmp_path)
    env = hub_environment(tmp_path, secrets.token_urlsafe(12), ports)
    port = env.pop("COOP_HUB_PORT")
    public = f"https://localhost:{port}"  # the name the certificate holds, not the loopback address
    api_url = f"http://127.0.0.1:{env['COOP_HUB_API_PORT']}/hub/api"
    with schema_url("hubup") as db_url:
        production = production_environment(env, db_url, cert, key, public)
        up = coop_up(tmp_path, port, production)
        lines = printed_lines(up)
        try:
            printed = "".join(read_until(lines, "Ctrl-C stops everything", timeout=240))
            assert f"starting JupyterHub at https://127.0.0.1:{port}/" in printed
            assert f"open {public}/" in printed
            assert f"scorer API: {public}/services/coop/docs" in printed
            trusted = ssl.create_default_context(cafile=cert)  # the public name is checked too
            with httpx.Client(verify=trusted) as client:
                assert client.get(f"{public}/hub/health").status_code == 200
                assert client.get(f"{public}/hub/login").status_code == 200
            up.send_signal(signal.SIGINT)
            assert up.wait(120) == 0
        finally:
            leave_nothing_running(up, api_url, tmp_path)
