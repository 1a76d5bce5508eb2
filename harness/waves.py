"""Waveform window after a mismatch: re-run the RTL with FST tracing on only near the divergence.

The RTL is deterministic and the lockstep engine only pauses it, so the same Program run alone
on the trace flavour of the verilated library (harness/verilator_build.py, `trace=True`)
reaches the divergence at the same harness cycle. Tracing covers cycles
[cycle - window, cycle + AFTER]; cycle N is at time 10N ns in the file. A GTKWave save file
(`.gtkw`) next to it opens with the command port, the retire signals and the differing state
(its memory row when Verilator traces it, else the memory's ports) already added and the
marker on the divergence.

Reading an FST back needs `fst2vcd` (Debian package `gtkwave`, installed by `make sim-tools`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vcd.gtkw import GTKWSave

from harness.backend import SimulatorHang
from harness.refinement import RefinementMap

if TYPE_CHECKING:
    from harness.mismatch import Mismatch
    from harness.target import Target
    from ila_models.program import Program

AFTER = 2  # cycles traced after the divergence
TIME_PER_CYCLE = 10  # ns per harness cycle in the trace
PORTS = ("clk", "rst", "cmd_valid", "cmd_ready", "cmd_data", "busy")
RETIRE = ("retire_valid", "retire_index")
DRAM_PORT = (
    "mem_req_valid", "mem_req_ready", "mem_req_we", "mem_req_addr", "mem_req_wdata", "mem_req_wstrb",
    "mem_resp_valid", "mem_resp_data",
)  # fmt: skip


@dataclass(frozen=True)
class WaveWindow:
    """The files of one waveform window and the cycles they cover."""

    fst: Path
    gtkw: Path
    first: int
    last: int
    cycle: int


def record_window(program: Program, target: Target, cycle: int, window: int, fst: Path) -> tuple[int, int]:
    """Re-run `program`'s RTL alone and trace cycles [cycle - window, cycle + AFTER] into `fst`."""
    if window <= 0:
        raise ValueError(f"wave window {window}: expected a positive number of cycles")
    rtl = target.verilator_backend(trace=True)
    first, last = max(1, cycle - window), cycle + AFTER
    try:
        if target.options.serial:
            rtl.set_serial_mode(True)
        rtl.reset()
        rtl.load(program)
        rtl.trace_window(fst, first, last)
        # SimulatorHang is expected: the run stops at the end of the window, not of the Program
        with contextlib.suppress(SimulatorHang):
            rtl.run_to_completion(max_cycles=last)
        rtl.trace_close()
    finally:
        rtl.close()
    return first, last


def vcd_header(fst: Path) -> list[tuple[str, str]]:
    """(full signal name, range) of every signal in an FST (parameters left out), from `fst2vcd`'s header."""
    tool = shutil.which("fst2vcd")
    if tool is None:
        raise FileNotFoundError("fst2vcd is not installed (Debian package `gtkwave`; `make sim-tools`)")
    names: list[tuple[str, str]] = []
    scope: list[str] = []
    with subprocess.Popen([tool, str(fst)], stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            words = line.split()
            if words[:1] == ["$scope"]:
                scope.append(words[2])
            elif words[:1] == ["$upscope"]:
                scope.pop()
            elif words[:1] == ["$var"] and words[1] != "parameter":
                ref = words[4]
                rng = words[5] if len(words) > 6 and words[5].startswith("[") else ""
                names.append((".".join([*scope, ref]), rng))
            elif words[:1] == ["$enddefinitions"]:
                proc.kill()
                break
    return names


def gtkw_signals(fst: Path, refinement: RefinementMap, mismatch: Mismatch) -> list[tuple[str, list[str]]]:
    """Groups of signals for the save file: (comment, full names with ranges) present in `fst`."""
    names = vcd_header(fst)
    full = {name: name + rng for name, rng in names}
    base = f"TOP.{refinement.top}"
    groups = [
        ("command port", [full[f"{base}.{p}"] for p in PORTS if f"{base}.{p}" in full]),
        ("retire", [full[f"{base}.{p}"] for p in RETIRE if f"{base}.{p}" in full]),
    ]
    state = mismatch.state or ""
    signal = refinement.mapped.get(state)
    if signal is not None:
        scope, var = signal.scope, signal.var
        label = state + "".join(f"[{i}]" for i in (mismatch.element or ())[:1])
        row = mismatch.element[0] if mismatch.element else None
        element = f"{scope}.{var}.{var}[{row}]" if row is not None else ""
        if element in full:
            groups.append((f"{label} (differs)", [full[element]]))
        else:  # Verilator does not trace this memory (e.g. rows wider than 64 bits): show its ports
            ports = [full[n] for n, _ in names if n.startswith(scope + ".") and n.count(".") == scope.count(".") + 1]
            groups.append((f"{label} (differs): ports of {scope.removeprefix('TOP.')}", ports))
    elif state in refinement.harness:  # DRAM lives in the harness: show the RTL's DRAM port
        dram = [full[f"{base}.{p}"] for p in DRAM_PORT if f"{base}.{p}" in full]
        groups.append((f"{state} (differs): DRAM port", dram))
    return groups


def write_gtkw(path: Path, fst: Path, first: int, cycle: int, groups: list[tuple[str, list[str]]]) -> None:
    """A GTKWave save file opening `fst` with `groups` added and the marker on `cycle`.

    The dump file is named relative to the save file's folder, so a moved or archived run folder
    still opens (`gtkwave <program>.gtkw` from inside it).
    """
    with open(path, "w") as out:
        save = GTKWSave(out)
        save.dumpfile(os.path.relpath(fst, path.parent), abspath=False)
        save.timestart(first * TIME_PER_CYCLE)
        save.size(1600, 900)
        save.signals_width(320)
        save.sst_expanded(True)
        save.zoom_markers(-4.0, cycle * TIME_PER_CYCLE)
        for comment, signals in groups:
            with save.group(comment):
                for name in signals:
                    single = not name.endswith("]") or name.endswith("[0:0]")
                    save.trace(name, datafmt="bin" if single else "hex")


def wave_window(program: Program, target: Target, mismatch: Mismatch, window: int, out_dir: Path) -> WaveWindow:
    """Record the window before `mismatch` into out_dir/<program>.fst and write its .gtkw."""
    if mismatch.cycle is None:
        raise ValueError(f"mismatch {mismatch.kind!r} has no cycle; expected one from the lockstep engine")
    fst = out_dir / f"{program.name}.fst"
    gtkw = out_dir / f"{program.name}.gtkw"
    first, last = record_window(program, target, mismatch.cycle, window, fst)
    try:
        groups = gtkw_signals(fst, target.refinement, mismatch)
    except FileNotFoundError:
        top = target.refinement.top
        groups = [("command port and retire", [f"TOP.{top}.{p}" for p in (*PORTS, *RETIRE)])]
    write_gtkw(gtkw, fst, first, mismatch.cycle, groups)
    return WaveWindow(fst, gtkw, first, last, mismatch.cycle)
