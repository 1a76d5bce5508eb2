"""Beyond one machine: the same jobs on a Dask distributed cluster (no scheduler of our own).

`DaskExecutor("local", n)` starts a `LocalCluster` of n single-threaded worker processes;
`DaskExecutor("tcp://HOST:8786")` uses a running cluster. Programs travel as files' bytes (a
remote worker need not see the submitting machine's disk) and reports come back as JSON rows.
On each Dask worker the jobs run in that worker's own persistent Tandem worker process
(harness/executor.py's LocalPool of one, kept between tasks), so a simulator that crashes or
hangs is caught and reported there exactly as on the local pool, and the Dask worker survives.
Verilated libraries are built on each worker machine, once per RTL hash, under a lock
(harness/verilator_build.py); every worker needs this repository's code at the same version.
"""

from __future__ import annotations

import atexit
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from harness.executor import EventSink, LocalPool
from harness.job import Job
from harness.results import RunReport

_POOL: LocalPool | None = None


def _worker_pool() -> LocalPool:
    """This Dask worker process's Tandem worker (started on its first task, kept for the next)."""
    global _POOL
    if _POOL is None:
        _POOL = LocalPool(1).__enter__()
        atexit.register(_POOL.__exit__)
    return _POOL


def run_on_worker(job: dict[str, Any], program: bytes, run_dir: str | None) -> dict[str, Any]:
    """A Dask task: run one job whose Program file arrives as bytes; its report as JSON."""
    with tempfile.TemporaryDirectory(prefix="tandem-dask-") as tmp:
        local = Path(tmp) / Path(job["path"]).name
        local.write_bytes(program)
        moved = Job.from_json({**job, "path": str(local)})
        (report,) = list(_worker_pool().run([moved], Path(run_dir) if run_dir else None))
    report.path = job["path"]  # the row names the file the user gave
    return report.to_json()


class DaskExecutor:
    """Jobs on a Dask cluster (see the module docstring)."""

    def __init__(self, scheduler: str, workers: int = 2):
        self.scheduler = scheduler
        self.workers = workers
        self.not_run: list[Job] = []
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        if self.scheduler == "local":
            self._cluster = LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            self._client = Client(self._cluster)
        else:
            self._client = Client(self.scheduler, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def run(
        self, jobs: Sequence[Job], run_dir: Path | None, events: EventSink | None = None, deadline: float | None = None
    ) -> Iterator[RunReport]:
        """Submit every job (until the deadline); yield each report as it finishes."""
        from distributed import as_completed

        futures = []
        self.not_run = []
        for job in jobs:
            if deadline is not None and time.monotonic() >= deadline:
                self.not_run.append(job)
                continue
            where = str(run_dir) if run_dir else None
            task = f"tandem-{job.stem}-{job.index}"
            futures.append(
                self._client.submit(run_on_worker, job.to_json(), job.path.read_bytes(), where, pure=False, key=task)
            )
        for future in as_completed(futures):
            yield RunReport.from_json(future.result())
