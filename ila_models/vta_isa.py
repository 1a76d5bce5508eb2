"""VTA's instruction set encoding: configuration, 128-bit instruction and 32-bit micro-op layouts.

The single source of the encoding for the ILA model, the program generators and the
compiler's codegen. docs/vta.md is the human-readable specification.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ila_models.bitfields import Field, Layout, word_from_bytes, word_to_bytes

ISA_VERSION = "vta-1x16x16-v1"
INSN_BYTES = 16

OPCODES = {"LOAD": 0, "STORE": 1, "GEMM": 2, "FINISH": 3, "ALU": 4}
OPCODE_NAMES = {v: k for k, v in OPCODES.items()}
MEM_TYPES = {"UOP": 0, "WGT": 1, "INP": 2, "ACC": 3, "OUT": 4}
MEM_NAMES = {v: k for k, v in MEM_TYPES.items()}
ALU_OPS = {"MIN": 0, "MAX": 1, "ADD": 2, "SHR": 3, "MUL": 4}
ALU_NAMES = {v: k for k, v in ALU_OPS.items()}
UNITS = ("load", "compute", "store")
TOKEN_QUEUES = ("l2c", "c2l", "c2s", "s2c")
# Which token queue each header bit touches, per unit (None: the unit has no such neighbour).
TOKEN_BITS: dict[str, dict[str, str | None]] = {
    "load": {"pop_prev": None, "pop_next": "c2l", "push_prev": None, "push_next": "l2c"},
    "compute": {"pop_prev": "l2c", "pop_next": "s2c", "push_prev": "c2l", "push_next": "c2s"},
    "store": {"pop_prev": "c2s", "pop_next": None, "push_prev": "s2c", "push_next": None},
}

_HEADER = [
    Field("opcode", 0, 3),
    Field("pop_prev", 3, 1),
    Field("pop_next", 4, 1),
    Field("push_prev", 5, 1),
    Field("push_next", 6, 1),
]
MEM_LAYOUT = Layout(
    "VTAMemInsn",
    128,
    [
        *_HEADER,
        Field("memory_type", 7, 3),
        Field("sram_base", 10, 16),
        Field("dram_base", 26, 32),
        Field("y_size", 64, 16),
        Field("x_size", 80, 16),
        Field("x_stride", 96, 16),
        Field("y_pad_0", 112, 4),
        Field("y_pad_1", 116, 4),
        Field("x_pad_0", 120, 4),
        Field("x_pad_1", 124, 4),
    ],
)
_LOOPS = [
    Field("reset_reg", 7, 1),
    Field("uop_bgn", 8, 13),
    Field("uop_end", 21, 14),
    Field("iter_out", 35, 14),
    Field("iter_in", 49, 14),
    Field("dst_factor_out", 64, 11),
    Field("dst_factor_in", 75, 11),
    Field("src_factor_out", 86, 11),
    Field("src_factor_in", 97, 11),
]
GEMM_LAYOUT = Layout(
    "VTAGemInsn", 128, [*_HEADER, *_LOOPS, Field("wgt_factor_out", 108, 10), Field("wgt_factor_in", 118, 10)]
)
ALU_LAYOUT = Layout(
    "VTAAluInsn",
    128,
    [
        *_HEADER,
        *_LOOPS,
        Field("alu_opcode", 108, 3),
        Field("use_imm", 111, 1),
        Field("imm", 112, 16, signed=True),
    ],
)
FINISH_LAYOUT = Layout("VTAFinishInsn", 128, _HEADER)
UOP_LAYOUT = Layout(
    "VTAUop", 32, [Field("dst_idx", 0, 11), Field("src_idx", 11, 11), Field("wgt_idx", 22, 10)]
)


@dataclass(frozen=True)
class VtaConfig:
    """VTA's parameters; the default is the real 1x16x16 configuration. BATCH is 1."""

    block_in: int = 16
    block_out: int = 16
    uop_depth: int = 8192
    inp_depth: int = 2048
    wgt_depth: int = 1024
    acc_depth: int = 2048

    def __post_init__(self) -> None:
        # depths: what the encoding addresses; blocks: the widest GEMM core we build (a 64x64 core's
        # weight row is 32,768 bits), so a header cannot ask Verilator for an absurd design
        limits = {
            "uop_depth": 1 << 13, "inp_depth": 1 << 11, "wgt_depth": 1 << 10, "acc_depth": 1 << 11,
            "block_in": 64, "block_out": 64,
        }  # fmt: skip
        for name, value in asdict(self).items():
            if value <= 0 or value & (value - 1):
                raise ValueError(f"VtaConfig.{name}={value!r}: expected a power of two")
            if name in limits and value > limits[name]:
                raise ValueError(f"VtaConfig.{name}={value!r}: the encoding addresses at most {limits[name]}")

    @classmethod
    def from_dict(cls, values: dict[str, int]) -> VtaConfig:
        """A config from a Program header's `config` (unknown keys are an error)."""
        unknown = values.keys() - asdict(cls()).keys()
        if unknown:
            raise ValueError(
                f"VTA config has unknown keys {sorted(unknown)}; expected {sorted(asdict(cls()))}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def verilog_parameters(self) -> dict[str, int]:
        """The RTL's parameters (same names, upper case): model and RTL come from one config."""
        return {k.upper(): v for k, v in asdict(self).items()}

    def elem_bytes(self, memory_type: int) -> int:
        """Bytes of one element of a memory type in DRAM."""
        return {
            MEM_TYPES["UOP"]: 4,
            MEM_TYPES["WGT"]: self.block_out * self.block_in,
            MEM_TYPES["INP"]: self.block_in,
            MEM_TYPES["ACC"]: 4 * self.block_out,
            MEM_TYPES["OUT"]: self.block_out,
        }[memory_type]


def _deps(deps: dict[str, int] | None) -> dict[str, int]:
    return {k: int(v) for k, v in (deps or {}).items()}


def load(
    memory: str,
    sram_base: int,
    dram_base: int,
    y_size: int,
    x_size: int,
    x_stride: int,
    pads: tuple[int, int, int, int] = (0, 0, 0, 0),
    deps: dict[str, int] | None = None,
) -> int:
    """A LOAD instruction word; pads are (y_pad_0, y_pad_1, x_pad_0, x_pad_1); deps like {'pop_next': 1}."""
    return MEM_LAYOUT.pack(
        opcode=OPCODES["LOAD"], memory_type=MEM_TYPES[memory], sram_base=sram_base, dram_base=dram_base,
        y_size=y_size, x_size=x_size, x_stride=x_stride,
        y_pad_0=pads[0], y_pad_1=pads[1], x_pad_0=pads[2], x_pad_1=pads[3], **_deps(deps),
    )  # fmt: skip


def store(
    sram_base: int,
    dram_base: int,
    y_size: int,
    x_size: int,
    x_stride: int,
    deps: dict[str, int] | None = None,
) -> int:
    """A STORE instruction word (memory type OUT)."""
    return MEM_LAYOUT.pack(
        opcode=OPCODES["STORE"], memory_type=MEM_TYPES["OUT"], sram_base=sram_base, dram_base=dram_base,
        y_size=y_size, x_size=x_size, x_stride=x_stride, **_deps(deps),
    )  # fmt: skip


def gemm(
    uop_bgn: int,
    uop_end: int,
    iter_out: int = 1,
    iter_in: int = 1,
    dst: tuple[int, int] = (0, 0),
    src: tuple[int, int] = (0, 0),
    wgt: tuple[int, int] = (0, 0),
    reset: bool = False,
    deps: dict[str, int] | None = None,
) -> int:
    """A GEMM instruction word; dst/src/wgt are (factor_out, factor_in)."""
    return GEMM_LAYOUT.pack(
        opcode=OPCODES["GEMM"], reset_reg=int(reset), uop_bgn=uop_bgn, uop_end=uop_end,
        iter_out=iter_out, iter_in=iter_in, dst_factor_out=dst[0], dst_factor_in=dst[1],
        src_factor_out=src[0], src_factor_in=src[1], wgt_factor_out=wgt[0], wgt_factor_in=wgt[1],
        **_deps(deps),
    )  # fmt: skip


def alu(
    op: str,
    uop_bgn: int,
    uop_end: int,
    iter_out: int = 1,
    iter_in: int = 1,
    dst: tuple[int, int] = (0, 0),
    src: tuple[int, int] = (0, 0),
    imm: int | None = None,
    reset: bool = False,
    deps: dict[str, int] | None = None,
) -> int:
    """An ALU instruction word; `imm` given means use_imm."""
    return ALU_LAYOUT.pack(
        opcode=OPCODES["ALU"], reset_reg=int(reset), uop_bgn=uop_bgn, uop_end=uop_end,
        iter_out=iter_out, iter_in=iter_in, dst_factor_out=dst[0], dst_factor_in=dst[1],
        src_factor_out=src[0], src_factor_in=src[1], alu_opcode=ALU_OPS[op],
        use_imm=int(imm is not None), imm=0 if imm is None else imm, **_deps(deps),
    )  # fmt: skip


def finish(deps: dict[str, int] | None = None) -> int:
    """A FINISH instruction word."""
    return FINISH_LAYOUT.pack(opcode=OPCODES["FINISH"], **_deps(deps))


def uop(dst_idx: int, src_idx: int, wgt_idx: int = 0) -> int:
    """A 32-bit micro-op."""
    return UOP_LAYOUT.pack(dst_idx=dst_idx, src_idx=src_idx, wgt_idx=wgt_idx)


def commands_array(words: list[int]) -> np.ndarray:
    """Instruction words as the Program's uint8 (N, 16) command array."""
    out = np.zeros((len(words), INSN_BYTES), dtype=np.uint8)
    for i, w in enumerate(words):
        out[i] = np.frombuffer(word_to_bytes(w, INSN_BYTES), dtype=np.uint8)
    return out


def parse(command: np.ndarray) -> dict[str, int]:
    """The fields of one 16-byte instruction, by its opcode's layout (unknown opcode: header only)."""
    word = word_from_bytes(np.asarray(command, dtype=np.uint8).tobytes())
    opcode = word & 0x7
    layout = {
        OPCODES["LOAD"]: MEM_LAYOUT,
        OPCODES["STORE"]: MEM_LAYOUT,
        OPCODES["GEMM"]: GEMM_LAYOUT,
        OPCODES["ALU"]: ALU_LAYOUT,
    }.get(opcode, FINISH_LAYOUT)
    return layout.unpack(word)


def unit_of(fields: dict[str, int]) -> str:
    """The unit that runs an instruction."""
    op = fields["opcode"]
    if op == OPCODES["LOAD"]:
        return "load" if fields["memory_type"] in (MEM_TYPES["INP"], MEM_TYPES["WGT"]) else "compute"
    if op == OPCODES["STORE"]:
        return "store"
    return "compute"


def disasm(fields: dict[str, int]) -> str:
    """One instruction as assembly."""
    op = OPCODE_NAMES.get(fields["opcode"], f"OPCODE{fields['opcode']}")
    deps = [k for k in ("pop_prev", "pop_next", "push_prev", "push_next") if fields[k]]
    tail = f" [{' '.join(deps)}]" if deps else ""
    f = fields
    if op in ("LOAD", "STORE"):
        mem = MEM_NAMES.get(f["memory_type"], f"MEM{f['memory_type']}")
        pads = (f["y_pad_0"], f["y_pad_1"], f["x_pad_0"], f["x_pad_1"])
        pad = f" pad={pads}" if any(pads) else ""
        return (
            f"{op} {mem} sram={f['sram_base']:#x} dram={f['dram_base']:#x} "
            f"y={f['y_size']} x={f['x_size']} stride={f['x_stride']}{pad}{tail}"
        )
    if op in ("GEMM", "ALU"):
        body = (
            f"uop=[{f['uop_bgn']},{f['uop_end']}) iter=({f['iter_out']},{f['iter_in']}) "
            f"dst=({f['dst_factor_out']},{f['dst_factor_in']}) src=({f['src_factor_out']},{f['src_factor_in']})"
        )
        if op == "GEMM":
            body += f" wgt=({f['wgt_factor_out']},{f['wgt_factor_in']})"
            name = "GEMM"
        else:
            name = "ALU " + ALU_NAMES.get(f["alu_opcode"], f"OP{f['alu_opcode']}")
            if f["use_imm"]:
                body = f"imm={f['imm']} " + body
        return f"{name}{' RESET' if f['reset_reg'] else ''} {body}{tail}"
    return f"{op}{tail}"
