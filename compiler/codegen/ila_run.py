"""Run a Program on its accelerator's ILA model, in program order, and read its output regions.

The compiler may import `ila_models` only, so it steps the model itself rather than through the
harness's IlaBackend; program order is a legal retirement order for the Programs the codegens emit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ila_models import flexasr, hlscnn, vta
from ila_models.language import IlaModel
from ila_models.program import Program

MODEL_FOR: dict[str, Callable[[Program], IlaModel]] = {
    "vta": vta.model_for,
    "flexasr": flexasr.model_for,
    "hlscnn": hlscnn.model_for,
}


def run_on_ila(program: Program) -> dict[str, np.ndarray]:
    """Every output region of `program` after running it on its ILA model."""
    if program.accelerator not in MODEL_FOR:
        raise ValueError(f"Program {program.name!r}: no ILA model for accelerator {program.accelerator!r}")
    model = MODEL_FOR[program.accelerator](program)
    state = model.initial_state()
    for name, image in program.memories.items():
        var = model.state_vars.get(name)
        if var is None or image.nbytes != state[name].nbytes:
            raise ValueError(f"Program {program.name!r}: memory {name!r} does not fit the {model.name} ILA's state")
        state[name][...] = np.ascontiguousarray(image).view(var.dtype).reshape(var.shape)
    for command in program.commands:
        model.step(state, command)
    return {o.name: o.view(state[o.memory]).copy() for o in program.outputs}


def mismatches(program: Program, outputs: dict[str, np.ndarray]) -> dict[str, int]:
    """Per output with a reference: how many elements of `outputs` differ from it (0 = bit for bit)."""
    return {
        name: int(np.count_nonzero(outputs[name] != ref))
        for name, ref in program.references.items()
        if name in outputs
    }
