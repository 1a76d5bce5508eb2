"""The local pool end to end: a killed run takes its workers with it, a hung Program is killed at its
timeout, a failure's replay command re-creates it, and a moved run folder keeps its links."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness_fixtures import ROOT, SMALL, need_tool

from harness.results_store import ResultsStore
from testbenches.vta import programs

WORKER = b"harness.pool_worker"
HANG_CHILD = ["sleep", "613.25"]  # started by the stuck RTL below, in its worker's process group


@dataclass(frozen=True)
class Process:
    """One line of /proc: enough to tell a process (pid and start time) and its family apart."""

    pid: int
    state: str
    ppid: int
    pgrp: int
    start: int
    argv: list[str]


def _processes() -> list[Process]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name: state, ppid, pgrp, ...
        found.append(
            Process(int(entry.name), fields[0], int(fields[1]), int(fields[2]), int(fields[19]), argv)
        )
    return found


def _alive(processes: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those of (pid, start time) that still run (a zombie is dead; a reused pid is another process)."""
    return {(p.pid, p.start) for p in _processes() if (p.pid, p.start) in processes and p.state != "Z"}


def _workers_of(parent: int) -> set[tuple[int, int]]:
    return {
        (p.pid, p.start)
        for p in _processes()
        if p.ppid == parent and any(WORKER in a.encode() for a in p.argv)
    }


def _in_groups(groups: set[int]) -> set[tuple[int, int]]:
    return {(p.pid, p.start) for p in _processes() if p.pgrp in groups and p.state != "Z"}


def _harness(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", "run", *map(str, args)], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _matmuls(folder: Path, count: int) -> list[Path]:
    paths = []
    for seed in range(count):
        program = programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL, seed=seed)
        program.name = f"mm{seed}"
        paths.append(program.save(folder / f"mm{seed}.npz"))
    return paths


def test_kill_9_of_the_run_takes_its_workers_with_it_and_keeps_finished_rows(tmp_path):
    paths = _matmuls(tmp_path, 40)
    results = tmp_path / "results"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "run", *map(str, paths), "--results", str(results), "-j", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    workers: set[tuple[int, int]] = set()
    try:
        deadline = time.monotonic() + 120
        while not list(results.glob("runs/*.parts/*.parquet")):  # the first row of a finished Program
            assert proc.poll() is None, f"the run ended on its own (status {proc.returncode})"
            assert time.monotonic() < deadline, "no Program finished within 120 s"
            workers |= _workers_of(proc.pid)
            time.sleep(0.02)
        workers |= _workers_of(proc.pid)
        assert len(workers) == 2 and _alive(workers) == workers, workers  # both at work when the pool dies
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while _alive(workers) or _in_groups({pid for pid, _ in workers}):
        assert time.monotonic() < deadline, f"workers outlived their pool by 10 s: {_alive(workers)}"
        time.sleep(0.05)

    (run_dir,) = results.glob("2*")
    table = ResultsStore(results).table()
    assert 1 <= len(table) < len(paths), len(table)  # killed after the first Program, before the last
    assert table["passed"].all()
    for name in table["program"]:
        assert json.loads((run_dir / f"{name}.json").read_text())["passed"], name


def _stuck_rtl(dest: Path) -> Path:
    """rtl/vta where, once the compute unit retires instruction 20, nothing retires again while the
    design stays busy (a hang only the timeout ends), after starting a `sleep` in the background."""
    shutil.copytree(ROOT / "rtl" / "vta", dest)
    top = dest / "vta_top.v"
    text = top.read_text()
    stuck = (
        "    always @(posedge clk) if (rst) stuck <= 1'b0; else if (!stuck && compute_retire && compute_index >= 32'd20)"
        f' begin stuck <= 1\'b1; $system("{shlex.join(HANG_CHILD)} &"); end\nendmodule'
    )
    for old, new in (
        ("    assign busy = ", "    reg stuck;\n    assign busy = stuck || "),
        ("assign retire_valid = {", "assign retire_valid = stuck ? 3'b000 : {"),
        ("\nendmodule", "\n" + stuck),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    top.write_text(text)
    return dest


def test_a_hung_program_is_killed_at_the_timeout_with_its_children_and_the_run_goes_on(tmp_path):
    hung = programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL)
    assert len(hung) > 20  # reaches the stuck instruction
    small = programs.matmul(m=8, k=16, n=16, chunk_rows=8, config=SMALL)
    assert len(small) < 20  # never reaches the stuck instruction
    results = tmp_path / "results"
    proc = _harness(
        hung.save(tmp_path / "hung.npz"), small.save(tmp_path / "small.npz"), "--rtl-dir", _stuck_rtl(tmp_path / "vta"), "--results", results,
        "-j", "1", "--timeout", "3", "--cycle-budget", str(10**12), "--no-reproduce", "--wave-window", "0",
    )  # fmt: skip
    workers: set[tuple[int, int]] = set()
    children: set[tuple[int, int]] = set()
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None:
            assert time.monotonic() < deadline, "the run did not end within 300 s"
            workers |= _workers_of(proc.pid)
            groups = {pid for pid, _ in workers}
            children |= {(p.pid, p.start) for p in _processes() if p.argv == HANG_CHILD and p.pgrp in groups}
            time.sleep(0.05)
        stdout = proc.stdout.read() if proc.stdout else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stdout
    table = ResultsStore(results).table().set_index("program")
    assert list(table.index) == ["matmul_32x32x32", "matmul_8x16x16"]  # the run went on after the kill
    hang = table.loc["matmul_32x32x32"]
    assert hang["failure"] == "hang" and "the 3 s timeout" in hang["mismatch"], hang["mismatch"]
    assert 3 <= hang["wall_seconds"] < 30, hang["wall_seconds"]
    assert table.loc["matmul_8x16x16", "passed"]
    assert len(workers) == 2  # the killed worker and its replacement
    assert children, "the stuck RTL's background child was never seen: the test lost its witness"
    assert not _alive(workers | children)
    assert not _in_groups({pid for pid, _ in workers})


def test_the_replay_command_recreates_a_failure_found_with_non_default_options(alu_shift_rtl, tmp_path):
    path = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL).save(tmp_path / "mm.npz")
    flags = ["--keep-going", "--full-every", "7", "--cycle-budget", "50000", "--no-reproduce", "--wave-window", "0"]  # fmt: skip
    first = _harness(path, "--rtl-dir", alu_shift_rtl, "--results", tmp_path / "first", *flags)
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 1, out
    (report,) = (tmp_path / "first").glob("2*/matmul_16x16x16.json")
    original = json.loads(report.read_text())
    replay = shlex.split(original["artifacts"]["replay"])
    assert replay[:4] == ["python", "-m", "harness", "run"] and replay[4] == str(path.resolve())
    for flag, value in (("--rtl-dir", str(alu_shift_rtl)), ("--full-every", "7"), ("--cycle-budget", "50000"),
                        ("--wave-window", "0")):  # fmt: skip
        assert replay[replay.index(flag) + 1] == value, (flag, replay)
    assert "--keep-going" in replay and "--no-reproduce" in replay

    again = subprocess.run(
        [sys.executable, *replay[1:], "--results", str(tmp_path / "again")], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 1, again.stdout + again.stderr
    (replayed,) = (tmp_path / "again").glob("2*/matmul_16x16x16.json")
    result = json.loads(replayed.read_text())
    key = ("kind", "state", "index", "element", "cycle")
    assert original["mismatches"][0]["kind"] == "state"
    assert [result["mismatches"][0][k] for k in key] == [original["mismatches"][0][k] for k in key]
    assert len(result["mismatches"]) == len(original["mismatches"]) > 1  # --keep-going went on in both


FILE_ARTIFACTS = ("report", "html", "picture", "difference", "waves", "gtkw", "reproducer")


def test_a_moved_run_folder_keeps_every_link(alu_shift_rtl, tmp_path):
    need_tool("fst2vcd")
    path = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL).save(tmp_path / "mm.npz")
    results = tmp_path / "results"
    proc = _harness(path, "--rtl-dir", alu_shift_rtl, "--results", results, "--repro-seconds", "20")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    (run_dir,) = results.glob("2*")
    moved = Path(shutil.move(run_dir, tmp_path / "archive" / "elsewhere"))
    assert not run_dir.exists()

    html = (moved / "index.html").read_text()
    links = [
        link for link in re.findall(r'(?:href|src)="([^"]*)"', html) if not link.startswith(("#", "data:"))
    ]
    assert {"matmul_16x16x16.fst", "matmul_16x16x16.gtkw", "matmul_16x16x16.repro.npz"} <= set(links)
    assert [link for link in links if not (moved / link).is_file()] == []

    arts = json.loads((moved / "matmul_16x16x16.json").read_text())["artifacts"]
    assert {"report", "html", "waves", "gtkw", "reproducer"} <= set(arts), arts
    assert [arts[k] for k in FILE_ARTIFACTS if k in arts and not (moved / arts[k]).is_file()] == []

    gtkw = moved / arts["gtkw"]
    (dumpfile,) = re.findall(r'^\[dumpfile\] "([^"]+)"', gtkw.read_text(), re.MULTILINE)
    assert (gtkw.parent / dumpfile).resolve() == (moved / arts["waves"]).resolve()

    # the reproducer's command is given relative to the run folder: it runs from the moved one
    command = shlex.split(arts["reproducer_command"])
    again = subprocess.run(
        [sys.executable, *command[1:], "--no-reproduce", "--wave-window", "0", "--results", str(tmp_path / "again")],
        cwd=moved, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode == 1 and "FAIL state" in again.stdout, again.stdout + again.stderr
