"""The dashboards service runs the same Voila on the embedded hub and on Kubernetes: every option
of the hub config's command is in the z2jh Deployment's, but those naming the host (port,
address, folder)."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.e2e.dashboards.served import dashboards_service
from tests.hub.conftest import ROOT

HOST_OPTIONS = ("--port=", "--Voila.ip=")


def z2jh_command() -> list[str]:
    documents = yaml.safe_load_all((ROOT / "hub_config" / "z2jh" / "coop-service.yaml").read_text())
    deployment = next(
        d for d in documents if d and d["kind"] == "Deployment" and d["metadata"]["name"] == "dashboards"
    )
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return list(container["command"])


def test_kubernetes_runs_the_dashboards_as_the_embedded_hub_does(tmp_path: Path):
    hub = dashboards_service({"COOP_HOME": str(tmp_path)})["command"]
    options = [arg for arg in hub if arg.startswith("--") and not arg.startswith(HOST_OPTIONS)]
    assert "--template=coop" in options and "--preheat_kernel=True" in options
    assert [arg for arg in options if arg not in z2jh_command()] == []
