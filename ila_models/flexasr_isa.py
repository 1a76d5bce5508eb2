"""FlexASR's programming interface: the AXI address map, the configuration byte layouts, parsing.

Every command is an MMIO beat (`ila_models.mmio`): a 128-bit write or read at a
32-bit address. Byte k of the beat is `data_in_k` of the flexnlp-ila sources;
16-bit fields are little endian (bytes k, k+1). Addresses and layouts follow
flexnlp-ila (include/flex/*_addr_map.h, src/config_instr_*.cc); see docs/flexasr.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ila_models import mmio
from ila_models.language import DecodeError
from ila_models.mmio import AddressMap, MmioCommand, Region

NUM_PES = 4
LANES = 16
GB_BASE = 0x33000000
PE_STRIDE = 0x01000000
UNIT = "flexasr"

# Buffers: name -> (offset from the partition base, number of 16-byte vectors)
GB_LARGE_VECTORS = 65536  # 1 MB: 16 banks x 4096 entries x 16 B
GB_SMALL_VECTORS = 1024  # 16 KB
PE_WEIGHT_VECTORS = 65536  # 1 MB
PE_INPUT_VECTORS = 256  # 0x00600000..0x00600FF0
PE_ACT_VECTORS = 32  # 512 B: LSTM cell state

# Configuration registers: name -> address offset. Row order is the row of the config state.
GB_CONFIGS = {
    "mem_mngr_large": 0x00400010,
    "mem_mngr_small": 0x00400020,
    "gb_control": 0x00700010,
    "layer_reduce": 0x00800010,
    "layer_norm": 0x00900010,
    "zero_padding": 0x00A00010,
    "attention": 0x00B00010,
}
PE_CONFIGS = {
    "rnn_layer_sizing": 0x00400010,
    "mem_mngr_first": 0x00400020,
    "cluster_table_first": 0x00400030,
    "mem_mngr_second": 0x00400040,
    "cluster_table_second": 0x00400050,
    "act_mngr": 0x00800010,
    "act_vector_0_15": 0x00800020,
    "act_vector_16_31": 0x00800030,
}
# GB operations started by a write (any data) to these offsets.
GB_STARTS = {
    "gb_control": 0x10,
    "layer_reduce": 0x20,
    "layer_norm": 0x30,
    "zero_padding": 0x40,
    "attention": 0x50,
}
GB_BUFFERS = {"gb_large": (0x00500000, GB_LARGE_VECTORS), "gb_small": (0x00600000, GB_SMALL_VECTORS)}
PE_BUFFERS = {
    "weight": (0x00500000, PE_WEIGHT_VECTORS),
    "input": (0x00600000, PE_INPUT_VECTORS),
    "act": (0x00900000, PE_ACT_VECTORS),
}


@dataclass(frozen=True)
class ConfigField:
    """A field of a configuration beat: `nbytes` bytes from byte `byte`, values 0..`limit`."""

    name: str
    byte: int
    nbytes: int = 1
    limit: int = 255


def _f(name: str, byte: int, nbytes: int = 1, limit: int | None = None) -> ConfigField:
    return ConfigField(name, byte, nbytes, limit if limit is not None else (1 << (8 * nbytes)) - 1)


LAYOUTS: dict[str, list[ConfigField]] = {
    "mem_mngr_large": [
        f
        for j in range(4)
        for f in (_f(f"num_vector_{j}", 4 * j), _f(f"base_large_{j}", 4 * j + 2, 2, GB_LARGE_VECTORS - 1))
    ],
    "mem_mngr_small": [_f(f"base_small_{j}", 2 * j, 2, GB_SMALL_VECTORS - 1) for j in range(8)],
    "gb_control": [
        _f("is_valid", 0, limit=1), _f("mode", 1, limit=3), _f("is_rnn", 2, limit=1),
        _f("memory_index_1", 4, limit=3), _f("memory_index_2", 5, limit=3),
        _f("num_vector_1", 6), _f("num_vector_2", 7), _f("num_timestep_1", 8, 2),
    ],
    "layer_reduce": [
        _f("is_valid", 0, limit=1), _f("mode", 1, limit=2), _f("memory_index_1", 4, limit=3),
        _f("num_vector_1", 6), _f("num_timestep_1", 8, 2),
    ],
    "layer_norm": [
        _f("is_valid", 0, limit=1), _f("mode", 1), _f("memory_index_1", 4, limit=3),
        _f("num_vector_1", 6), _f("num_timestep_1", 8, 2), _f("adpbias_1", 12, limit=7),
        _f("adpbias_3", 14, limit=7), _f("adpbias_4", 15, limit=7),
    ],
    "zero_padding": [
        _f("is_valid", 0, limit=1), _f("memory_index_1", 4, limit=3), _f("num_vector_1", 6),
        _f("num_timestep_1", 8, 2), _f("num_timestep_2", 10, 2),
    ],
    "attention": [
        _f("is_valid", 0, limit=1), _f("memory_index_1", 4, limit=3), _f("memory_index_2", 5, limit=7),
        _f("num_vector_1", 6), _f("num_timestep_1", 8, 2), _f("adpbias_1", 12, limit=7),
        _f("adpbias_2", 13, limit=7), _f("adpbias_3", 14, limit=7), _f("adpbias_4", 15, limit=7),
    ],
    "rnn_layer_sizing": [
        _f("is_valid", 0, limit=1), _f("is_zero_first", 1, limit=1), _f("is_cluster", 2, limit=1),
        _f("is_bias", 3, limit=1), _f("num_manager", 4, limit=2), _f("num_output", 5),
    ],
    **{
        name: [
            _f("zero_active", 0, limit=1), _f("adpfloat_bias_w", 1, limit=7),
            _f("adpfloat_bias_b", 2, limit=7), _f("adpfloat_bias_i", 3, limit=7),
            _f("num_input", 4, 2, limit=255), _f("base_weight", 6, 2), _f("base_bias", 8, 2, limit=255),
            _f("base_input", 10, 2, limit=255),
        ]
        for name in ("mem_mngr_first", "mem_mngr_second")
    },
    "cluster_table_first": [_f(f"entry_{k}", k) for k in range(16)],
    "cluster_table_second": [_f(f"entry_{k}", k) for k in range(16)],
    "act_mngr": [
        _f("is_valid", 0, limit=1), _f("is_zero_first", 1, limit=1), _f("adpfloat_bias", 2, limit=7),
        _f("num_inst", 3, limit=32), _f("num_output", 4), _f("buffer_addr_base", 6, 2, limit=31),
        _f("output_addr_base", 8),
    ],
    "act_vector_0_15": [_f(f"inst_{k}", k) for k in range(16)],
    "act_vector_16_31": [_f(f"inst_{k + 16}", k) for k in range(16)],
}  # fmt: skip


_FIELDS_CACHE: dict[tuple[str, bytes], dict[str, int]] = {}


def config_fields(name: str, data: np.ndarray) -> dict[str, int]:
    """The fields of configuration beat `name` (16 bytes), unchecked (a fresh dict, parsed once per beat)."""
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8):
        return _parse_fields(name, data)
    key = (name, data.tobytes())
    cached = _FIELDS_CACHE.get(key)
    if cached is None:
        if len(_FIELDS_CACHE) > 4096:
            _FIELDS_CACHE.clear()
        cached = _FIELDS_CACHE[key] = _parse_fields(name, data)
    return dict(cached)


def _parse_fields(name: str, data: np.ndarray) -> dict[str, int]:
    out = {}
    for f in LAYOUTS[name]:
        value = 0
        for k in range(f.nbytes):
            value |= int(data[f.byte + k]) << (8 * k)
        out[f.name] = value
    return out


def check_config(name: str, data: np.ndarray) -> dict[str, int]:
    """The fields of configuration beat `name`; DecodeError naming the first field out of range."""
    values = config_fields(name, data)
    for f in LAYOUTS[name]:
        if values[f.name] > f.limit:
            raise DecodeError(f"{name}.{f.name}", values[f.name], f"0..{f.limit}")
    if name == "rnn_layer_sizing" and values["is_valid"] and values["num_manager"] == 0:
        raise DecodeError("rnn_layer_sizing.num_manager", 0, "1 or 2 when is_valid=1")
    return values


def _regions() -> list[Region]:
    regions = [Region(f"start_{n}", GB_BASE + off, 16) for n, off in GB_STARTS.items()]
    regions += [Region(f"config_{n}", GB_BASE + off, 16) for n, off in GB_CONFIGS.items()]
    regions += [Region(n, GB_BASE + off, 16 * size) for n, (off, size) in GB_BUFFERS.items()]
    for pe in range(NUM_PES):
        base = GB_BASE + PE_STRIDE * (pe + 1)
        regions += [Region(f"pe{pe}_config_{n}", base + off, 16) for n, off in PE_CONFIGS.items()]
        regions += [Region(f"pe{pe}_{n}", base + off, 16 * size) for n, (off, size) in PE_BUFFERS.items()]
    return regions


ADDRESS_MAP = AddressMap("flexasr", _regions())


@dataclass(frozen=True)
class FlexCommand:
    """A decoded FlexASR command: which region it touches, the vector index in it, the data bytes."""

    wr: bool
    region: str
    index: int
    addr: int
    data: np.ndarray

    @property
    def pe(self) -> int | None:
        return int(self.region[2]) if self.region.startswith("pe") else None

    @property
    def target(self) -> str:
        """The region without its `peN_` prefix (e.g. `config_act_mngr`, `weight`)."""
        return self.region[4:] if self.region.startswith("pe") else self.region


def parse(command: np.ndarray) -> FlexCommand:
    """A raw 24-byte command as a FlexCommand; DecodeError for an unmapped or misaligned address."""
    cmd: MmioCommand = mmio.parse(command)
    if cmd.addr & 0xF:
        raise DecodeError("addr", f"{cmd.addr:#010x}", "a 16-byte aligned address (low 4 bits 0)")
    region, offset = ADDRESS_MAP.lookup(cmd.addr)
    return FlexCommand(cmd.wr, region.name, offset >> 4, cmd.addr, cmd.data_bytes())


def unit_of(f: FlexCommand) -> str:
    """FlexASR executes its commands in order in one unit."""
    return UNIT


def disasm(f: FlexCommand) -> str:
    """A command as readable assembly."""
    op = "WR" if f.wr else "RD"
    if f.target.startswith("config_"):
        values = config_fields(f.target[7:], f.data)
        shown = " ".join(f"{k}={v}" for k, v in values.items())
        return f"{op} {f.region} {shown}" if f.wr else f"{op} {f.region}"
    if f.region.startswith("start_"):
        return f"{op} {f.region.upper()}"
    data = f" {f.data[::-1].tobytes().hex()}" if f.wr else ""
    return f"{op} {f.region}[{f.index}]{data}"


def write(addr: int, data: int | bytes | np.ndarray) -> int:
    """A write command word."""
    return mmio.write(addr, data)


def read(addr: int) -> int:
    """A read command word."""
    return mmio.read(addr)


def gb_addr(offset: int) -> int:
    """The AXI address of a GB offset."""
    return GB_BASE + offset


def pe_addr(pe: int, offset: int) -> int:
    """The AXI address of an offset in PE `pe`."""
    if not 0 <= pe < NUM_PES:
        raise ValueError(f"pe={pe!r}: expected 0..{NUM_PES - 1}")
    return GB_BASE + PE_STRIDE * (pe + 1) + offset


def pack_config(name: str, **values: int) -> bytes:
    """A configuration beat from field values (others 0); a value out of range is a ValueError."""
    out = bytearray(16)
    fields = {f.name: f for f in LAYOUTS[name]}
    for key, value in values.items():
        f = fields.get(key)
        if f is None:
            raise ValueError(f"{name}: no field {key!r}; fields are {sorted(fields)}")
        if not 0 <= value <= f.limit:
            raise ValueError(f"{name}.{key}={value!r}: expected 0..{f.limit}")
        out[f.byte : f.byte + f.nbytes] = int(value).to_bytes(f.nbytes, "little")
    return bytes(out)


# ---- building command streams (shared by the compiler's codegen and the testbench generators) ----

GB_LARGE_OFFSET = GB_BUFFERS["gb_large"][0]
PE_WEIGHT_OFFSET = PE_BUFFERS["weight"][0]
PE_INPUT_OFFSET = PE_BUFFERS["input"][0]
ACT_INPE, ACT_OUTGB = 0x30, 0x40
"""Activation micro-ops INPE A0 (next core output) and OUTGB A0: the activation unit passes the layer's
output through unchanged (a linear layer)."""


def gb_config(name: str, **values: int) -> int:
    """The write of GB configuration beat `name` (fields as in `pack_config`)."""
    return write(gb_addr(GB_CONFIGS[name]), pack_config(name, **values))


def gb_start(op: str) -> int:
    """The write that starts GB operation `op` (gb_control, layer_reduce, layer_norm, ...)."""
    return write(gb_addr(GB_STARTS[op]), 0)


def timestep_rows(base: int, nv: int, t: int) -> np.ndarray:
    """Large-buffer rows of the `nv` vectors of timestep `t` of a block at `base` (grouped by 16 timesteps)."""
    return base + (t // 16) * 16 * nv + (t % 16) + 16 * np.arange(nv)


def block_rows(nv: int, nt: int) -> int:
    """Large-buffer rows a block of `nt` timesteps of `nv` vectors spans."""
    return 16 * nv * -(-nt // 16)


def store_timesteps(words: list[int], codes: np.ndarray, base: int) -> None:
    """Append GB large stores of codes (T, nv, 16) in the timestep layout of a block at `base`."""
    for t in range(codes.shape[0]):
        for v, row in enumerate(timestep_rows(base, codes.shape[1], t)):
            words.append(write(gb_addr(GB_LARGE_OFFSET + 16 * int(row)), codes[t, v]))


def read_timesteps(words: list[int], base: int, nv: int, nt: int) -> None:
    """Append GB large reads of every vector of timesteps 0..nt-1 of a block at `base`."""
    for t in range(nt):
        for row in timestep_rows(base, nv, t):
            words.append(read(gb_addr(GB_LARGE_OFFSET + 16 * int(row))))


def weight_blocks(weights: np.ndarray, pe: int, no: int) -> np.ndarray:
    """Rows pe*no*16 .. of a (rows, cols) weight code matrix as (no, ni, 16, 16) blocks [o, i, lane, k]."""
    w = weights[pe * no * 16 : (pe + 1) * no * 16]
    return w.reshape(no, 16, -1, 16).transpose(0, 2, 1, 3)


def pe_layer(
    words: list[int],
    pe: int,
    w_codes: list[np.ndarray],
    b_codes: list[np.ndarray],
    biases: tuple[int, int, list[int]],
    act: dict[str, int],
    act_program: bytes,
    zero_first: bool,
    skip_zero_weights: bool = False,
) -> None:
    """Append the writes that configure PE `pe` for one manager per (weights (no, ni, 16, 16), biases
    (no, 16)) pair and store them: weights from row 0, inputs from row 0 of the input buffer, each
    manager's biases after every manager's inputs; `biases` = (bw, bb, [bi per manager]).
    `skip_zero_weights`: no stores of all-zero weight rows (for a weight buffer known to be zero)."""
    bw, bb, bi = biases
    no = w_codes[0].shape[0]
    sizing = pack_config(
        "rnn_layer_sizing", is_valid=1, is_zero_first=int(zero_first), is_cluster=0, is_bias=1,
        num_manager=len(w_codes), num_output=no,
    )  # fmt: skip
    words.append(write(pe_addr(pe, PE_CONFIGS["rnn_layer_sizing"]), sizing))
    base_weight, base_input = 0, 0
    bias_base = sum(w.shape[1] for w in w_codes)
    for m, (w, b) in enumerate(zip(w_codes, b_codes, strict=True)):
        ni = w.shape[1]
        name = ("mem_mngr_first", "mem_mngr_second")[m]
        manager = pack_config(
            name, zero_active=int(m == 1), adpfloat_bias_w=bw, adpfloat_bias_b=bb, adpfloat_bias_i=bi[m],
            num_input=ni, base_weight=base_weight, base_bias=bias_base + m * no, base_input=base_input,
        )  # fmt: skip
        words.append(write(pe_addr(pe, PE_CONFIGS[name]), manager))
        rows = w.reshape(-1, 16)  # (o, i, lane, k) in the weight buffer's order
        for r, row in enumerate(rows):
            if not (skip_zero_weights and not row.any()):
                words.append(write(pe_addr(pe, PE_WEIGHT_OFFSET + 16 * (base_weight + r)), row))
        for o in range(no):
            words.append(write(pe_addr(pe, PE_INPUT_OFFSET + 16 * (bias_base + m * no + o)), b[o]))
        base_weight += rows.shape[0]
        base_input += ni
    words.append(write(pe_addr(pe, PE_CONFIGS["act_mngr"]), pack_config("act_mngr", **act)))
    prog = act_program.ljust(32, b"\0")
    words.append(write(pe_addr(pe, PE_CONFIGS["act_vector_0_15"]), prog[:16]))
    words.append(write(pe_addr(pe, PE_CONFIGS["act_vector_16_31"]), prog[16:]))
