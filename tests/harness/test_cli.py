"""The command line: disassembly, generation, and clear errors for bad files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ila_models import vta_isa as isa
from testbenches.vta import programs

ROOT = Path(__file__).resolve().parents[2]
SMALL = isa.VtaConfig(block_in=4, block_out=4, uop_depth=256, inp_depth=256, wgt_depth=128, acc_depth=256)


def harness(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )  # fmt: skip


def test_disasm_prints_every_instruction_with_provenance(tmp_path):
    path = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL).save(tmp_path / "mm.npz")
    out = harness("disasm", str(path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("; matmul_16x16x16: vta (vta-1x16x16-v1), 19 instructions")
    body = [line for line in lines if not line.startswith(";")]
    assert len(body) == 19
    assert body[0].split()[0] == "0" and "LOAD UOP" in body[0]
    assert body[-1].endswith("FINISH [pop_next]")
    assert any(line.startswith("; -- matmul rows 0..8 dense") for line in lines)


def test_malformed_program_is_reported_and_the_run_fails(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    out = harness("run", str(bad), "--results", str(tmp_path / "results"))
    assert out.returncode == 1
    assert "not a Program archive" in out.stdout
    assert "0 passed, 1 failed" in out.stdout


def test_disasm_of_a_missing_file_is_a_clear_error(tmp_path):
    out = harness("disasm", str(tmp_path / "nope.npz"))
    assert out.returncode == 2 and "no such file" in out.stdout


def test_generate_writes_loadable_programs(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "testbenches.generate", "--accel", "vta", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in tmp_path.glob("*.npz"))
    assert names == ["conv2d_64x14x14_to_64.npz", "matmul_64x64x64.npz"]
