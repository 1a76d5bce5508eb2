"""The cached Verilator build of an RTL folder + shim, and the RTL's lint cleanliness."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.verilator_build import BuildError, build_library, cache_key, verilator_root, verilog_sources

RTL_VTA = Path(__file__).resolve().parents[2] / "rtl" / "vta"
SMALL = {"BLOCK_IN": 4, "BLOCK_OUT": 4, "UOP_DEPTH": 128, "INP_DEPTH": 64, "WGT_DEPTH": 64, "ACC_DEPTH": 128}


def test_second_build_reuses_the_cache(tmp_path: Path) -> None:
    first = build_library(RTL_VTA, "vta_top", SMALL, cache_root=tmp_path)
    mtime = first.path.stat().st_mtime_ns
    second = build_library(RTL_VTA, "vta_top", SMALL, cache_root=tmp_path)
    assert first.built_now and not second.built_now
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime
    # one entry, no leftover temporary folders, no object files kept
    assert [p.name for p in tmp_path.iterdir()] == [first.key]
    assert sorted(p.name for p in first.path.parent.iterdir()) == [
        "build.log",
        "libtandem.so",
        "manifest.json",
    ]
    # a different parameter is a different library
    sources, version = verilog_sources(RTL_VTA), first.key
    keys = {cache_key(sources, "vta_top", p, 3, "v") for p in (SMALL, dict(SMALL, ACC_DEPTH=256))}
    assert len(keys) == 2 and version not in keys


def test_a_changed_source_is_a_new_key_and_a_failed_build_shows_the_error(tmp_path: Path) -> None:
    rtl = tmp_path / "rtl"
    shutil.copytree(RTL_VTA, rtl)
    alu = rtl / "vta_alu.v"
    alu.write_text(alu.read_text().replace("OP_ADD:  value = x + y;", "OP_ADD:  value = x + ;"))
    cache = tmp_path / "cache"
    with pytest.raises(BuildError, match=r"verilating .* failed[\s\S]*vta_alu\.v"):
        build_library(rtl, "vta_top", SMALL, cache_root=cache)
    assert list(cache.iterdir()) == []  # nothing half-built left behind


def test_missing_verilator_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VERILATOR_ROOT", str(tmp_path / "nowhere"))
    with pytest.raises(BuildError, match="make venv"):
        verilator_root()


@pytest.mark.parametrize(
    "params",
    [
        {},
        SMALL,
        {"BLOCK_IN": 2, "BLOCK_OUT": 8, "UOP_DEPTH": 64, "INP_DEPTH": 64, "WGT_DEPTH": 64, "ACC_DEPTH": 64},
    ],
    ids=["default", "4x4", "2x8"],
)
def test_rtl_is_lint_clean(params: dict[str, int]) -> None:
    root = verilator_root()
    cmd = [str(root / "bin" / "verilator"), "--lint-only", "-Wall", "--top-module", "vta_top"]
    cmd += [f"-G{k}={v}" for k, v in params.items()] + sorted(str(p) for p in RTL_VTA.glob("*.v"))
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={"VERILATOR_ROOT": str(root), "PATH": "/usr/bin:/bin"}
    )
    assert proc.returncode == 0, proc.stderr
    assert "%Warning" not in proc.stderr
