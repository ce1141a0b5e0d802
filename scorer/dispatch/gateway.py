"""The ``gateway`` executor: a Dask cluster from a dask-gateway server, the scoring cluster at scale.

The scorer talks to the gateway as itself: on Kubernetes that is the ``coop`` JupyterHub
service, whose ``JUPYTERHUB_API_TOKEN`` the gateway checks with the hub (``gateway.auth.type:
jupyterhub``); for tests and single hosts, HTTP Basic against the gateway's
``SimpleAuthenticator``. It reuses a cluster this identity already runs (a restarted ``coop
serve`` finds the one it left) or starts one, sizes it to ``n_workers`` and hands out a
distributed ``Client`` like the other executors. Closing it stops only a cluster it started.

It drives the gateway's REST API through one ``Gateway`` client and connects a plain
``Client`` to the scheduler, rather than using ``GatewayCluster``: that class closes its own
``Gateway`` twice (``close()``, then ``__del__`` once the event loop has stopped), which raises
from a finaliser at an arbitrary later moment.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from distributed import Client

from scorer.config import ScorerSettings
from scorer.exceptions import CoopError

if TYPE_CHECKING:
    from dask_gateway import Gateway
    from dask_gateway.auth import GatewayAuth
    from dask_gateway.client import ClusterReport

#: The environment variable holding the gateway password for ``gateway_auth = "basic"``
#: (never a setting: settings travel to every worker with each task).
PASSWORD_VARIABLE = "COOP_GATEWAY_PASSWORD"
TOKEN_VARIABLE = "JUPYTERHUB_API_TOKEN"


def gateway_auth(settings: ScorerSettings, environ: Mapping[str, str] = os.environ) -> GatewayAuth:
    """The credentials the scorer presents to the gateway, from its environment."""
    from dask_gateway.auth import BasicAuth, JupyterHubAuth

    if settings.gateway_auth == "basic":
        return BasicAuth(getpass.getuser(), environ.get(PASSWORD_VARIABLE, ""))
    token = environ.get(TOKEN_VARIABLE)
    if not token:
        raise CoopError(
            f"the dask-gateway at {settings.gateway_address} checks JupyterHub tokens but {TOKEN_VARIABLE} "
            "is not set: run `coop serve` as a JupyterHub service (the hub sets it), or set "
            "gateway_auth = 'basic' for a gateway with a shared password"
        )
    return JupyterHubAuth(api_token=token)


class GatewayExecutor:
    """One cluster on a dask-gateway server: reused when this identity runs one, else started."""

    def __init__(self, settings: ScorerSettings) -> None:
        try:
            from dask_gateway import Gateway
        except ImportError as exc:
            raise CoopError(
                "the gateway executor needs the dask-gateway client: pip install 'coopetition[production]'"
            ) from exc
        address = settings.gateway_address
        if not address:
            raise CoopError(
                "the gateway executor needs gateway_address (COOP_GATEWAY), e.g. http://host:8000"
            )
        self.cluster_name = ""
        self.started = False
        self._client: Client | None = None
        self._gateway: Gateway | None = Gateway(address, auth=gateway_auth(settings))
        try:
            report = self._reuse_or_start(self._gateway)
            if settings.n_workers > 0:
                self._gateway.scale_cluster(self.cluster_name, settings.n_workers)
            else:  # up to the gateway's cluster_max_workers
                self._gateway.adapt_cluster(self.cluster_name, minimum=0)
            # On the gateway's running loop, as dask-gateway's own clusters do: a second loop thread
            # must start within distributed's fixed 10 s, which a loaded machine has missed.
            self._client = Client(
                report.scheduler_address, security=report.security, timeout="30s", loop=self._gateway.loop
            )
        except CoopError:
            self.close()
            raise
        except Exception as exc:  # aiohttp, HTTP status and gateway errors alike: say where and why
            self.close()
            raise CoopError(f"cannot use the dask-gateway at {address}: {_reason(exc)}", repr(exc)) from exc

    def client(self) -> Client:
        if self._client is None:
            raise CoopError("the gateway executor is closed")
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._gateway is not None:
            try:
                if self.started:
                    self._gateway.stop_cluster(self.cluster_name)
            finally:
                # Dropping the only reference closes it once, through its own __del__ (see above).
                self._gateway = None

    def _reuse_or_start(self, gateway: Gateway) -> ClusterReport:
        """Connect to this identity's oldest active cluster, or start one; wait until it runs."""
        active = gateway.list_clusters()  # pending or running, this identity's only
        if active:
            self.cluster_name = min(active, key=lambda report: report.start_time).name
        else:
            self.cluster_name = gateway.submit()
            self.started = True
        return _running(gateway, self.cluster_name)


def _running(gateway: Gateway, name: str) -> ClusterReport:
    """The cluster's report once it runs (the gateway fails a cluster that cannot start)."""
    from dask_gateway.client import ClusterStatus

    while True:
        try:
            report = gateway.get_cluster(name, wait=True)  # the server holds it until a change
        except TimeoutError:
            continue
        if report.status is ClusterStatus.RUNNING:
            return report
        if report.status in (ClusterStatus.FAILED, ClusterStatus.STOPPED):
            raise CoopError(
                f"the dask-gateway cluster {name} is {report.status.name.lower()}: see the gateway's log"
            )
        time.sleep(0.5)  # still pending: the server answered without waiting


def _reason(exc: Exception) -> str:
    status = getattr(exc, "status", None)  # aiohttp.ClientResponseError
    if status in (401, 403):
        return f"the gateway refused the scorer's credentials (HTTP {status})"
    if isinstance(exc, OSError):  # aiohttp.ClientConnectorError and friends
        return f"the gateway cannot be reached ({exc})"
    return str(exc) or type(exc).__name__
