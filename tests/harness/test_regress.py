"""The nightly regression: suites, JUnit, resume after kill -9, Dask, missing inputs, the dashboard, check-rtl."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from harness_fixtures import ROOT, need_tool

from harness.options import RunOptions
from harness.pipeline import run
from harness.regress import regress, regress_plan
from harness.results_store import ResultsStore

SAME = ["suite", "accelerator", "program", "backend", "passed", "failure", "instructions", "retired", "cycles", "comparisons"]
TOY = {"TANDEM_ACCELERATORS": "tests.toy.toy"}


def harness(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )  # fmt: skip


def table(results: Path, run_id: str | None = None) -> list[tuple]:
    """A run's rows, without what differs from run to run (times, ids, order), sorted."""
    rows = ResultsStore(results).table(run_id)
    rows["suite"] = rows["suite"].fillna("")
    return sorted(tuple(r) for r in rows[SAME].astype(str).itertuples(index=False))


def run_id_of(results: Path) -> str:
    (run_dir,) = [p for p in results.iterdir() if p.is_dir() and p.name != "runs"]
    return run_dir.name


def test_a_suite_run_writes_junit_with_one_testcase_per_program(tmp_path):
    results = tmp_path / "results"
    out = harness("regress", "--suite", "generated", "--accel", "vta", "--accel", "hlscnn", "--results", str(results),
                  "--junit", str(tmp_path / "ci.xml"))  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rows = ResultsStore(results).table()
    assert set(rows["suite"]) == {"generated"} and set(rows["accelerator"]) == {"vta", "hlscnn"}
    assert rows["passed"].all() and len(rows) == 2 + 7
    for junit in (tmp_path / "ci.xml", results / run_id_of(results) / "junit.xml"):
        root = ET.parse(junit).getroot()
        cases = root.findall(".//testcase")
        assert sorted(c.get("name") for c in cases) == sorted(rows["program"])
        assert not root.findall(".//failure") and root.find("testsuite").get("name") == "generated.verilator"


def test_kill_9_then_resume_gives_the_table_of_an_uninterrupted_run(tmp_path):
    whole = tmp_path / "whole"
    assert harness("regress", "--suite", "generated", "--results", str(whole), "-j", "1").returncode == 0
    results = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "regress", "--suite", "generated", "--results", str(results), "-j", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not list(results.glob("runs/*.parts/*.parquet")):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before a first row"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    run_id = run_id_of(results)
    partial = table(results, run_id)
    assert 1 <= len(partial) < len(table(whole)), "killed after its first row, before its last"
    out = harness("regress", "--suite", "generated", "--results", str(results), "-j", "1", "--resume", run_id)
    assert out.returncode == 0, out.stdout[-3000:]
    assert table(results, run_id) == table(whole)  # each Program once: the earlier rows kept, the rest run
    assert len(list((results / run_id).glob("*.json"))) == len(partial) + (len(table(whole)) - len(partial))


def test_a_dask_local_cluster_of_two_workers_gives_the_local_pools_table(tmp_path):
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert harness("regress", "--suite", "generated", "--accel", "hlscnn", "--results", str(local)).returncode == 0
    out = harness("regress", "--suite", "generated", "--accel", "hlscnn", "--results", str(dask), "--dask", "-j", "2")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert table(dask) == table(local) and len(table(local)) == 7


def test_a_suite_whose_inputs_are_missing_is_reported_loudly(tmp_path, monkeypatch):
    from testbenches.flexasr import programs

    monkeypatch.setattr(programs, "streams_dir", lambda: None)  # as on a machine without ../shared
    plan = regress_plan("streams", RunOptions(), tmp_path / "results", 1)
    assert plan.inputs == () and [m.suite for m in plan.missing] == ["streams"]
    assert "FlexASR authors' streams are not at" in plan.missing[0].reason
    outcome = regress(plan, [])
    assert outcome.exit_status == 1  # nothing failed, but nothing ran either: not a pass
    root = ET.parse(plan.run_dir / "junit.xml").getroot()
    (error,) = root.findall(".//testcase/error")
    assert error.get("type") == "missing" and "flexasr_streams" in (error.text or "")
    assert "NOT RUN: streams / flexasr" in (plan.run_dir / "index.html").read_text()


def _toy_rtl(tmp_path: Path, old: str, new: str) -> Path:
    copy = tmp_path / "toy-rtl"
    shutil.copytree(ROOT / "tests" / "toy" / "rtl", copy)
    files = [f for f in copy.glob("*.v") if old in f.read_text()]
    assert len(files) == 1, f"the plant {old!r} should match one file"
    files[0].write_text(files[0].read_text().replace(old, new, 1))
    return copy


ADD_BECOMES_SUB = ("la + lb", "la - lb")  # tests/toy/rtl/toy_alu.v
EXTRA_CYCLE = (  # an ALU instruction's retirement leaves one idle cycle before the next command
    "retire_index <= index;\n                        state        <= S_IDLE;",
    "retire_index <= index;\n                        state        <= 2'd3;",
)


def test_check_rtl_lists_exactly_the_programs_a_functional_change_breaks(tmp_path):
    planted = _toy_rtl(tmp_path, *ADD_BECOMES_SUB)
    direct = tmp_path / "direct"
    programs = tmp_path / "programs"
    subprocess.run([sys.executable, "-m", "testbenches.generate", "--accel", "toy", "--out", str(programs)],
                   cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT), **TOY})  # fmt: skip
    harness("run", str(programs), "--rtl-dir", str(planted), "--results", str(direct), "--no-reproduce",
            "--wave-window", "0", env=TOY)  # fmt: skip
    rows = ResultsStore(direct).table()
    broken = sorted(rows.loc[~rows["passed"], "program"])
    assert broken and len(broken) < len(rows)  # the plant breaks some of the toy's Programs, not all
    out = harness("check-rtl", "--accel", "toy", "--rtl", str(planted), "--results", str(tmp_path / "results"),
                  "--no-reproduce", "--wave-window", "0", env=TOY)  # fmt: skip
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-3000:]
    listed = out.stdout[out.stdout.index("new failures:") : out.stdout.index("fixes:")]
    assert sorted(re.findall(r"^  (\w+) \(generated/toy\)", listed, re.M)) == broken
    assert "differs after #" in listed


def test_check_rtl_lists_the_cycle_count_changes_of_an_extra_pipeline_cycle(tmp_path):
    slower = _toy_rtl(tmp_path, *EXTRA_CYCLE)
    out = harness("check-rtl", "--accel", "toy", "--rtl", str(slower), "--results", str(tmp_path / "results"), env=TOY)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]  # slower, not wrong
    assert "new failures: 0" in out.stdout
    changes = re.findall(r"^  (\w+) \(generated/toy\): ([\d,]+) -> ([\d,]+) cycles \(\+[\d.]+%, slower\)", out.stdout, re.M)
    assert {name for name, _, _ in changes} == {"toy_add_xor", "toy_mac_shift", "toy_shifts"}  # all three use the ALU
    assert all(int(after.replace(",", "")) > int(before.replace(",", "")) for _, before, after in changes)


def test_the_dashboard_in_headless_chromium_shows_runs_a_new_failure_and_plots(tmp_path):
    chromium = need_tool("chromium")
    results = tmp_path / "results"
    programs = tmp_path / "programs"
    subprocess.run([sys.executable, "-m", "testbenches.generate", "--accel", "toy", "--out", str(programs)],
                   cwd=ROOT, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT), **TOY})  # fmt: skip
    assert harness("run", str(programs), "--results", str(results), env=TOY).returncode == 0
    planted = _toy_rtl(tmp_path, *ADD_BECOMES_SUB)
    second = harness("run", str(programs), "--rtl-dir", str(planted), "--results", str(results), "--no-reproduce",
                     "--wave-window", "0", env=TOY)  # fmt: skip
    assert second.returncode == 1
    out = harness("report", "--results", str(results))
    assert out.returncode == 0 and (results / "index.html").exists(), out.stdout + out.stderr
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'p'}",
         "--dump-dom", (results / "index.html").as_uri()], capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    runs = dom[dom.index('<table class="runs">') :]
    assert runs[: runs.index("</table>")].count("<tr>") == 3  # header + two runs, each linked to its page
    failures = dom[dom.index('<table class="new-failures">') :]
    failures = failures[: failures.index("</table>")]
    broken = sorted(ResultsStore(results).query("SELECT program FROM runs WHERE NOT passed")["program"])
    assert broken and sorted(re.findall(r'<tr><td class="l">(\w+)</td>', failures)) == broken
    assert dom.count('class="plot"') == 3 and dom.count("data:image/png;base64,") == 3


@pytest.mark.parametrize("bad", [["--suite", "nope"], ["--resume", "no-such-run"], ["--hours", "0"]])
def test_bad_regress_arguments_are_one_line_errors(tmp_path, bad):
    out = harness("regress", *bad, "--results", str(tmp_path))
    assert out.returncode == 2 and out.stdout.startswith("error: ") and "Traceback" not in out.stdout + out.stderr


def test_an_in_process_run_of_no_inputs_is_not_a_pass(tmp_path):
    plan = regress_plan("generated", RunOptions(), tmp_path / "results", 1, accelerators=["nope"])
    assert plan.inputs == ()
    assert run(plan, []).exit_status == 1
