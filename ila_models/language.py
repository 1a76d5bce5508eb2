"""The ILA language: architectural state, instructions with a decode condition and an update.

An instruction's update is pure: it reads the state and returns the next values of
the rows it writes (`Update`). The model checks those against the instruction's
declared write-set and only then applies them, so an instruction that fails
(decode error, order violation) writes nothing. The rows an update touched are
what the lockstep engine compares after the instruction retires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

# state name -> (row indices along axis 0, the new values of those rows)
Update = dict[str, tuple[np.ndarray, np.ndarray]]
State = dict[str, np.ndarray]


class DecodeError(ValueError):
    """A command that is not a valid instruction: unknown opcode, field out of range, ..."""

    def __init__(self, field: str, value: object, expected: str):
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{field}={value!r}: expected {expected}")


class OrderViolation(RuntimeError):
    """An instruction executed in an order the ISA forbids (e.g. a dependency token popped before it was pushed)."""


@dataclass(frozen=True)
class StateVar:
    """Architectural state: `shape` elements of `width` bits each (row = first axis)."""

    name: str
    width: int
    shape: tuple[int, ...]
    signed: bool = False
    doc: str = ""

    @property
    def dtype(self) -> np.dtype:
        for nbits in (8, 16, 32, 64):
            if self.width <= nbits:
                return np.dtype(f"{'int' if self.signed else 'uint'}{nbits}")
        raise ValueError(f"state {self.name!r}: width {self.width} is wider than 64 bits")

    def zeros(self) -> np.ndarray:
        """The reset value."""
        return np.zeros(self.shape, dtype=self.dtype)


@dataclass(frozen=True)
class Instruction:
    """An ILA instruction.

    decode: does this instruction own the (parsed) command, given the state?
    update: the next values of the rows it writes; raises DecodeError for a malformed command.
    write_set: the state variables it may write.
    unit: the hardware unit that executes it (its retirements are in program order).
    """

    name: str
    decode: Callable[[Any, State], bool]
    update: Callable[[Any, State], Update]
    write_set: frozenset[str]


@dataclass(frozen=True)
class Executed:
    """What one instruction did: which instruction it was and the rows it wrote."""

    instruction: Instruction
    fields: Any
    written: dict[str, np.ndarray]


class IlaModel:
    """An executable ILA: state variables, instructions, and how to parse a raw command."""

    def __init__(
        self,
        name: str,
        state_vars: list[StateVar],
        instructions: list[Instruction],
        parse: Callable[[np.ndarray], Any],
        unit_of: Callable[[Any], str],
        disasm: Callable[[Any], str],
        explain_undecodable: Callable[[Any], DecodeError] | None = None,
    ):
        self.name = name
        self.state_vars = {v.name: v for v in state_vars}
        self.instructions = instructions
        self.parse = parse
        self.unit_of = unit_of
        self.disasm_fields = disasm
        self.explain_undecodable = explain_undecodable
        for ins in instructions:
            unknown = ins.write_set - self.state_vars.keys()
            if unknown:
                raise ValueError(
                    f"{name}: instruction {ins.name!r} writes undeclared state {sorted(unknown)}"
                )

    def initial_state(self) -> State:
        """Every state variable at its reset value."""
        return {name: var.zeros() for name, var in self.state_vars.items()}

    def decode(self, command: np.ndarray, state: State, fields: Any = None) -> tuple[Instruction, Any]:
        """The one instruction whose decode condition holds for `command` (`fields`: its parse, if known)."""
        if fields is None:
            fields = self.parse(command)
        matches = [ins for ins in self.instructions if ins.decode(fields, state)]
        if not matches:
            if self.explain_undecodable is not None:
                raise self.explain_undecodable(fields)
            raise DecodeError("command", self.disasm_fields(fields), f"an instruction of {self.name}")
        if len(matches) > 1:
            raise RuntimeError(
                f"{self.name} model bug: decode conditions overlap: {[m.name for m in matches]}"
            )
        return matches[0], fields

    def step(self, state: State, command: np.ndarray, fields: Any = None) -> Executed:
        """Execute `command` on `state` in place; return what it wrote (`fields`: its parse, if known)."""
        instruction, fields = self.decode(command, state, fields)
        update = instruction.update(fields, state)
        stray = update.keys() - instruction.write_set
        if stray:
            raise RuntimeError(
                f"{self.name} model bug: {instruction.name} wrote {sorted(stray)} outside its write-set "
                f"{sorted(instruction.write_set)}"
            )
        written = {}
        for name, (rows, values) in update.items():
            state[name][rows] = values
            written[name] = rows
        return Executed(instruction, fields, written)

    def unit(self, command: np.ndarray) -> str:
        """The unit that executes `command`."""
        return self.unit_of(self.parse(command))

    def disasm(self, command: np.ndarray) -> str:
        """`command` as readable assembly (never raises: undecodable commands say so)."""
        try:
            return self.disasm_fields(self.parse(command))
        except (DecodeError, ValueError) as exc:
            return f"<undecodable: {exc}>"
