"""A persistent worker process of the local pool (harness/executor.py): runs job after job.

Started as `python -m harness.pool_worker CONN_FD LIFELINE_FD` in a session of its own (so a
timeout or a crash kills it with every process it started, as one process group). It keeps
what it loaded between jobs (Python, numpy, the verilated libraries), so a Program costs its
simulation time, not an interpreter start. Messages on CONN are dicts (multiprocessing
Connection): from the pool {"job", "run_dir"} or {"stop"}; to the pool
{"progress"}, {"phase"} and {"report"}. The lifeline is a socket the pool never writes to:
when the pool's process dies, even by `kill -9`, the read returns and the worker kills its
whole process group. Its stdout and stderr (simulator messages) go to a log file the pool reads
back when it crashes.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from harness.job import Events, Job, run_job

REPORT_EVERY = 0.25  # seconds between progress messages


class _PipeEvents(Events):
    def __init__(self, conn: Connection, index: int):
        self.conn = conn
        self.index = index
        self._next = 0.0

    def progress(self, retired: int, total: int) -> None:
        now = time.monotonic()
        if now >= self._next or retired >= total:
            self._next = now + REPORT_EVERY
            self.conn.send({"index": self.index, "progress": [retired, total]})

    def phase(self, what: str) -> None:
        self.conn.send({"index": self.index, "phase": what})


def _watch_lifeline(fd: int) -> None:
    lifeline = socket.socket(fileno=fd)
    try:
        while lifeline.recv(1):
            pass
    except OSError:
        pass
    os.killpg(os.getpgrp(), signal.SIGKILL)  # the pool is gone: this worker and all it started


def main(argv: list[str]) -> int:
    """Serve jobs until told to stop or the pool goes away."""
    conn = Connection(int(argv[0]))
    threading.Thread(target=_watch_lifeline, args=(int(argv[1]),), daemon=True, name="lifeline").start()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool decides what an interrupt means
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return 0
        if "stop" in message:
            return 0
        job = Job.from_json(message["job"])
        print(f"--- job {job.index}: {job.path}", flush=True)  # the log's marker for a crash's last words
        run_dir = Path(message["run_dir"]) if message.get("run_dir") else None
        report = run_job(job, run_dir, _PipeEvents(conn, job.index))
        sys.stdout.flush()
        conn.send({"index": job.index, "report": report.to_json()})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
