"""Accelerator calls lowered to Programs while the host program runs, and `compile_programs`.

`ProgramOffload` is an `OffloadImpl`: each accelerator call the host program makes is lowered by its
accelerator's codegen to a Program on the call's actual inputs; its result comes either from the
Program's numpy reference or from running the Program on the ILA model (application-level validation).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from compiler.codegen import ila_run
from compiler.codegen.lowered import Where
from compiler.hooks import compiler_hooks, owner_of
from compiler.models import SEED
from compiler.numerics import accelerator_impl
from compiler.pipeline import Compiled, compile_application
from ila_models.program import Program


class OffloadMismatch(RuntimeError):
    """An ILA result that differs from its Program's reference: a codegen or ILA bug."""


@dataclass
class ProgramOffload:
    """Lowers each accelerator call to a Program; results from the reference or from the ILA model.

    A call its accelerator's codegen does not lower (not in `CompilerHooks.lowered`) runs the accelerator's
    emulated numerics on the host instead, and `emulated` counts it.
    """

    model: str
    execute: Literal["reference", "ila"] = "reference"
    keep: bool = True
    programs: list[Program] = field(default_factory=list)
    calls: int = 0
    codegen_seconds: float = 0.0
    ila_seconds: float = 0.0
    emulated: Counter[str] = field(default_factory=Counter)

    def __call__(self, name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...]) -> np.ndarray:
        hooks = compiler_hooks(owner_of(name))
        if name not in hooks.lowered:
            self.emulated[name] += 1
            return accelerator_impl(name, arrays, attrs)
        where = Where(self.model, f"{self.calls:03d}_{name.split('_', 1)[1]}", SEED)
        self.calls += 1
        start = time.perf_counter()
        lowered = hooks.lower(name, list(arrays), attrs, where)
        self.codegen_seconds += time.perf_counter() - start
        if self.keep:
            self.programs.append(lowered.program)
        if self.execute == "reference":
            return lowered.reference_result()
        start = time.perf_counter()
        outputs = ila_run.run_on_ila(lowered.program)
        self.ila_seconds += time.perf_counter() - start
        bad = {k: v for k, v in ila_run.mismatches(lowered.program, outputs).items() if v}
        if bad:
            raise OffloadMismatch(f"Program {lowered.program.name!r}: ILA result differs from the reference: {bad}")
        return lowered.decode(outputs)


@dataclass(frozen=True)
class CompileOutput:
    """What `compile_programs` wrote and how long each part took."""

    paths: list[Path]
    seconds: dict[str, float]


def compile_programs(
    model: str, out_dir: Path, accelerator: str = "vta", compiled: Compiled | None = None
) -> CompileOutput:
    """Compile application `model` for `accelerator` (unless `compiled` is given) and write one Program per
    offloaded call of one inference (the application's example input) to `out_dir`."""
    if not compiler_hooks(accelerator).lowered:
        raise ValueError(f"accelerator {accelerator!r}: its codegen lowers no calls to Programs")
    if compiled is None:
        compiled = compile_application(model, accelerator)
    elif (compiled.app.name, compiled.result.accelerator) != (model, accelerator):
        raise ValueError(
            f"compiled is {compiled.app.name!r} for {compiled.result.accelerator!r}, not {model!r} for {accelerator!r}"
        )
    offload = ProgramOffload(model)
    start = time.perf_counter()
    exe = compiled.executable(offload)
    build_s = time.perf_counter() - start
    exe([compiled.app.example.numpy()])
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.npz"):
        stale.unlink()
    paths = [p.save(out_dir / f"{p.name}.npz") for p in offload.programs]
    seconds = {**compiled.seconds, "host_build": build_s, "codegen": offload.codegen_seconds}
    return CompileOutput(paths, seconds)
