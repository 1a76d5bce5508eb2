"""The local executor: a pool of persistent worker processes on this machine (`-j N`).

Each worker (harness/pool_worker.py) runs job after job in its own process group. The pool sends
a worker its next job as soon as it is free, forwards the worker's progress and phase messages,
and yields each job's report as it finishes. A worker that dies gets a `crash` report for its
job, with the last lines it printed; one that overruns the per-Program timeout is killed with its
whole process group and gets a `hang` report with its real wall time. Either way it is replaced
and the run goes on. Closing the pool (or an interrupt) kills every worker's process group; if
the pool's own process is killed, each worker notices through its lifeline and kills its group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Protocol, TextIO

from harness.job import Job
from harness.mismatch import MismatchKind
from harness.results import RunReport

LOG_TAIL = 12  # lines of a crashed worker's output shown in its report

# (job index, what) for progress: ("progress", (retired, total)) or ("phase", text)
EventSink = Callable[[int, str, Any], None]


class Executor(Protocol):
    """Runs jobs somewhere (this machine's worker processes, a Dask cluster) and yields their reports."""

    @property
    def not_run(self) -> Sequence[Job]:
        """After run(): the jobs never started because the deadline came."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...

    def run(
        self, jobs: list[Job], run_dir: Path | None, events: EventSink | None = None, deadline: float | None = None
    ) -> Iterator[RunReport]:
        """Run the jobs; yield each report as it finishes."""
        ...


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection
    lifeline: socket.socket
    log: TextIO
    job: Job | None = None
    started: float = 0.0
    log_offset: int = 0
    ended: bool = False

    def kill(self) -> None:
        """Kill the worker and everything it started (its process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.conn.close()
        self.lifeline.close()
        self.log.close()

    def output_since_job(self) -> str:
        try:
            with open(self.log.name, errors="replace") as fh:
                fh.seek(self.log_offset)
                lines = fh.read().strip().splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-LOG_TAIL:])


class LocalPool:
    """Persistent worker processes on this machine (see the module docstring).

    Used as a context: the workers start on entering (so they boot while the caller admits its
    inputs and builds the RTL) and are killed, with their process groups, on leaving.
    """

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.not_run: deque[Job] = deque()
        self.deadline: float | None = None
        self._logs: tempfile.TemporaryDirectory[str] | None = None
        self._pool: list[_Worker] = []

    def __enter__(self) -> LocalPool:
        self._logs = tempfile.TemporaryDirectory(prefix="tandem-pool-")
        try:
            self._pool = [self._start(Path(self._logs.name) / f"worker{n}.log") for n in range(self.workers)]
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for worker in self._pool:
            worker.kill()
        self._pool = []
        if self._logs is not None:
            self._logs.cleanup()
            self._logs = None

    def run(
        self, jobs: list[Job], run_dir: Path | None, events: EventSink | None = None, deadline: float | None = None
    ) -> Iterator[RunReport]:
        """Run the jobs, in the order given; yield each report as it finishes (in finishing order).

        deadline: a time.monotonic() after which no further job starts (those are left in `not_run`).
        """
        if self._logs is None:
            raise RuntimeError("LocalPool.run() outside `with LocalPool(...) as pool:`")
        queue = deque(jobs)
        self.not_run = queue
        self.deadline = deadline
        events = events or (lambda index, what, value: None)
        pool = self._pool
        for worker in pool:
            self._dispatch(worker, queue, run_dir)
        while any(w.job is not None for w in pool):
            ready = wait([w.conn for w in pool if w.job is not None], timeout=0.2)
            for worker in list(pool):
                if worker.job is None:
                    continue
                report = None
                if worker.conn in ready:
                    report = self._receive(worker, events)
                elif time.perf_counter() - worker.started > worker.job.options.timeout:
                    report = self._timed_out(worker)
                if report is None:
                    continue
                if worker.ended:
                    pool.remove(worker)
                    worker = self._start(Path(worker.log.name))
                    pool.append(worker)
                worker.job = None
                self._dispatch(worker, queue, run_dir)
                yield report

    # -- workers ----------------------------------------------------------------------------------------
    def _start(self, log_path: Path) -> _Worker:
        ours, theirs = socket.socketpair()
        life_ours, life_theirs = socket.socketpair()
        log = open(log_path, "a+")  # noqa: SIM115 - lives as long as the worker
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.pool_worker", str(theirs.fileno()), str(life_theirs.fileno())],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            pass_fds=(theirs.fileno(), life_theirs.fileno()), start_new_session=True,
        )  # fmt: skip
        theirs.close()
        life_theirs.close()
        conn = Connection(os.dup(ours.fileno()))
        ours.close()
        return _Worker(process, conn, life_ours, log)

    def _dispatch(self, worker: _Worker, queue: deque[Job], run_dir: Path | None) -> None:
        if not queue or (self.deadline is not None and time.monotonic() >= self.deadline):
            return
        job = queue.popleft()
        worker.log.flush()
        worker.log_offset = os.path.getsize(worker.log.name)
        worker.job, worker.started = job, time.perf_counter()
        try:
            worker.conn.send(
                {"job": job.to_json(), "run_dir": str(run_dir) if run_dir else None}
            )
        except OSError:
            worker.ended = True  # found dead on the next receive

    def _receive(self, worker: _Worker, events: EventSink) -> RunReport | None:
        job = worker.job
        assert job is not None
        while True:
            try:
                if not worker.conn.poll():
                    return None
                message = worker.conn.recv()
            except (EOFError, OSError):
                return self._crashed(worker)
            if "report" in message:
                report = RunReport.from_json(message["report"])
                return report
            kind = "progress" if "progress" in message else "phase"
            events(job.index, kind, message[kind])

    def _crashed(self, worker: _Worker) -> RunReport:
        job = worker.job
        assert job is not None
        worker.kill()
        worker.ended = True
        code = worker.process.returncode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        last = worker.output_since_job().splitlines()
        tail = "\n".join(line for line in last if not line.startswith(f"--- job {job.index}:")) or "(it printed nothing)"
        report = job.failed(MismatchKind.CRASH, f"the worker died ({how}):\n{tail}")
        report.wall_seconds = time.perf_counter() - worker.started
        return report

    def _timed_out(self, worker: _Worker) -> RunReport:
        job = worker.job
        assert job is not None
        seconds = time.perf_counter() - worker.started
        worker.kill()
        worker.ended = True
        report = job.failed(
            MismatchKind.HANG,
            f"the Program took longer than the {job.options.timeout:g} s timeout; its worker and every process "
            f"it started were killed",
        )
        report.wall_seconds = seconds
        return report

