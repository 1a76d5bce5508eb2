"""RunOptions: how a Program is run, and its two conversions (a replay command line, JSON).

The library takes RunOptions; only the command line (harness/cli.py) knows argparse. Every option
is a field here with its default, so `to_argv()` gives the complete command that replays a run
with the same options, and a worker (local or remote) gets them as JSON.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any


class OptionError(ValueError):
    """An option with a value it cannot take; the message names the option."""


class Simulator(StrEnum):
    """Which simulator runs the RTL."""

    VERILATOR = "verilator"  # the fast path: the verilated model behind the C++ shim
    COCOTB = "cocotb"  # cocotb 2.x on Verilator
    ICARUS = "icarus"  # cocotb 2.x on Icarus Verilog

    @property
    def cocotb_simulator(self) -> str | None:
        """The simulator cocotb drives, or None for the fast path."""
        return {Simulator.COCOTB: "verilator", Simulator.ICARUS: "icarus"}.get(self)


@dataclass(frozen=True)
class RunOptions:
    """How to run a Program (each field is a `python -m harness run` flag of the same name)."""

    rtl_dir: Path | None = None  # RTL folder instead of the accelerator's rtl/<name>/
    backend: Simulator = Simulator.VERILATOR
    full_every: int = 1024  # compare all state every K retirements (when quiescent)
    keep_going: bool = False  # record mismatches and go on instead of stopping at the first
    serial: bool = False  # debug: one instruction in flight at a time
    cycle_budget: int = 1_000_000  # cycles without a retirement that count as a hang
    timeout: float = 1800.0  # seconds one Program may take (artifacts included) before it is killed
    wave_window: int = 2000  # cycles of FST waveform before a divergence; 0: none
    reproduce: bool = True  # shrink a failing Program into a reproducer
    repro_seconds: float = 120.0  # time budget of that shrinking

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "backend", Simulator(self.backend))
        except ValueError:
            raise OptionError(
                f"backend {self.backend!r}: expected one of {[s.value for s in Simulator]}"
            ) from None
        if self.rtl_dir is not None:
            object.__setattr__(self, "rtl_dir", Path(self.rtl_dir))
        for name, minimum in (("full_every", 1), ("cycle_budget", 1), ("wave_window", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise OptionError(f"{_flag(name)} {value!r}: expected an integer >= {minimum}")
        for name in ("timeout", "repro_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
                raise OptionError(f"{_flag(name)} {value!r}: expected a positive number of seconds")

    def to_argv(self) -> list[str]:
        """The `python -m harness run` flags that give these options (those that differ from the defaults)."""
        argv: list[str] = []
        default = RunOptions()
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name == "reproduce":
                argv.append("--no-reproduce")
            elif isinstance(value, bool):
                argv.append(_flag(f.name))
            else:
                argv += [_flag(f.name), str(value)]
        return argv

    def replay_command(self, program: Path | str) -> str:
        """The one shell command that runs `program` again with these options."""
        return shlex.join(["python", "-m", "harness", "run", str(program), *self.to_argv()])

    def to_json(self) -> dict[str, Any]:
        """The options as JSON values."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["rtl_dir"] = str(self.rtl_dir) if self.rtl_dir is not None else None
        data["backend"] = self.backend.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOptions:
        """Options from `to_json()`'s output; OptionError for an unknown or bad field."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise OptionError(f"unknown run option(s) {unknown}: expected some of {sorted(known)}")
        return cls(**data)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")
