"""rtl/hlscnn builds clean under Verilator -Wall (lint only: no C++ compile)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

RTL = Path(__file__).resolve().parents[2] / "rtl" / "hlscnn"


def test_rtl_lints_clean_with_wall():
    build = pytest.importorskip("harness.verilator_build")
    root = build.verilator_root()
    binary = root / "bin" / "verilator"
    if not binary.exists():
        pytest.skip(f"no Verilator at {root}")
    env = {**os.environ, "VERILATOR_ROOT": str(root)}
    sources = sorted(str(p) for p in RTL.glob("*.v"))
    for params in (["-GWEIGHT_BITS=16"], ["-GWEIGHT_BITS=8", "-GSPAD_ENTRIES=1024"]):
        proc = subprocess.run(
            [str(binary), "--lint-only", "-Wall", "--top-module", "hlscnn_top", *params, *sources],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr
