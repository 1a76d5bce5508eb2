"""The accelerator plug-in: one object per accelerator that every layer reads.

Each accelerator module (`ila_models/vta.py`, ...) declares one `Accelerator`: its ILA model,
its RTL (folder, top, Verilog parameters; the folder's `refinement.json` maps ILA state to RTL
signals), its reproducer shrinking, and where the other layers' hooks live. `ila_models` may import
numpy only, so a hook in another layer (the program generators in `testbenches/`, the compiler's
patterns and codegen in `compiler/`) is named by a `HookRef` ("module:attribute") and imported by
the layer that uses it. No other layer keeps a table of accelerators: they look the plug-in up in
`ila_models.registry`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ila_models.language import IlaModel
from ila_models.program import Program

RTL_ROOT = Path(__file__).resolve().parent.parent / "rtl"

# A dependency-token pair a shrinker keeps consistent: (push instruction, its bit, pop instruction,
# its bit), bit positions within the command's bytes.
TokenPair = tuple[int, int, int, int]


class PluginError(ValueError):
    """A plug-in that is not registered, or one whose hook cannot be loaded."""


class ProgramSetMissing(RuntimeError):
    """The inputs a Program set is made from are not on this machine (the message says which and where)."""


@dataclass(frozen=True)
class HookRef:
    """A hook that lives in another layer, as "package.module:attribute", imported on first use."""

    target: str

    def load(self) -> Any:
        """The object the reference names; PluginError when it does not exist."""
        module_name, _, attribute = self.target.partition(":")
        if not module_name or not attribute:
            raise PluginError(f"hook {self.target!r}: expected 'package.module:attribute'")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise PluginError(f"hook {self.target!r}: cannot import {module_name!r}: {exc}") from None
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise PluginError(f"hook {self.target!r}: module {module_name!r} has no {attribute!r}") from None


class Shrinker(Protocol):
    """What an accelerator tells the reproducer about shrinking its Programs (harness/reproducer.py)."""

    def token_pairs(self, program: Program) -> list[TokenPair]:
        """Dependency-token pushes and the pops they pair with, to keep paired when instructions drop."""
        ...

    def smaller(self, command: np.ndarray) -> Iterator[np.ndarray]:
        """Variants of one command that do less work (fewer loop iterations, ...), most reduced first."""
        ...


class DropInstructionsOnly:
    """The shrinking every accelerator gets: instructions dropped and data zeroed, nothing more."""

    def token_pairs(self, program: Program) -> list[TokenPair]:
        return []

    def smaller(self, command: np.ndarray) -> Iterator[np.ndarray]:
        return iter(())


@dataclass(frozen=True)
class Accelerator:
    """One accelerator as every layer sees it.

    name: the one word used in every layer (`ila_models/<name>.py`, `rtl/<name>/`, `make sim ACCEL=<name>`).
    model_for: the ILA model a Program runs on (its configuration decides sizes).
    verilog_parameters: the RTL's top-level parameters for a Program's configuration.
    top: the RTL's top module; units: the units that retire instructions, in the RTL's
        `retire_valid` bit order (the refinement map lists the same).
    generators: `testbenches`' list of Program factories (`make sim`'s default Programs, the
        regression's `generated` suite).
    program_sets: further named Program sets for the regression's suites (e.g. "streams"): each
        names a function returning a list of Programs, or raising ProgramSetMissing when the
        inputs it reads are not on this machine.
    compiler: the compiler's hooks for it (patterns, rule families, calls, codegen, numerics),
        or None for an accelerator the compiler does not target.
    shrinker: how the reproducer shrinks its Programs beyond dropping instructions.
    rtl_dir: the RTL folder (default `rtl/<name>/`).
    """

    name: str
    model_for: Callable[[Program], IlaModel]
    verilog_parameters: Callable[[Program], dict[str, int]]
    top: str
    units: tuple[str, ...]
    generators: HookRef
    compiler: HookRef | None = None
    program_sets: dict[str, HookRef] = field(default_factory=dict)
    shrinker: Shrinker = field(default_factory=DropInstructionsOnly)
    rtl_dir: Path | None = None

    @property
    def rtl(self) -> Path:
        """The accelerator's RTL folder."""
        return self.rtl_dir or RTL_ROOT / self.name

    def generated_programs(self) -> list[Program]:
        """The Programs of its generators (`make sim`'s default set)."""
        return [make() for make in self.generators.load()]
