"""Executors: where Dask runs the scoring tasks: a LocalCluster on this machine, an existing
scheduler, or a dask-gateway cluster. The ``executor`` setting picks one by class, import string
or name in the ``coop.executors`` entry points (``local``, ``scheduler``, ``gateway``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

from scorer.config import ScorerSettings

if TYPE_CHECKING:
    from distributed import Client, LocalCluster


class Executor(Protocol):
    """Something that gives a Dask client; closing it stops what it started. Built from the
    scorer's settings: ``executor_class(settings)``."""

    def client(self) -> Client: ...

    def close(self) -> None: ...


class LocalClusterExecutor:
    """A Dask LocalCluster on this machine: one process per notebook, one thread each, started
    when a client is first asked for."""

    def __init__(self, settings: ScorerSettings) -> None:
        self.n_workers = settings.n_workers  # 0: Dask's default, one per CPU
        self.cluster: LocalCluster | None = None
        self._client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            from distributed import Client, LocalCluster

            self.cluster = LocalCluster(
                n_workers=self.n_workers or None,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",  # the scheduler serves HTTP anyway: loopback, any port
                host="127.0.0.1",
            )
            self._client = Client(self.cluster)
        return self._client

    def worth_a_cluster(self, count: int) -> bool:
        """Whether ``count`` submissions should go through the cluster: it is up already, or it
        would run them side by side (more than one, on more than one worker). Otherwise they run
        in the calling process, one after another (:func:`scorer.dispatch.dispatcher.run_here`):
        starting a cluster and closing it cost a one-off run more than the run itself."""
        return self._client is not None or min(count, self.n_workers or os.cpu_count() or 1) > 1

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.cluster is not None:
            self.cluster.close()
        self._client = self.cluster = None


class SchedulerExecutor:
    """An existing Dask scheduler (dask-gateway, dask-jobqueue, dask-kubernetes, dask scheduler)."""

    def __init__(self, settings: ScorerSettings) -> None:
        self.address = settings.scheduler_address
        self._client = self._connect()

    def client(self) -> Client:
        """The client, connected anew when Dask closed it (its scheduler was away for longer
        than the client waits: it never reconnects by itself)."""
        if self._client.status == "closed":
            self._client = self._connect()
        return self._client

    def _connect(self) -> Client:
        from distributed import Client

        return Client(self.address, timeout="30s")

    def close(self) -> None:
        self._client.close()
