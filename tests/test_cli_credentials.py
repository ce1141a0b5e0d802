"""``coop profile link-code / export / import / rotate-key``: instance A's home exported with the
CLI and imported through instance B's service with alice's own token (both real services on
loopback, each with its ledger and key)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scorer.cli import app
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.profiles.keys import load_keys
from scorer.service.app import create_app
from tests.service.conftest import PREFIX, TOKENS, running
from tests.service.rewards_ledger import reward

runner = CliRunner()


def coop(home: Path, *args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    result = runner.invoke(
        app, ["--home", str(home), "profile", *args], env={"COLUMNS": "200", **(env or {})}
    )
    assert result.exit_code == code, result.output
    return result.output


def test_link_code_on_b_export_on_a_import_on_b(tmp_path):
    a = CoopAPI(ScorerSettings(home=str(tmp_path / "a")))
    b = CoopAPI(ScorerSettings(home=str(tmp_path / "b")))
    reward(a.sessions)
    try:
        with (
            running(create_app(a, TOKENS, prefix=PREFIX)) as a_root,
            running(create_app(b, TOKENS, prefix=PREFIX)) as b_root,
        ):
            a_url = a_root + PREFIX.rstrip("/")
            b.settings.trusted_instances = [a_url]
            on_b = {"COOP_SERVICE_URL": b_root + PREFIX, "JUPYTERHUB_API_TOKEN": "alice-token"}
            code = coop(tmp_path / "b", "link-code", env=on_b).splitlines()[0]
            exported = tmp_path / "alice.json"
            coop(tmp_path / "a", "export", "alice", "--link", code, "--output", str(exported),
                 env={"COOP_PUBLIC_URL": a_url})  # fmt: skip
            document = json.loads(exported.read_text())
            assert (document["issuer"], document["person"], len(document["credentials"])) == (
                a_url,
                "alice",
                2,
            )
            output = coop(tmp_path / "b", "import", str(exported), env=on_b)
            assert output.count(f"(from {a_url}, as alice)") == 2
            again = coop(tmp_path / "b", "import", str(exported), env=on_b, code=1)
            assert "imported already" in again
            no_token = coop(
                tmp_path / "b", "import", str(exported), env={**on_b, "JUPYTERHUB_API_TOKEN": ""}, code=2
            )
            assert "JUPYTERHUB_API_TOKEN" in no_token
    finally:
        a.close()
        b.close()


def test_rotate_key_keeps_the_old_public_key(tmp_path):
    before = load_keys(tmp_path).kid
    output = coop(tmp_path, "rotate-key")
    after = load_keys(tmp_path)
    assert after.kid != before and after.kid in output
    assert [key.thumbprint() for key in after.retired] == [before]
    assert "1 earlier key(s) still published" in output
