"""A failing `python -m harness run`: terminal explanation, JSON artifacts, and the HTML page in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from harness_fixtures import ROOT, SMALL, need_tool

from testbenches.vta import programs

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="module")
def failed_run(alu_shift_rtl, tmp_path_factory):
    need_tool("fst2vcd")
    tmp = tmp_path_factory.mktemp("run")
    program = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL)
    path = program.save(tmp / "mm.npz")
    out = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(path), "--rtl-dir", str(alu_shift_rtl),
         "--results", str(tmp / "results"), "--wave-window", "100", "--repro-seconds", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    (run_dir,) = (tmp / "results").glob("2*")
    return program, out.stdout, run_dir


def test_the_terminal_explains_and_names_every_artifact(failed_run):
    program, stdout, run_dir = failed_run
    assert re.search(r"acc\[\d+\]\[\d+\] differs after #7 ALU SHR", stdout)
    assert "last instructions retired" in stdout
    assert f"waves: {run_dir / (program.name + '.fst')}" in stdout
    assert f"python -m harness run {run_dir / (program.name + '.repro.npz')} --rtl-dir" in stdout
    assert f"report: {run_dir / 'index.html'}#{program.name}" in stdout


def test_the_json_report_lists_artifacts_that_exist(failed_run):
    program, _, run_dir = failed_run
    report = json.loads((run_dir / f"{program.name}.json").read_text())
    arts = report["artifacts"]
    for key in ("waves", "gtkw", "reproducer", "picture", "difference", "html", "report"):
        assert (run_dir / arts[key]).exists(), key  # relative to the run folder: it can move
    assert not [k for k in arts if k.endswith("_error")], arts
    kept, total = arts["reproducer_instructions"].split(" of ")
    assert int(kept) < int(total) == len(program)
    assert report["mismatches"][0]["state"] == "acc"


def test_the_html_page_shows_the_mismatch_table_in_headless_chromium(failed_run, tmp_path):
    program, _, run_dir = failed_run
    chromium = need_tool("chromium")
    report = json.loads((run_dir / f"{program.name}.json").read_text())
    m = report["mismatches"][0]
    dom = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         (run_dir / "index.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    assert "<table class=\"mismatch\">" in dom
    table = dom[dom.index('<table class="mismatch">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td class=\"l\">(acc\[\d+\]\[\d+\])</td><td>(0x[0-9a-f]+|-0x[0-9a-f]+)</td>", table)
    assert len(rows) == min(32, m["differing"])
    first = m["differences"][0]
    assert rows[0] == (f"acc[{first['element'][0]}][{first['element'][1]}]", f"{first['ila']:#x}")
    assert f'<span class="count">{m["differing"]}</span>' in dom
    assert 'src="data:image/png;base64,' in dom  # the expected-vs-actual picture is embedded
    assert dom.count("ALU SHR") >= 2 and "LOAD UOP" in dom  # headline and the retired-instruction history
    assert f'href="{program.name}.fst"' in dom and f'href="{program.name}.repro.npz"' in dom
