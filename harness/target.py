"""Target: everything a run needs to know about one Program's hardware, resolved once.

The accelerator plug-in (ila_models/registry.py), the RTL folder, its refinement map, the ILA
model and its state layout, the Verilog parameters, and the backend the options name. Every
part of a run (the lockstep run, the reproducer, the waveform window) reads this object; none
derives any of it again.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.backend import Backend, HasSerialMode
from harness.ila_backend import IlaBackend
from harness.options import RunOptions, Simulator
from harness.refinement import RefinementError, RefinementMap
from harness.revision import git_revision, source_hash
from ila_models.accelerator import Accelerator, PluginError
from ila_models.language import IlaModel
from ila_models.program import Program
from ila_models.registry import accelerator

if TYPE_CHECKING:
    from harness.verilator_backend import VerilatorBackend
    from harness.verilator_build import VerilatedLibrary


class TargetError(ValueError):
    """A Program that cannot be run here: no such accelerator, a configuration its ILA rejects,
    an RTL folder without a usable refinement map. The message says which."""


@dataclass(frozen=True)
class Target:
    """One Program's accelerator, RTL and backend (see the module docstring)."""

    accelerator: Accelerator
    rtl_dir: Path
    refinement: RefinementMap
    model: IlaModel
    parameters: dict[str, int]
    options: RunOptions

    @classmethod
    def resolve(cls, program: Program, options: RunOptions | None = None) -> Target:
        """The Target of `program` under `options`; TargetError when it cannot be run."""
        options = options or RunOptions()
        try:
            plugin = accelerator(program.accelerator)
        except PluginError as exc:
            raise TargetError(f"header field 'accelerator': {exc}") from None
        rtl_dir = (options.rtl_dir or plugin.rtl).resolve()
        try:
            model = plugin.model_for(program)
            parameters = plugin.verilog_parameters(program)
        except Exception as exc:  # a plug-in's own check, or one it lacks: either way this input's fault
            shapes = {k: list(v.shape) for k, v in program.memories.items()}
            raise TargetError(
                f"header fields 'config'={program.config!r}, 'memories' {shapes}: the {plugin.name} model "
                f"rejects them: {type(exc).__name__}: {exc}"
            ) from None
        try:
            refinement = RefinementMap.load(rtl_dir)
        except RefinementError as exc:
            raise TargetError(str(exc)) from None
        if refinement.top != plugin.top or refinement.units != plugin.units:
            raise TargetError(
                f"{refinement.path}: top {refinement.top!r}, units {list(refinement.units)}; "
                f"the {plugin.name} plug-in says top {plugin.top!r}, units {list(plugin.units)}"
            )
        missing = set(refinement.state_names) ^ set(model.state_vars)
        if missing:
            raise TargetError(
                f"{refinement.path}: maps {sorted(refinement.state_names)}, the {plugin.name} ILA has "
                f"{sorted(model.state_vars)}: every ILA state variable needs an entry (or `unmapped`)"
            )
        return cls(plugin, rtl_dir, refinement, model, parameters, options)

    @property
    def name(self) -> str:
        return self.accelerator.name

    @property
    def layout(self) -> dict[str, tuple[Any, tuple[int, ...]]]:
        """The ILA's state: name -> (numpy dtype, shape)."""
        return {name: (var.dtype, var.shape) for name, var in self.model.state_vars.items()}

    @property
    def compared(self) -> list[str]:
        """The state variables compared between ILA and RTL."""
        return self.refinement.compared

    @property
    def rtl_hash(self) -> str:
        """A content hash of the RTL folder (which RTL a run used)."""
        return _rtl_hash(self.rtl_dir, _newest_change(self.rtl_dir))

    @property
    def git_revision(self) -> str:
        return _git_revision(self.rtl_dir, _newest_change(self.rtl_dir))

    def ila_backend(self) -> IlaBackend:
        return IlaBackend(self.model)

    def library(self, trace: bool = False) -> VerilatedLibrary:
        """The verilated library of this RTL and parameters (built once, then cached on disk)."""
        from harness.verilator_build import build_library

        return build_library(self.rtl_dir, self.accelerator.top, self.parameters, len(self.refinement.units), trace=trace)

    def verilator_backend(self, trace: bool = False) -> VerilatorBackend:
        """The fast path on this RTL (the trace flavour for waveform windows)."""
        from harness.verilator_backend import VerilatorBackend

        return VerilatorBackend(
            self.rtl_dir, self.accelerator.top, self.parameters, self.layout, self.refinement,
            self.options.cycle_budget, library=self.library(trace), trace=trace,
        )  # fmt: skip

    def rtl_backend(self) -> Backend:
        """The RTL backend `options.backend` names, in serial mode when asked."""
        backend: Backend
        if self.options.backend is Simulator.VERILATOR:
            backend = self.verilator_backend()
        else:
            from harness.cocotb_backend import CocotbBackend

            backend = CocotbBackend(
                self.rtl_dir, self.accelerator.top, self.parameters, self.layout, self.refinement,
                self.options.cycle_budget, simulator=self.options.backend.cocotb_simulator or "verilator",
            )  # fmt: skip
        if self.options.serial:
            if not isinstance(backend, HasSerialMode):
                raise TargetError(f"--serial: the {backend.name} backend has no serial mode")
            backend.set_serial_mode(True)
        return backend

    def prepare(self) -> None:
        """Build what the backend needs before the first Program runs (once per RTL and parameters)."""
        self.library()
        simulator = self.options.backend.cocotb_simulator
        if simulator is not None:
            from harness.cocotb_backend import build_simulation

            build_simulation(self.rtl_dir, self.accelerator.top, self.parameters, simulator)


def _newest_change(folder: Path) -> int:
    """The latest modification time in `folder`: the caches below hold per version of the RTL."""
    return max((p.stat().st_mtime_ns for p in folder.rglob("*")), default=0)


@functools.lru_cache(maxsize=32)
def _rtl_hash(rtl_dir: Path, version: int) -> str:
    return source_hash(rtl_dir)


@functools.lru_cache(maxsize=32)
def _git_revision(rtl_dir: Path, version: int) -> str:
    return git_revision(rtl_dir)
