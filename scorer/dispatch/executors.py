"""Executors: where Dask runs the scoring tasks: a LocalCluster on this machine, an existing
scheduler, or a dask-gateway cluster. The ``executor`` setting picks one by class, import string
or name in the ``coop.executors`` entry points (``local``, ``scheduler``, ``gateway``)."""

from __future__ import annotations

from typing import Protocol

from distributed import Client, LocalCluster

from scorer.config import ScorerSettings


class Executor(Protocol):
    """Something that gives a Dask client; closing it stops what it started. Built from the
    scorer's settings: ``executor_class(settings)``."""

    def client(self) -> Client: ...

    def close(self) -> None: ...


class LocalClusterExecutor:
    """A Dask LocalCluster on this machine: one process per notebook, one thread each."""

    def __init__(self, settings: ScorerSettings) -> None:
        self.cluster = LocalCluster(
            n_workers=settings.n_workers or None,
            threads_per_worker=1,
            processes=True,
            dashboard_address="127.0.0.1:0",  # the scheduler serves HTTP anyway: loopback, any port
            host="127.0.0.1",
        )
        self._client = Client(self.cluster)

    def client(self) -> Client:
        return self._client

    def close(self) -> None:
        self._client.close()
        self.cluster.close()


class SchedulerExecutor:
    """An existing Dask scheduler (dask-gateway, dask-jobqueue, dask-kubernetes, dask scheduler)."""

    def __init__(self, settings: ScorerSettings) -> None:
        self.address = settings.scheduler_address
        self._client = Client(self.address, timeout="30s")

    def client(self) -> Client:
        """The client, connected anew when Dask closed it (its scheduler was away for longer
        than the client waits: it never reconnects by itself)."""
        if self._client.status == "closed":
            self._client = Client(self.address, timeout="30s")
        return self._client

    def close(self) -> None:
        self._client.close()
