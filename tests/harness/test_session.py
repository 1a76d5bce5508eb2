"""A session of several Programs: a crashing simulator is reported and the run goes on; results are kept."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from harness.results_store import ResultsStore
from ila_models import vta_isa as isa
from testbenches.vta import programs

ROOT = Path(__file__).resolve().parents[2]
SMALL = isa.VtaConfig(block_in=4, block_out=4, uop_depth=256, inp_depth=256, wgt_depth=128, acc_depth=256)


def _crashing_rtl(tmp_path: Path) -> Path:
    """rtl/vta, plus a $stop (the simulator aborts) once the compute unit retires instruction 20."""
    copy = tmp_path / "vta"
    shutil.copytree(ROOT / "rtl" / "vta", copy)
    top = copy / "vta_top.v"
    text = top.read_text()
    crash = "    always @(posedge clk) if (retire_valid[1] && retire_index[63:32] >= 32'd20) $stop;\nendmodule"
    top.write_text(text[: text.rindex("endmodule")] + crash + text[text.rindex("endmodule") + len("endmodule") :])
    return copy


def test_a_crash_is_reported_and_the_next_program_still_runs(tmp_path):
    big = programs.matmul(m=32, k=32, n=32, chunk_rows=8, config=SMALL).save(tmp_path / "big.npz")  # 35 instrs
    small = programs.matmul(m=8, k=16, n=16, chunk_rows=8, config=SMALL)
    assert len(small) < 20
    small_path = small.save(tmp_path / "small.npz")
    results = tmp_path / "results"
    out = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(big), str(small_path), "--rtl-dir", str(_crashing_rtl(tmp_path)),
         "--results", str(results), "-j", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    assert "FAIL crash" in out.stdout and "the worker died (" in out.stdout
    assert "$stop" in out.stdout  # the simulator's own last words are shown
    assert "1 passed, 1 failed" in out.stdout
    table = ResultsStore(results).table()
    assert list(table["program"]) == ["matmul_32x32x32", "matmul_8x16x16"]
    assert list(table["passed"]) == [False, True]
    assert list(table["failure"]) == ["crash", ""]
    reports = list(results.glob("*/matmul_32x32x32.json"))
    assert len(reports) == 1
