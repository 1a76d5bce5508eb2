"""Ctrl-C during a run of several Programs keeps the results of those that finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from harness_fixtures import ROOT, SMALL

from harness.results_store import ResultsStore
from testbenches.vta import programs


@pytest.mark.parametrize("group", [False, True], ids=["to-the-session", "to-the-process-group"])
def test_sigint_keeps_finished_rows_and_reports_them(tmp_path, group):
    """SIGINT to the session alone, or to its whole process group as a terminal's Ctrl-C does."""
    paths = []
    for seed in range(40):  # persistent workers run a small Program in well under 0.1 s: enough to interrupt
        program = programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL, seed=seed)
        program.name = f"mm{seed}"
        paths.append(program.save(tmp_path / f"mm{seed}.npz"))
    results = tmp_path / "results"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", *map(str, paths), "--results", str(results)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not list(results.glob("2*/*.json")):  # wait for the first finished Program
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "no Program finished within 300 s"
            time.sleep(0.1)
        if group:
            os.killpg(proc.pid, signal.SIGINT)  # the worker gets it too
        else:
            proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stdout
    assert "interrupted:" in stdout
    (run_dir,) = results.glob("2*")
    finished = sorted(p.stem for p in run_dir.glob("*.json"))
    assert 1 <= len(finished) < len(paths), finished  # interrupted before the end, after the first
    table = ResultsStore(results).table()
    assert sorted(table["program"]) == finished  # one row per finished Program, none for the rest
    assert table["passed"].all()  # the interrupted worker is not recorded as a crash
    assert f"{len(finished)} passed, 0 failed" in stdout  # the summary table shows the finished rows
    for name in finished:
        assert json.loads((run_dir / f"{name}.json").read_text())["passed"]
    assert all(name in (run_dir / "index.html").read_text() for name in finished)
