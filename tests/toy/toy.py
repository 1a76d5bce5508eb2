"""The toy accelerator's ILA model and plug-in: an out-of-tree accelerator that proves the plug-in seam.

Nothing outside `tests/toy/` names it: it is registered by `TANDEM_ACCELERATORS=tests.toy.toy`
in the environment (ila_models/registry.py), its RTL is `tests/toy/rtl/`, its Programs come from
`tests/toy/programs.py`.

State: a scratchpad `spad` of 16 rows x 8 lanes of 16 bits (one row is one 16-byte DRAM beat) and
the harness's byte-addressed `dram`. A command is one 64-bit word (8 bytes, little endian):

    opcode [3:0]   rd [7:4]   rs1 [11:8]   rs2 [15:12]   shamt [20:16]   reserved [31:21]   addr [63:32]

    LOAD  rd, addr       spad[rd]  = the 16 bytes of dram at addr (16-byte aligned)
    STORE rs1, addr      the 16 bytes of dram at addr = spad[rs1]
    ADD   rd, rs1, rs2   spad[rd]  = spad[rs1] + spad[rs2]              lane-wise, mod 2^16
    XOR   rd, rs1, rs2   spad[rd]  = spad[rs1] ^ spad[rs2]
    SHL   rd, rs1, shamt spad[rd]  = spad[rs1] << shamt                 shamt 0..15, mod 2^16
    MAC   rd, rs1, rs2   spad[rd]  = spad[rd] + spad[rs1] * spad[rs2]   lane-wise, mod 2^16

A field an instruction does not use must be 0; every instruction runs on the one unit "toy".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ila_models.accelerator import Accelerator, HookRef
from ila_models.bitfields import Field, Layout, word_from_bytes, word_to_bytes
from ila_models.language import DecodeError, IlaModel, Instruction, State, StateVar, Update
from ila_models.program import Program

ISA_VERSION = "toy-v1"
COMMAND_BYTES = 8
ROWS = 16
LANES = 8
ROW_BYTES = 2 * LANES  # one DRAM beat
LAYOUT = Layout(
    "ToyCommand",
    8 * COMMAND_BYTES,
    [
        Field("opcode", 0, 4), Field("rd", 4, 4), Field("rs1", 8, 4), Field("rs2", 12, 4),
        Field("shamt", 16, 5), Field("reserved", 21, 11), Field("addr", 32, 32),
    ],
)  # fmt: skip
OPCODES = {"LOAD": 0, "STORE": 1, "ADD": 2, "XOR": 3, "SHL": 4, "MAC": 5}
# The fields each instruction reads; any other field must be 0.
OPERANDS = {
    "LOAD": ("rd", "addr"),
    "STORE": ("rs1", "addr"),
    "ADD": ("rd", "rs1", "rs2"),
    "XOR": ("rd", "rs1", "rs2"),
    "SHL": ("rd", "rs1", "shamt"),
    "MAC": ("rd", "rs1", "rs2"),
}
RTL_DIR = Path(__file__).resolve().parent / "rtl"


@dataclass(frozen=True)
class ToyCommand:
    """One parsed command: its mnemonic (None for an unknown opcode) and every field."""

    name: str | None
    fields: dict[str, int]

    def __getitem__(self, key: str) -> int:
        return self.fields[key]


def encode(name: str, **operands: int) -> int:
    """A command word; `name` is a mnemonic of OPCODES, `operands` the fields it uses."""
    if name not in OPCODES:
        raise ValueError(f"toy instruction {name!r}: expected one of {sorted(OPCODES)}")
    stray = operands.keys() - set(OPERANDS[name])
    if stray:
        raise ValueError(f"toy {name} takes {list(OPERANDS[name])}, not {sorted(stray)}")
    return LAYOUT.pack(opcode=OPCODES[name], **operands)


def commands_array(words: list[int]) -> np.ndarray:
    """Command words as a Program's uint8 (N, 8) command array."""
    raw = b"".join(word_to_bytes(w, COMMAND_BYTES) for w in words)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(words), COMMAND_BYTES).copy()


def parse(command: np.ndarray) -> ToyCommand:
    """One command's fields (an unknown opcode parses, with name None, and fails to decode)."""
    fields = LAYOUT.unpack(word_from_bytes(np.asarray(command, dtype=np.uint8).tobytes()))
    names = {code: name for name, code in OPCODES.items()}
    return ToyCommand(names.get(fields["opcode"]), fields)


def disasm(c: ToyCommand) -> str:
    """`ADD r2, r0, r1`, `LOAD r3, [0x40]`, ..."""
    if c.name is None:
        return f"<opcode {c['opcode']}>"
    shown = {"rd": f"r{c['rd']}", "rs1": f"r{c['rs1']}", "rs2": f"r{c['rs2']}", "shamt": str(c["shamt"])}
    shown["addr"] = f"[{c['addr']:#x}]"
    return f"{c.name} " + ", ".join(shown[f] for f in OPERANDS[c.name])


def _check_fields(c: ToyCommand, dram_bytes: int) -> None:
    """DecodeError for a field the instruction does not use that is not 0, or a bad shift or address."""
    assert c.name is not None
    for name, value in c.fields.items():
        if name != "opcode" and name not in OPERANDS[c.name] and value:
            raise DecodeError(name, value, f"0 ({c.name} does not use it)")
    if c.name == "SHL" and c["shamt"] >= 16:
        raise DecodeError("shamt", c["shamt"], "a shift of 0..15 (16-bit lanes)")
    if c.name in ("LOAD", "STORE"):
        addr = c["addr"]
        if addr % ROW_BYTES:
            raise DecodeError("addr", f"{addr:#x}", f"a {ROW_BYTES}-byte aligned DRAM address")
        if addr + ROW_BYTES > dram_bytes:
            raise DecodeError("addr", f"{addr:#x}", f"an address inside the {dram_bytes}-byte DRAM")


def _lanewise(
    op: Callable[[np.ndarray, np.ndarray, np.ndarray, ToyCommand], np.ndarray],
) -> Callable[[ToyCommand, State], Update]:
    """The update of an ALU instruction: spad[rd] = op(spad[rs1], spad[rs2], spad[rd]) mod 2^16."""

    def update(c: ToyCommand, state: State) -> Update:
        _check_fields(c, state["dram"].size)
        spad = state["spad"].astype(np.uint32)
        row = op(spad[c["rs1"]], spad[c["rs2"]], spad[c["rd"]], c) & 0xFFFF
        return {"spad": (np.array([c["rd"]]), row.astype(np.uint16)[None, :])}

    return update


def _load(c: ToyCommand, state: State) -> Update:
    _check_fields(c, state["dram"].size)
    raw = state["dram"][c["addr"] : c["addr"] + ROW_BYTES]
    return {"spad": (np.array([c["rd"]]), raw.view("<u2")[None, :].copy())}


def _store(c: ToyCommand, state: State) -> Update:
    _check_fields(c, state["dram"].size)
    raw = np.ascontiguousarray(state["spad"][c["rs1"]]).astype("<u2").view(np.uint8)
    return {"dram": (c["addr"] + np.arange(ROW_BYTES), raw.copy())}


def _explain_undecodable(c: ToyCommand) -> DecodeError:
    allowed = ", ".join(f"{code} {name}" for name, code in OPCODES.items())
    return DecodeError("opcode", c["opcode"], f"one of {allowed}")


def build_model(dram_bytes: int = 1 << 12) -> IlaModel:
    """The toy ILA with a DRAM of `dram_bytes`."""

    def named(name: str) -> Callable[[ToyCommand, State], bool]:
        return lambda c, s: c.name == name

    spad = frozenset({"spad"})
    instructions = [
        Instruction("LOAD", named("LOAD"), _load, spad),
        Instruction("STORE", named("STORE"), _store, frozenset({"dram"})),
        Instruction("ADD", named("ADD"), _lanewise(lambda a, b, d, c: a + b), spad),
        Instruction("XOR", named("XOR"), _lanewise(lambda a, b, d, c: a ^ b), spad),
        Instruction("SHL", named("SHL"), _lanewise(lambda a, b, d, c: a << c["shamt"]), spad),
        Instruction("MAC", named("MAC"), _lanewise(lambda a, b, d, c: d + a * b), spad),
    ]
    return IlaModel(
        "toy",
        [
            StateVar("dram", 8, (dram_bytes,), doc="the harness's DRAM"),
            StateVar("spad", 16, (ROWS, LANES), doc="the scratchpad: 16 rows of 8 16-bit lanes"),
        ],
        instructions,
        parse=parse,
        unit_of=lambda c: "toy",
        disasm=disasm,
        explain_undecodable=_explain_undecodable,
    )


def model_for(program: Program) -> IlaModel:
    """The toy ILA sized for a Program's DRAM image."""
    return build_model(int(program.memories["dram"].shape[0]))


ACCELERATOR = Accelerator(
    name="toy",
    model_for=model_for,
    verilog_parameters=lambda program: {},
    top="toy_top",
    units=("toy",),
    generators=HookRef("tests.toy.programs:GENERATED"),
    rtl_dir=RTL_DIR,
)
"""The toy's plug-in: `TANDEM_ACCELERATORS=tests.toy.toy` registers it."""
