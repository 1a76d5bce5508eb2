"""The toy accelerator end to end, registered only through TANDEM_ACCELERATORS (issue 19's proof).

Its Programs are generated and run in lockstep against its own RTL by the ordinary command lines,
and a one-token bug planted in a copy of that RTL is caught at the right instruction and state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.ila_backend import IlaBackend
from harness.verilator_build import verilator_root
from ila_models.accelerator import PluginError
from ila_models.language import DecodeError
from ila_models.registry import ENVIRONMENT, accelerator, names

from . import programs, toy

ROOT = Path(__file__).resolve().parents[2]
MODULE = "tests.toy.toy"
# ADD becomes SUB in every lane.
ADD_BUG = ("toy_alu.v", "OP_ADD:  ly = la + lb;", "OP_ADD:  ly = la - lb;")


def run(*args: str) -> subprocess.CompletedProcess:
    """`python -m ...` in a fresh process that knows the toy only through the environment."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), ENVIRONMENT: MODULE, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The toy's Programs, written by `python -m testbenches.generate --accel toy`."""
    out = tmp_path_factory.mktemp("toy_programs")
    proc = run("testbenches.generate", "--accel", "toy", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(out.glob("*.npz"))
    assert [f.name for f in files] == ["toy_add_xor.npz", "toy_mac_shift.npz", "toy_shifts.npz"]
    return files


def test_registry_finds_the_toy_only_when_the_environment_names_it(monkeypatch):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert "toy" not in names()
    with pytest.raises(PluginError, match="'toy' is not registered"):
        accelerator("toy")
    monkeypatch.setenv(ENVIRONMENT, MODULE)
    assert "toy" in names() and {"vta", "hlscnn", "flexasr"} <= set(names())
    plugin = accelerator("toy")
    assert (plugin.top, plugin.units, plugin.rtl) == ("toy_top", ("toy",), toy.RTL_DIR)


def test_the_ila_computes_every_generated_reference():
    for make in programs.GENERATED:
        program = make()
        ila = IlaBackend(toy.ACCELERATOR.model_for(program))
        ila.load(program)
        for i in range(len(program)):
            ila.execute(i)
        for region in program.outputs:
            np.testing.assert_array_equal(region.view(ila.read("dram")), program.references[region.name])


@pytest.mark.parametrize(
    ("fields", "field", "expected"),
    [
        ({"opcode": 9}, "opcode", "one of 0 LOAD, 1 STORE, 2 ADD, 3 XOR, 4 SHL, 5 MAC"),
        ({"opcode": 2, "addr": 16}, "addr", "0 (ADD does not use it)"),
        ({"opcode": 3, "reserved": 1}, "reserved", "0 (XOR does not use it)"),
        ({"opcode": 4, "shamt": 16}, "shamt", "a shift of 0..15 (16-bit lanes)"),
        ({"opcode": 0, "addr": 8}, "addr", "a 16-byte aligned DRAM address"),
        ({"opcode": 1, "addr": 4096}, "addr", "an address inside the 4096-byte DRAM"),
    ],
)
def test_malformed_commands_are_decode_errors_that_write_nothing(fields, field, expected):
    model = toy.build_model(dram_bytes=4096)
    state = model.initial_state()
    command = toy.commands_array([toy.LAYOUT.pack(**fields)])[0]
    with pytest.raises(DecodeError) as caught:
        model.step(state, command)
    assert (caught.value.field, caught.value.expected) == (field, expected)
    assert not state["spad"].any() and not state["dram"].any()


def test_the_toy_rtl_lints_clean_with_wall():
    root = verilator_root()
    sources = sorted(str(p) for p in toy.RTL_DIR.glob("*.v"))
    proc = subprocess.run(
        [str(root / "bin" / "verilator"), "--lint-only", "-Wall", "--top-module", "toy_top", *sources],
        capture_output=True, text=True, env={**os.environ, "VERILATOR_ROOT": str(root)}, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr


def test_generated_programs_pass_in_lockstep(generated, tmp_path):
    proc = run("harness", "run", *map(str, generated), "--results", str(tmp_path / "results"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed, 0 failed" in proc.stdout


def test_a_planted_add_bug_is_caught_at_the_add(generated, tmp_path):
    planted = tmp_path / "rtl"
    shutil.copytree(toy.RTL_DIR, planted)
    file, line, bug = ADD_BUG
    source = (planted / file).read_text()
    assert source.count(line) == 1, f"{file}: the line to plant the bug in is not unique: {line!r}"
    (planted / file).write_text(source.replace(line, bug))
    results = tmp_path / "results"
    proc = run(
        "harness", "run", *map(str, generated), "--results", str(results), "--rtl-dir", str(planted),
        "--wave-window", "0", "--repro-seconds", "30",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 passed, 2 failed" in proc.stdout  # toy_shifts has no ADD
    # add_xor's first ADD is instruction 2 (after two LOADs); mac_shift's only ADD is its second last
    expected = {"toy_add_xor": (2, "ADD r8, r0, r4"), "toy_mac_shift": (15, "ADD r0, r0, r3")}
    for program, (index, disasm) in expected.items():
        assert f"{program}: spad[" in proc.stdout and f"differs after #{index} {disasm}: ila=" in proc.stdout
        (path,) = results.glob(f"*/{program}.json")
        report = json.loads(path.read_text())
        first = report["mismatches"][0]
        where = (first["kind"], first["state"], first["index"], first["disasm"])
        assert where == ("state", "spad", index, disasm)
        # the generic reproducer (harness/reproducer.py) shrinks it to the ADD and what it needs
        kept, _, total = report["artifacts"]["reproducer_instructions"].partition(" of ")
        assert 1 <= int(kept) < int(total), report["artifacts"]
