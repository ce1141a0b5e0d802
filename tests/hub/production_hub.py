"""A production hub for tests (``COOP_HUB_MODE=production``, ``hub_config/production.py``): TLS at
the proxy with a self-signed certificate for 127.0.0.1 and localhost, the hub's database in a
PostgreSQL schema of its own, NativeAuthenticator with the admin ``ops`` and the organiser
``olga``, on loopback ports held for it (:class:`tests.hub.conftest.RunningHub`).

:class:`ProductionHub` starts it as an operator would, with one exception: the spawner. The
operator's choice (``COOP_HUB_SPAWNER``) is LocalProcessSpawner, which needs a system account
per user; this machine has none, so the command line (which JupyterHub lets win over the config
file) runs the servers as the hub's user. Everything the login path touches is as shipped.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from scorer.cli.up import HubAddress, hub_address, hub_answers
from tests.conftest import require
from tests.hub.conftest import CONFIG, JUPYTERHUB, START_TIMEOUT, RunningHub

ADMIN = "ops"
ORGANISER = "olga"
#: What LocalProcessSpawner would need a system account for, on this machine only.
SERVERS_AS_THE_HUB_USER = "--JupyterHub.spawner_class=simple"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and its key for 127.0.0.1 and localhost, valid for a day."""
    require("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    names = ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
    subprocess.run(
        [*command, *names, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    return cert, key


def production_environment(
    env: dict[str, str], db_url: str, cert: Path, key: Path, public_url: str
) -> dict[str, str]:
    """``env`` (a hub's, from :func:`tests.hub.conftest.hub_environment`) in production mode."""
    return {
        **env,
        "COOP_HUB_MODE": "production",
        "COOP_HUB_DB_URL": db_url,
        "COOP_PUBLIC_URL": public_url,
        "COOP_HUB_SSL_CERT": str(cert),
        "COOP_HUB_SSL_KEY": str(key),
        "COOP_HUB_ADMINS": ADMIN,
        "COOP_HUB_ORGANISERS": ORGANISER,
        "COOP_HUB_SPAWNER": "localprocess",
    }


class ProductionHub(RunningHub):
    """A :class:`RunningHub` in production mode: its ``url`` is its public https:// address."""

    @property
    def address(self) -> HubAddress:
        return hub_address(self.env)

    @property
    def url(self) -> str:
        return self.address.public

    @property
    def certificate(self) -> Path:
        return Path(self.env["COOP_HUB_SSL_CERT"])

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [JUPYTERHUB, "-f", str(CONFIG), SERVERS_AS_THE_HUB_USER],
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        with self.address.client() as client:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"the hub exited:\n{self.log_tail()}"
                if hub_answers(client, self.address.local):
                    return
                time.sleep(0.3)
        raise AssertionError(f"the hub did not start in {START_TIMEOUT:.0f} s:\n{self.log_tail()}")
