"""The FlexASR ILA model: configuration writes, buffer stores and loads, and the GB operations.

State: the GB large and small buffers, per PE the weight, input and activation buffers, the
configuration registers as raw 16-byte beats (`gb_config`, `peN_config`; some runs clear the
is_zero_first bytes), and `rdata`, the beat the last read returned (reads are architecturally
visible through it). Semantics are in docs/flexasr.md; encodings in `ila_models.flexasr_isa`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ila_models import flexasr_gb as gb
from ila_models import flexasr_isa as isa
from ila_models.accelerator import Accelerator, HookRef
from ila_models.flexasr_isa import FlexCommand
from ila_models.language import DecodeError, IlaModel, Instruction, State, StateVar, Update
from ila_models.mmio import commands_array
from ila_models.program import OutputRegion, Program, Span

ISA_VERSION = "flexasr-1"
PE_BUFFER_SIZES = {"weight": isa.PE_WEIGHT_VECTORS, "input": isa.PE_INPUT_VECTORS, "act": isa.PE_ACT_VECTORS}


def state_vars() -> list[StateVar]:
    """FlexASR's architectural state."""
    out = [
        StateVar("gb_large", 8, (isa.GB_LARGE_VECTORS, 16), doc="GB large buffer (16-byte vectors)"),
        StateVar("gb_small", 8, (isa.GB_SMALL_VECTORS, 16), doc="GB small buffer"),
        StateVar(
            "gb_config", 8, (len(isa.GB_CONFIGS), 16), doc="GB configuration beats, rows in GB_CONFIGS order"
        ),
        StateVar("rdata", 8, (1, 16), doc="data of the last read"),
    ]
    for pe in range(isa.NUM_PES):
        out += [
            StateVar(f"pe{pe}_{n}", 8, (size, 16), doc=f"PE{pe} {n} buffer")
            for n, size in PE_BUFFER_SIZES.items()
        ]
        out.append(
            StateVar(f"pe{pe}_config", 8, (len(isa.PE_CONFIGS), 16), doc=f"PE{pe} configuration beats")
        )
    return out


def _store(state_name: str) -> Callable[[FlexCommand, State], Update]:
    def update(f: FlexCommand, s: State) -> Update:
        return {state_name: (np.array([f.index]), f.data[None, :])}  # the state assignment copies

    return update


def _load(state_name: str) -> Callable[[FlexCommand, State], Update]:
    def update(f: FlexCommand, s: State) -> Update:
        return {"rdata": (np.array([0]), s[state_name][f.index][None, :].copy())}

    return update


def _config(state_name: str, row: int, layout: str) -> Callable[[FlexCommand, State], Update]:
    def update(f: FlexCommand, s: State) -> Update:
        isa.check_config(layout, f.data)
        return {state_name: (np.array([row]), f.data[None, :].copy())}

    return update


def _config_read(state_name: str, row: int) -> Callable[[FlexCommand, State], Update]:
    def update(f: FlexCommand, s: State) -> Update:
        return {"rdata": (np.array([0]), s[state_name][row][None, :].copy())}

    return update


def _start(run: Callable[[State], Update]) -> Callable[[FlexCommand, State], Update]:
    return lambda f, s: run(s)


@dataclass(frozen=True)
class _Is:
    """Decode condition: the command touches `region` in direction `wr` (also the key of the fast decode)."""

    region: str
    wr: bool

    def __call__(self, f: FlexCommand, s: State) -> bool:
        return f.region == self.region and f.wr == self.wr


_is = _Is


_PE_STATE = frozenset(f"pe{p}_{n}" for p in range(isa.NUM_PES) for n in ("input", "act", "config"))


def instructions() -> list[Instruction]:
    """Every FlexASR instruction (one per region and direction)."""
    out: list[Instruction] = []
    rdata = frozenset({"rdata"})
    for name, _ in isa.GB_BUFFERS.items():
        out.append(Instruction(f"{name.upper()}_STORE", _is(name, True), _store(name), frozenset({name})))
        out.append(Instruction(f"{name.upper()}_LOAD", _is(name, False), _load(name), rdata))
    for row, name in enumerate(isa.GB_CONFIGS):
        region = f"config_{name}"
        out.append(
            Instruction(
                f"CONFIG_{name.upper()}",
                _is(region, True),
                _config("gb_config", row, name),
                frozenset({"gb_config"}),
            )
        )
        out.append(
            Instruction(
                f"READ_CONFIG_{name.upper()}", _is(region, False), _config_read("gb_config", row), rdata
            )
        )
    for pe in range(isa.NUM_PES):
        for name in isa.PE_BUFFERS:
            region = f"pe{pe}_{name}"
            out.append(
                Instruction(
                    f"PE{pe}_{name.upper()}_STORE", _is(region, True), _store(region), frozenset({region})
                )
            )
            out.append(Instruction(f"PE{pe}_{name.upper()}_LOAD", _is(region, False), _load(region), rdata))
        for row, name in enumerate(isa.PE_CONFIGS):
            region = f"pe{pe}_config_{name}"
            var = f"pe{pe}_config"
            out.append(
                Instruction(
                    f"PE{pe}_CONFIG_{name.upper()}",
                    _is(region, True),
                    _config(var, row, name),
                    frozenset({var}),
                )
            )
            out.append(
                Instruction(
                    f"PE{pe}_READ_CONFIG_{name.upper()}", _is(region, False), _config_read(var, row), rdata
                )
            )
    starts: dict[str, tuple[Callable[[State], Update], frozenset[str]]] = {
        "gb_control": (gb.gb_control, frozenset({"gb_large", "gb_small"}) | _PE_STATE),
        "layer_reduce": (gb.layer_reduce, frozenset({"gb_large"})),
        "layer_norm": (gb.layer_norm, frozenset({"gb_large"})),
        "zero_padding": (gb.zero_padding, frozenset({"gb_large"})),
        "attention": (gb.attention, frozenset({"gb_small"})),
    }
    for name, (run, writes) in starts.items():
        out.append(Instruction(f"START_{name.upper()}", _is(f"start_{name}", True), _start(run), writes))
    return out


def _explain_undecodable(f: FlexCommand) -> DecodeError:
    if f.region.startswith("start_"):
        return DecodeError("rd", 1, f"a write: {f.region} is write-only")
    return DecodeError("command", isa.disasm(f), "an instruction of flexasr")


class FlexAsrModel(IlaModel):
    """The FlexASR ILA; every instruction is one (region, direction), so decode is one dict lookup
    instead of testing ~200 conditions (the same instruction `IlaModel.decode` would find)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._by_key = {
            (ins.decode.region, ins.decode.wr): ins
            for ins in self.instructions
            if isinstance(ins.decode, _Is)
        }

    def decode(self, command: np.ndarray, state: State, fields: Any = None) -> tuple[Instruction, Any]:
        if fields is None:
            fields = self.parse(command)
        ins = self._by_key.get((fields.region, fields.wr))
        if ins is None:
            return super().decode(command, state, fields)  # raises the explained DecodeError
        return ins, fields


def build_model() -> IlaModel:
    """The FlexASR ILA."""
    return FlexAsrModel(
        "flexasr",
        state_vars(),
        instructions(),
        parse=isa.parse,
        unit_of=isa.unit_of,
        disasm=isa.disasm,
        explain_undecodable=_explain_undecodable,
    )


_MODEL: IlaModel | None = None


def program(
    name: str,
    words: list[int],
    spans: list[Span],
    provenance: dict[str, Any],
    memories: dict[str, np.ndarray] | None = None,
    outputs: list[OutputRegion] | None = None,
    references: dict[str, np.ndarray] | None = None,
) -> Program:
    """A FlexASR Program of MMIO command `words` (FlexASR has no configuration and no DRAM: `memories`
    are only the buffers its output regions lie in)."""
    return Program(
        accelerator="flexasr",
        isa_version=ISA_VERSION,
        config={},
        commands=commands_array(words),
        memories=memories or {},
        outputs=outputs or [],
        references=references or {},
        provenance=provenance,
        spans=spans,
        name=name,
    )


def model_for(program: Program) -> IlaModel:
    """The FlexASR ILA (one configuration: the real 4 PEs x 16 lanes)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = build_model()
    return _MODEL


def verilog_parameters(program: Program) -> dict[str, int]:
    """The RTL parameters: none, FlexASR has one configuration."""
    return {}


ACCELERATOR = Accelerator(
    name="flexasr",
    model_for=model_for,
    verilog_parameters=verilog_parameters,
    top="flexasr_top",
    units=("flexasr",),
    generators=HookRef("testbenches.flexasr.programs:GENERATED"),
    program_sets={"streams": HookRef("testbenches.flexasr.programs:authors_streams")},
    compiler=HookRef("compiler.codegen.flexasr:HOOKS"),
)
"""FlexASR's plug-in (ila_models/registry.py)."""
