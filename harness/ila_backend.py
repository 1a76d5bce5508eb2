"""IlaBackend: runs a Program on its ILA model, one instruction at a time."""

from __future__ import annotations

import numpy as np

from harness.backend import Retire
from ila_models.language import Executed, IlaModel, State
from ila_models.program import Program


class IlaBackend:
    """The ILA model as a Backend. On its own it retires in program order; in lockstep the
    engine calls `execute` in the RTL's retirement order instead."""

    name = "ila"

    def __init__(self, model: IlaModel):
        self.model = model
        self.state: State = model.initial_state()
        self.program: Program | None = None
        self._next = 0
        self.last: Executed | None = None
        self._fields: list = []

    def reset(self) -> None:
        self.state = self.model.initial_state()
        self._next = 0
        self.last = None

    def load(self, program: Program) -> None:
        self.reset()
        self.program = program
        # The command stream is static: parse every command once, here, not on each step.
        self._fields = [self.model.parse(cmd) for cmd in program.commands]
        for name, image in program.memories.items():
            var = self.model.state_vars.get(name)
            if var is None:
                raise ValueError(f"program memory {name!r}: the {self.model.name} ILA has no such state")
            if image.nbytes != self.state[name].nbytes:
                raise ValueError(
                    f"program memory {name!r} has {image.nbytes} bytes: state {name!r} holds {self.state[name].nbytes}"
                )
            self.state[name][...] = np.ascontiguousarray(image).view(var.dtype).reshape(var.shape)

    def units(self) -> list[str]:
        """The unit of each instruction of the loaded Program (from the parse done at load)."""
        return [self.model.unit_of(f) for f in self._fields]

    def next_retirement(self) -> Retire | None:
        assert self.program is not None, "load() a Program first"
        if self._next >= len(self.program):
            return None
        index = self._next
        self.execute(index)
        return Retire(index=index, unit=self.model.unit_of(self._fields[index]), cycle=0, cycles=0)

    def execute(self, index: int) -> None:
        assert self.program is not None, "load() a Program first"
        self.last = self.model.step(self.state, self.program.commands[index], self._fields[index])
        self._next = index + 1

    def read(self, state: str, rows: slice | None = None) -> np.ndarray:
        value = self.state[state]
        return value if rows is None else value[rows]

    def quiescent(self) -> bool:
        return True

    def close(self) -> None:
        self.program = None
