"""The pure parts of ``bench.hub_load``: percentiles, the report, reading the terminal; and the
hub config's extra accounts for it (``COOP_DEMO_USERS``)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from traitlets.config import PyFileConfigLoader

from bench.hub_load_person import QUEUED, REJECTED, finished, typed
from bench.hub_load_report import (
    BASELINE,
    LOAD,
    PHASES,
    Failure,
    PersonResult,
    Round,
    failures_table,
    percentile,
    ratio,
    raw,
    round_table,
    summarise,
)

CONFIG = Path(__file__).resolve().parents[1] / "hub_config" / "jupyterhub_config.py"


def rendered(table: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(table)
    return console.file.getvalue()


def rows(text: str) -> list[list[str]]:
    """The body rows of a rendered table, cell by cell."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if "│" in line]


def test_percentiles_interpolate_between_ranks():
    samples = [4.0, 1.0, 3.0, 2.0, 5.0]
    assert percentile(samples, 50) == 3.0
    assert percentile(samples, 90) == pytest.approx(4.6)
    assert percentile(samples, 0) == 1.0 and percentile(samples, 100) == 5.0
    assert percentile([7.0], 90) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile(samples, 101)


def test_summaries_and_ratios():
    summary = summarise([2.0, 1.0, 10.0])
    assert summary is not None and (summary.count, summary.p50, summary.max) == (3, 2.0, 10.0)
    assert summarise([]) is None
    assert ratio(6.0, 2.0) == 3.0 and ratio(1.0, 0.0) is None


def people() -> tuple[Round, Round]:
    alone = Round(
        BASELINE, 1, [PersonResult("load-001", {"spawn": 5.0, "push→scored": 8.0})], 14.0, 1.5, 900.0
    )
    crowd = Round(
        LOAD,
        3,
        [
            PersonResult("load-002", {"spawn": 10.0, "push→scored": 40.0}),
            PersonResult(
                "load-003", {"spawn": 20.0}, Failure("push→scored", "scoring failed: timeout: 300 s")
            ),
            PersonResult("load-004", {}, Failure("spawn", "not done within the phase's timeout")),
        ],
        95.0,
        12.3,
        6144.0,
    )
    return alone, crowd


def test_the_round_table_gives_percentiles_and_the_ratio_to_the_person_alone():
    alone, crowd = people()
    table = round_table(crowd, alone)
    assert table.title == "N = 3 at once"
    assert (
        table.caption == "wall 95.0 s; load average 12.3 at the end; the hub's processes at most 6.0 GiB RSS"
    )
    text = rendered(table)
    table = {row[0]: row[1:] for row in rows(text)}
    assert list(table) == list(PHASES)
    assert table["spawn"] == ["2", "15.0 s", "19.0 s", "20.0 s", "5.00 s", "3.0×"]
    assert table["push→scored"] == ["1", "40.0 s", "40.0 s", "40.0 s", "8.00 s", "5.0×"]
    assert table["login"] == ["0", "–", "–", "–", "–", "–"]  # nobody timed: no figures, no ratio
    baseline = round_table(alone, None)
    assert baseline.title == "N = 1, the baseline: 1 person alone, one after another"
    assert rows(rendered(baseline))[1][-2:] == ["–", "–"]  # no ratio to itself


def test_failures_are_grouped_by_round_phase_and_reason():
    alone, crowd = people()
    assert failures_table([alone]) is None
    again = Round(
        LOAD, 2, [PersonResult(f"load-0{n}", {}, Failure("spawn", "HTTP 429")) for n in (5, 6)], 9.0, 2.0, 1.0
    )
    assert rows(rendered(failures_table([alone, crowd, again]))) == [
        ["2", "spawn", "2", "HTTP 429", "load-05, load-06"],
        ["3", "spawn", "1", "not done within the phase's timeout", "load-004"],
        ["3", "push→scored", "1", "scoring failed: timeout: 300 s", "load-003"],
    ]


def test_raw_samples_are_json_with_every_person():
    alone, crowd = people()
    data = json.loads(json.dumps(raw([alone, crowd], {"cpus": 2})))
    assert data["context"] == {"cpus": 2} and list(data["phases"]) == list(PHASES)
    assert [r["users"] for r in data["rounds"]] == [1, 3]
    assert data["rounds"][1]["people"][2] == {
        "name": "load-004",
        "times": {},
        "failure": {"phase": "spawn", "reason": "not done within the phase's timeout"},
    }


def test_the_terminal_is_done_only_when_the_command_printed_its_status():
    line = typed("git push")
    echoed = line.replace("\r", "\r\n")  # the shell echoes what was typed
    assert finished(echoed) is None
    output = (
        echoed + "remote: submission 12 queued: solutions/load-001/phase-1.ipynb (phase phase-1)\r\n"
        "\x1b[?2004l__COOP_DONE__ 0\r\n\x1b[?2004hbash-5.2# "
    )
    status, shown = finished(output)
    assert status == 0 and QUEUED.search(shown).group(1) == "12" and "__COOP_DONE__" not in shown
    assert finished(echoed + "error: failed to push\r\n__COOP_DONE__ 1\r\n")[0] == 1
    refused = REJECTED.search("remote: submission 3 not scored: limit reached (10 a day)\r\n")
    assert refused.group(2) == "limit reached (10 a day)"


def load_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, users: str) -> object:
    for variable in ("COOP_DB_URL", "COOP_HUB_MODE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COOP_HOME", str(tmp_path))
    monkeypatch.setenv("COOP_DEMO_PASSWORD", "not-used")
    monkeypatch.setenv("COOP_DEMO_USERS", users)
    return PyFileConfigLoader(CONFIG.name, str(CONFIG.parent)).load_config()


def test_the_hub_config_allows_the_load_accounts_as_participants(monkeypatch, tmp_path: Path):
    config = load_config(monkeypatch, tmp_path, "load-000, load-001,")
    assert config.Authenticator.allowed_users == {"alice", "bob", "carol", "olga", "load-000", "load-001"}
    assert config.JupyterHub.load_groups["participants"]["users"] == [
        "alice",
        "bob",
        "carol",
        "load-000",
        "load-001",
    ]
    assert config.JupyterHub.load_groups["organisers"]["users"] == ["olga"]


def test_the_hub_config_refuses_a_load_account_that_is_no_user_name(monkeypatch, tmp_path: Path):
    with pytest.raises(SystemExit, match=r"COOP_DEMO_USERS: 'Load 1', '../x': not a user name"):
        load_config(monkeypatch, tmp_path, "ok-1,Load 1,../x")
