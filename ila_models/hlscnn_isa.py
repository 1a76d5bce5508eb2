"""HLSCNN's programming interface: configuration, address map, register ids and bit fields.

HLSCNN is programmed with MMIO commands (`ila_models.mmio`): 128-bit AXI beats
written to (or read from) 32-bit addresses. This module is the single source of
the encoding for the ILA model, the program generators and the compiler;
docs/hlscnn.md is the human-readable specification.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ila_models import mmio
from ila_models.bitfields import Field, Layout
from ila_models.language import DecodeError

ISA_VERSION = "hlscnn-v1"
BASE = 0x32000000  # SLAVE_BASE_FROM_HOST: the device's window in the host's address space
CFG_SIZE = 0x4000  # configuration registers live below SPAD0 (offsets 0x0..0x3fff)
SPAD0_OFFSET = 0x4000
VIR_MEM_OFFSET = 0x800000  # our choice: the virtual-SoC-memory write window (docs/hlscnn.md)
VIR_MEM_SIZE = 0x800000
ENTRY_BYTES = 16  # one scratchpad entry = one AXI beat
LANES = 8  # datapath lanes = CHANNEL_BLOCK_SIZE

REGISTERS = {
    "SocMemBaseAddr": 4,
    "SocMemRdWrLength": 5,
    "AccelSpadCFG": 6,
    "AccelStartFlagReg": 12,
    "AccelFCWeightsBase": 13,
    "AccelFCActivationBase": 14,
    "AccelFCSizeConfig": 15,
    "AccelBiasActivationConfig": 16,
    "AccelConvTrigger": 17,
    "AccelConvActivationBaseAddr": 18,
    "AccelConvWeightsBaseAddr": 19,
    "AccelConvOutputsBaseAddr": 20,
    "AccelConvInputSizeConfig": 21,
    "AccelConvOutputSizeConfig": 22,
    "AccelConvKernelSizeConfig": 23,
    "AccelConvChannelConfig": 24,
    "AccelReductionTrigger": 25,
    "AccelReductionInBase": 26,
    "AccelReductionOutBase": 27,
    "AccelReductionInputSize": 28,
    "AccelReductionBias": 29,
}
REGISTER_NAMES = {v: k for k, v in REGISTERS.items()}
NUM_REGISTERS = 30
TRIGGERS = {
    REGISTERS["AccelConvTrigger"]: "CONV_TRIGGER",
    REGISTERS["AccelStartFlagReg"]: "FC_TRIGGER",
    REGISTERS["AccelReductionTrigger"]: "REDUCTION_TRIGGER",
}
# Registers 0-3 are unused and 7-11 (AXI/ACP master self-tests, AXI attributes) are test features
# of the original design that Tandem does not model: writing them is a decode error.
UNSUPPORTED = {0: "unused", 1: "unused", 2: "unused", 3: "unused", 7: "AxiMasterSelfTestTrigger",
               8: "AxiMasterRemoteBaseAddr", 9: "AcpMasterSelfTestTrigger", 10: "AcpMasterRemoteBaseAddr",
               11: "AxiAttrConfig"}  # fmt: skip

SIZE = Layout("SizeConfig", 32, [Field("cols", 0, 10), Field("rows", 10, 10), Field("chans", 20, 12)])
KERNEL = Layout(
    "KernelSizeConfig",
    32,
    [Field("cols", 0, 8), Field("rows", 8, 8), Field("c_stride", 16, 3), Field("r_stride", 19, 3)],
)
CHANNEL = Layout(
    "ChannelConfig",
    32,
    [
        Field("chan_bias", 0, 16, signed=True),
        Field("enable_bias", 16, 1),
        Field("enable_relu", 17, 1),
        Field("enable_accum", 18, 1),
        Field("kernel_num", 19, 8),
        Field("enable_wb", 27, 1),
    ],
)
FC_SIZE = Layout("FCSizeConfig", 32, [Field("cols", 0, 12), Field("rows", 12, 12), Field("batch_m1", 24, 3)])
BIAS_ACT = Layout(
    "BiasActivationConfig",
    32,
    [Field("act_func", 0, 2), Field("do_bias", 2, 1), Field("relu_threshold", 3, 22)],
)
REDUCTION_SIZE = Layout("ReductionInputSize", 32, [Field("count", 0, 16)])
REDUCTION_BIAS = Layout("ReductionBias", 32, [Field("bias", 0, 16, signed=True)])
LAYOUTS = {
    REGISTERS["AccelConvInputSizeConfig"]: SIZE,
    REGISTERS["AccelConvOutputSizeConfig"]: SIZE,
    REGISTERS["AccelConvKernelSizeConfig"]: KERNEL,
    REGISTERS["AccelConvChannelConfig"]: CHANNEL,
    REGISTERS["AccelFCSizeConfig"]: FC_SIZE,
    REGISTERS["AccelBiasActivationConfig"]: BIAS_ACT,
    REGISTERS["AccelReductionInputSize"]: REDUCTION_SIZE,
    REGISTERS["AccelReductionBias"]: REDUCTION_BIAS,
}
ACT_FUNCS = {"none": 0, "relu": 1, "relu_threshold": 2}


@dataclass(frozen=True)
class HlscnnConfig:
    """A configuration: weight width (16, or 8 as in the original README) and scratchpad entries."""

    weight_bits: int = 16
    spad_entries: int = 8192  # 4 banks x 2048 entries of 16 bytes = 0x20000 bytes (the master branch)

    def __post_init__(self) -> None:
        if self.weight_bits not in (8, 16):
            raise ValueError(f"weight_bits={self.weight_bits!r}: expected 8 or 16")
        limit = (VIR_MEM_OFFSET - SPAD0_OFFSET) // (2 * ENTRY_BYTES)
        if not 1 <= self.spad_entries <= limit or self.spad_entries & (self.spad_entries - 1):
            raise ValueError(
                f"spad_entries={self.spad_entries!r}: expected a power of two in 1..{limit} "
                "(both scratchpads must fit below the virtual-memory window)"
            )

    @classmethod
    def from_dict(cls, values: dict[str, int]) -> HlscnnConfig:
        unknown = set(values) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"HLSCNN config: unknown keys {sorted(unknown)}; expected {sorted(cls.__dataclass_fields__)}")
        return cls(**values)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def verilog_parameters(self) -> dict[str, int]:
        return {"WEIGHT_BITS": self.weight_bits, "SPAD_ENTRIES": self.spad_entries}

    @property
    def spad1_offset(self) -> int:
        return SPAD0_OFFSET + ENTRY_BYTES * self.spad_entries

    @property
    def weights_per_entry(self) -> int:
        return ENTRY_BYTES * 8 // self.weight_bits

    def address_map(self) -> mmio.AddressMap:
        span = ENTRY_BYTES * self.spad_entries
        return mmio.AddressMap(
            "hlscnn",
            [
                mmio.Region("cfg", BASE, CFG_SIZE),
                mmio.Region("spad0", BASE + SPAD0_OFFSET, span),
                mmio.Region("spad1", BASE + self.spad1_offset, span),
                mmio.Region("vir_mem", BASE + VIR_MEM_OFFSET, VIR_MEM_SIZE),
            ],
        )


# -- encoding (what the generators and the compiler emit) -------------------------------------------
def register_value(name: str, **fields: int) -> int:
    """A register's 32-bit value from its named fields (plain registers: `value=`)."""
    reg = REGISTERS[name]
    layout = LAYOUTS.get(reg)
    if layout is None:
        (value,) = fields.values()
        if not 0 <= value < 1 << 32:
            raise ValueError(f"{name}={value!r}: expected a 32-bit unsigned value")
        return value
    return layout.pack(**fields)


def cfg_write(name: str, value: int | None = None, **fields: int) -> int:
    """The MMIO write of register `name` (a value, or its fields)."""
    reg = REGISTERS[name]
    value = register_value(name, **fields) if value is None else value
    addr = BASE + 4 * reg
    return mmio.write(addr, value << (8 * (addr & 0xF)))


def trigger(name: str) -> int:
    """The MMIO write that starts an operation: AccelConvTrigger, AccelStartFlagReg, AccelReductionTrigger."""
    return cfg_write(name, 1)


def spad_write(config: HlscnnConfig, spad: int, entry: int) -> int:
    """SPADx_DATA_WR at `entry`: copy SocMemRdWrLength beats from SocMemBaseAddr into the scratchpad."""
    return mmio.write(BASE + _spad_offset(config, spad) + ENTRY_BYTES * entry, 0)


def spad_read(config: HlscnnConfig, spad: int, entry: int) -> int:
    """SPADx_DATA_RD at `entry`: copy SocMemRdWrLength entries to SoC memory at SocMemBaseAddr."""
    return mmio.read(BASE + _spad_offset(config, spad) + ENTRY_BYTES * entry)


def vir_mem_write(address: int, data: bytes | np.ndarray) -> int:
    """VIR_MEM_WR: 16 bytes into the virtual SoC memory at byte `address` (16-byte aligned)."""
    return mmio.write(BASE + VIR_MEM_OFFSET + address, data)


def _spad_offset(config: HlscnnConfig, spad: int) -> int:
    if spad not in (0, 1):
        raise ValueError(f"spad={spad!r}: expected 0 or 1")
    return SPAD0_OFFSET if spad == 0 else config.spad1_offset


# -- decoding ---------------------------------------------------------------------------------------
def parse(config: HlscnnConfig, command: np.ndarray) -> dict[str, Any]:
    """A command's kind and fields. Never raises: an undecodable command has kind 'invalid' and 'error'."""
    try:
        cmd = mmio.parse(command)
        region, offset = config.address_map().lookup(cmd.addr)
    except DecodeError as exc:
        return {"kind": "invalid", "error": exc}
    f: dict[str, Any] = {"kind": "invalid", "addr": cmd.addr, "wr": cmd.wr, "data": cmd.data}
    if region.name == "cfg":
        reg = offset >> 2
        if offset & 3:
            f["error"] = DecodeError("addr", f"{cmd.addr:#010x}", "a 4-byte aligned configuration register address")
        elif cmd.rd:
            f["error"] = DecodeError("rd", 1, "a write: configuration registers are write-only")
        elif reg >= NUM_REGISTERS or reg in UNSUPPORTED:
            what = UNSUPPORTED.get(reg, "no such register")
            f["error"] = DecodeError(
                "reg_id", reg, f"a register HLSCNN implements ({what} is not): {sorted(REGISTER_NAMES)}"
            )
        else:
            f.update(kind=TRIGGERS.get(reg, "CFG_WR"), reg=reg, value=(cmd.data >> (8 * (offset & 0xF))) & 0xFFFFFFFF)
        return f
    if offset % ENTRY_BYTES:
        f["error"] = DecodeError("addr", f"{cmd.addr:#010x}", f"a {ENTRY_BYTES}-byte aligned {region.name} address")
        return f
    if region.name == "vir_mem":
        if cmd.rd:
            f["error"] = DecodeError("rd", 1, "a write: the virtual SoC memory window is write-only")
        else:
            f.update(kind="VIR_MEM_WR", offset=offset)
        return f
    kind = f"{region.name.upper()}_DATA_{'WR' if cmd.wr else 'RD'}"
    f.update(kind=kind, entry=offset // ENTRY_BYTES)
    return f


def disasm(fields: dict[str, Any]) -> str:
    """A parsed command as readable assembly."""
    kind = fields["kind"]
    if kind == "invalid":
        return f"<undecodable: {fields['error']}>"
    if kind in ("CFG_WR", *TRIGGERS.values()):
        reg, value = fields["reg"], fields["value"]
        name = REGISTER_NAMES[reg]
        if kind != "CFG_WR":
            return kind
        layout = LAYOUTS.get(reg)
        body = " ".join(f"{k}={v}" for k, v in layout.unpack(value).items()) if layout else f"{value:#x}"
        return f"CFG_WR {name} {body}"
    if kind == "VIR_MEM_WR":
        return f"VIR_MEM_WR {fields['offset']:#x}, {fields['data']:#034x}"
    return f"{kind} entry {fields['entry']}"
