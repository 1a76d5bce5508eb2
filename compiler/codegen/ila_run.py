"""Run a Program on its accelerator's ILA model, in program order, and read its output regions.

The compiler may import `ila_models` only, so it steps the model itself rather than through the
harness's IlaBackend; program order is a legal retirement order for the Programs the codegens emit.
"""

from __future__ import annotations

import numpy as np

from ila_models.program import Program
from ila_models.registry import accelerator


def run_on_ila(program: Program) -> dict[str, np.ndarray]:
    """Every output region of `program` after running it on its ILA model."""
    model = accelerator(program.accelerator).model_for(program)
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
