"""Helpers for harness tests: planted-bug RTL copies, and the Debian tools some tests need."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ila_models import vta_isa as isa

ROOT = Path(__file__).resolve().parents[2]
SMALL = isa.VtaConfig(block_in=4, block_out=4, uop_depth=256, inp_depth=256, wgt_depth=128, acc_depth=256)
# The ALU's right-shift amount off by one (also planted in test_vta_lockstep.py).
ALU_SHIFT_BUG = ("vta_alu.v", "(x >>> shift[4:0])", "(x >>> (shift[4:0] + 5'd1))")


def plant(dest: Path, file: str, line: str, bug: str) -> Path:
    """A copy of rtl/vta at `dest` with one line of `file` changed."""
    shutil.copytree(ROOT / "rtl" / "vta", dest)
    source = (dest / file).read_text()
    assert source.count(line) == 1, f"{file}: the line to plant the bug in is not unique: {line!r}"
    (dest / file).write_text(source.replace(line, bug))
    return dest


def need_tool(tool: str) -> str:
    """The path of a Debian tool, installing it with `make sim-tools` when missing (CI runs as root).

    Skips only when the install is impossible here (not root, no apt), saying so.
    """
    found = shutil.which(tool)
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{tool} is not installed and cannot be installed here (needs root and apt): run `make sim-tools`")
    out = subprocess.run(["make", "-s", "sim-tools"], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    found = shutil.which(tool)
    if not found:
        pytest.fail(f"`make sim-tools` did not install {tool}: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    return found
