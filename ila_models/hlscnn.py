"""The HLSCNN ILA model: configuration writes, scratchpad transfers, virtual-memory writes, and the
conv, FC and reduction triggers.

Semantics follow docs/hlscnn.md exactly, vectorised over whole layers with numpy:
every address an instruction reaches is range-checked before anything is read or
written, so a failing instruction writes nothing. The encoding lives in
`ila_models.hlscnn_isa`; the fixed-point formats come from `ila_models.fixed_point`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ila_models.accelerator import Accelerator, HookRef
from ila_models.fixed_point import FixedFormat, shift_right
from ila_models.hlscnn_isa import (
    BIAS_ACT,
    CHANNEL,
    ENTRY_BYTES,
    FC_SIZE,
    KERNEL,
    LANES,
    NUM_REGISTERS,
    REDUCTION_BIAS,
    REDUCTION_SIZE,
    REGISTERS,
    SIZE,
    HlscnnConfig,
    disasm,
    parse,
)
from ila_models.language import DecodeError, IlaModel, Instruction, State, StateVar, Update
from ila_models.program import Program

Fields = dict[str, Any]

ACT = FixedFormat(16, 7)  # activations and outputs: 9 integer bits, 7 fractional
WEIGHT = {16: FixedFormat(16, 14), 8: FixedFormat(8, 6)}  # 2 integer bits either way
PSUM = FixedFormat(32, 16)  # partial sums: 16 integer bits, 16 fractional
PRODUCT_FRAC = ACT.frac + WEIGHT[16].frac  # 21: an 8-lane dot product before it joins the psum
DOT_SHIFT = PRODUCT_FRAC - PSUM.frac  # 5, floor
OUT_SHIFT = PSUM.frac - ACT.frac  # 9, round half up, then saturate


def state_vars(config: HlscnnConfig, dram_bytes: int) -> list[StateVar]:
    """HLSCNN's architectural state for a configuration and a SoC-memory size."""
    return [
        StateVar("dram", 8, (dram_bytes,), doc="the virtual SoC memory the AXI master reads (harness DRAM)"),
        StateVar("cfg", 32, (NUM_REGISTERS,), doc="configuration registers by id (triggers are not stored)"),
        StateVar("spad0", 8, (config.spad_entries, ENTRY_BYTES), doc="scratchpad 0: weights, raw bytes"),
        StateVar("spad1", 16, (config.spad_entries, LANES), signed=True, doc="scratchpad 1: outputs"),
    ]


def _reg(state: State, name: str) -> int:
    return int(state["cfg"][REGISTERS[name]])


def _fields(state: State, name: str, layout: Any) -> dict[str, int]:
    return dict(layout.unpack(_reg(state, name)))


def _check(field: str, value: int, first: int, count: int, limit: int, what: str) -> None:
    """DecodeError naming `field` when [first, first + count) is not inside 0..limit-1."""
    if first < 0 or first + count > limit:
        raise DecodeError(
            field, value, f"a base at which {count} {what} fit (0..{limit - 1}), but they reach {first + count - 1}"
        )


def epilogue(psum: np.ndarray, old: np.ndarray | None, bias: int | None, act: str, threshold: int) -> np.ndarray:
    """Partial sums (PSUM) to outputs (ACT): + earlier output, + bias, activation, round, saturate.

    Additions wrap at 32 bits; the activation clips at 0 (and at `threshold`, in ACT units);
    the conversion rounds half up and saturates to 16 bits.
    """
    psum = PSUM.wrap(psum)
    if old is not None:
        psum = PSUM.wrap(psum + (old.astype(np.int64) << OUT_SHIFT))
    if bias is not None:
        psum = PSUM.wrap(psum + (bias << OUT_SHIFT))
    if act in ("relu", "relu_threshold"):
        psum = np.maximum(psum, 0)
    if act == "relu_threshold":
        psum = np.minimum(psum, threshold << OUT_SHIFT)
    return ACT.convert(psum, PSUM.frac, "half_up")


@dataclass(frozen=True)
class ConvJob:
    """One layer on the conv engine (the conv trigger, or the FC trigger as a 1x1 conv)."""

    act_base: int
    wgt_base: int
    out_base: int
    in_rows: int
    in_cols: int
    chans: int
    k_rows: int
    k_cols: int
    r_stride: int
    c_stride: int
    out_rows: int
    out_cols: int
    filters: int
    bias: int | None
    act: str
    threshold: int
    accum: bool
    write_back: bool
    names: dict[str, str]  # role -> the register that configures it, for error messages


class HlscnnSemantics:
    """The instruction updates for one configuration."""

    def __init__(self, config: HlscnnConfig):
        self.config = config
        self.entries = config.spad_entries

    # -- configuration and data movement -------------------------------------------------------------
    def cfg_write(self, f: Fields, state: State) -> Update:
        """CFG_WR: the register's 32-bit value."""
        return {"cfg": (np.array([f["reg"]]), np.array([f["value"]], dtype=np.uint32))}

    def _transfer(self, f: Fields, state: State) -> tuple[int, int]:
        """The SoC-memory byte address and beat count of a scratchpad transfer, range-checked."""
        base, length = _reg(state, "SocMemBaseAddr"), _reg(state, "SocMemRdWrLength")
        if base % ENTRY_BYTES:
            raise DecodeError("SocMemBaseAddr", base, f"a {ENTRY_BYTES}-byte aligned address")
        if length == 0:
            raise DecodeError("SocMemRdWrLength", 0, "at least 1 beat")
        _check("SocMemBaseAddr", base, base, ENTRY_BYTES * length, state["dram"].shape[0], "SoC-memory bytes")
        _check("SocMemRdWrLength", length, f["entry"], length, self.entries, "scratchpad entries")
        return base, length

    def spad_write(self, spad: str) -> Callable[[Fields, State], Update]:
        def update(f: Fields, state: State) -> Update:
            """SPADx_DATA_WR: the AXI master copies SocMemRdWrLength beats from SocMemBaseAddr."""
            base, length = self._transfer(f, state)
            raw = state["dram"][base : base + ENTRY_BYTES * length]
            rows = f["entry"] + np.arange(length)
            return {spad: (rows, raw.view(state[spad].dtype).reshape(length, -1))}

        return update

    def spad_read(self, spad: str) -> Callable[[Fields, State], Update]:
        def update(f: Fields, state: State) -> Update:
            """SPADx_DATA_RD: the AXI master writes SocMemRdWrLength entries to SocMemBaseAddr."""
            base, length = self._transfer(f, state)
            raw = np.ascontiguousarray(state[spad][f["entry"] : f["entry"] + length]).view(np.uint8).reshape(-1)
            return {"dram": (base + np.arange(raw.size), raw)}

        return update

    def vir_mem_write(self, f: Fields, state: State) -> Update:
        """VIR_MEM_WR: the beat's 16 bytes into the virtual SoC memory."""
        _check("addr", f["addr"], f["offset"], ENTRY_BYTES, state["dram"].shape[0], "SoC-memory bytes")
        data = np.frombuffer(int(f["data"]).to_bytes(ENTRY_BYTES, "little"), dtype=np.uint8)
        return {"dram": (f["offset"] + np.arange(ENTRY_BYTES), data.copy())}

    # -- the conv engine -----------------------------------------------------------------------------
    def conv_trigger(self, f: Fields, state: State) -> Update:
        """CONV_TRIGGER: the layer the conv registers describe."""
        ins = _fields(state, "AccelConvInputSizeConfig", SIZE)
        outs = _fields(state, "AccelConvOutputSizeConfig", SIZE)
        ker = _fields(state, "AccelConvKernelSizeConfig", KERNEL)
        ch = _fields(state, "AccelConvChannelConfig", CHANNEL)
        if outs["chans"] != ch["kernel_num"]:
            raise DecodeError(
                "AccelConvOutputSizeConfig.chans", outs["chans"], f"the filter count kernel_num ({ch['kernel_num']})"
            )
        job = ConvJob(
            act_base=_reg(state, "AccelConvActivationBaseAddr"),
            wgt_base=_reg(state, "AccelConvWeightsBaseAddr"),
            out_base=_reg(state, "AccelConvOutputsBaseAddr"),
            in_rows=ins["rows"], in_cols=ins["cols"], chans=ins["chans"],
            k_rows=ker["rows"], k_cols=ker["cols"], r_stride=ker["r_stride"], c_stride=ker["c_stride"],
            out_rows=outs["rows"], out_cols=outs["cols"], filters=ch["kernel_num"],
            bias=ch["chan_bias"] if ch["enable_bias"] else None,
            act="relu" if ch["enable_relu"] else "none", threshold=0,
            accum=bool(ch["enable_accum"]), write_back=bool(ch["enable_wb"]),
            names={
                "act_base": "AccelConvActivationBaseAddr", "wgt_base": "AccelConvWeightsBaseAddr",
                "out_base": "AccelConvOutputsBaseAddr", "in": "AccelConvInputSizeConfig",
                "out": "AccelConvOutputSizeConfig", "kernel": "AccelConvKernelSizeConfig",
                "filters": "AccelConvChannelConfig.kernel_num",
            },
        )  # fmt: skip
        return self.run_conv(job, state)

    def fc_trigger(self, f: Fields, state: State) -> Update:
        """FC_TRIGGER: batch x cols activations times rows x cols weights, as a 1x1 conv."""
        size = _fields(state, "AccelFCSizeConfig", FC_SIZE)
        ba = _fields(state, "AccelBiasActivationConfig", BIAS_ACT)
        if ba["act_func"] == 3:
            raise DecodeError("AccelBiasActivationConfig.act_func", 3, "0 none, 1 ReLU or 2 ReLU with threshold")
        act = {0: "none", 1: "relu", 2: "relu_threshold"}[ba["act_func"]]
        batch = size["batch_m1"] + 1
        job = ConvJob(
            act_base=_reg(state, "AccelFCActivationBase"), wgt_base=_reg(state, "AccelFCWeightsBase"),
            out_base=_reg(state, "AccelConvOutputsBaseAddr"),
            in_rows=batch, in_cols=1, chans=size["cols"], k_rows=1, k_cols=1, r_stride=1, c_stride=1,
            out_rows=batch, out_cols=1, filters=size["rows"],
            bias=_fields(state, "AccelConvChannelConfig", CHANNEL)["chan_bias"] if ba["do_bias"] else None,
            act=act, threshold=ba["relu_threshold"], accum=False, write_back=True,
            names={
                "act_base": "AccelFCActivationBase", "wgt_base": "AccelFCWeightsBase",
                "out_base": "AccelConvOutputsBaseAddr", "in": "AccelFCSizeConfig",
                "out": "AccelFCSizeConfig", "kernel": "AccelFCSizeConfig", "filters": "AccelFCSizeConfig.rows",
            },
        )  # fmt: skip
        return self.run_conv(job, state)

    def _validate(self, j: ConvJob, dram_bytes: int) -> tuple[int, int, int]:
        """Check a job; return (channel blocks, output blocks, weight vectors)."""
        n = j.names
        for value, field in (
            (j.in_rows, f"{n['in']}.rows"), (j.in_cols, f"{n['in']}.cols"), (j.chans, f"{n['in']}.chans"),
            (j.k_rows, f"{n['kernel']}.rows"), (j.k_cols, f"{n['kernel']}.cols"),
            (j.r_stride, f"{n['kernel']}.r_stride"), (j.c_stride, f"{n['kernel']}.c_stride"),
            (j.filters, n["filters"]),
        ):  # fmt: skip
            if value == 0:
                raise DecodeError(field, 0, "at least 1")
        for k, size, stride, out, axis in (
            (j.k_rows, j.in_rows, j.r_stride, j.out_rows, "rows"),
            (j.k_cols, j.in_cols, j.c_stride, j.out_cols, "cols"),
        ):
            if k > size:
                raise DecodeError(f"{n['kernel']}.{axis}", k, f"at most the input's {axis} ({size})")
            expected = (size - k) // stride + 1
            if out != expected:
                raise DecodeError(
                    f"{n['out']}.{axis}", out, f"(input {size} - kernel {k}) // stride {stride} + 1 = {expected}"
                )
        cb = -(-j.chans // LANES)
        ob = -(-j.filters // LANES)
        vectors = j.filters * cb * j.k_rows * j.k_cols
        if j.act_base % ENTRY_BYTES:
            raise DecodeError(n["act_base"], j.act_base, f"a {ENTRY_BYTES}-byte aligned SoC-memory address")
        _check(n["act_base"], j.act_base, j.act_base, cb * j.in_rows * j.in_cols * ENTRY_BYTES, dram_bytes,
               "activation bytes")  # fmt: skip
        wentries = -(-vectors * LANES // self.config.weights_per_entry)
        _check(n["wgt_base"], j.wgt_base, j.wgt_base, wentries, self.entries, "weight entries of spad0")
        _check(n["out_base"], j.out_base, j.out_base, ob * j.out_rows * j.out_cols, self.entries,
               "output entries of spad1")  # fmt: skip
        return cb, ob, vectors

    def _weights(self, j: ConvJob, state: State, vectors: int, cb: int) -> np.ndarray:
        """The job's weights as int64 (filters, cb, k_rows, k_cols, LANES), in the 16-bit format."""
        per = self.config.weights_per_entry
        count = -(-vectors * LANES // per)
        raw = np.ascontiguousarray(state["spad0"][j.wgt_base : j.wgt_base + count]).reshape(-1)
        if self.config.weight_bits == 16:
            w = raw.view("<i2").astype(np.int64)
        else:
            w = raw.view(np.int8).astype(np.int64) << 8  # an 8-bit weight is the high byte of a 16-bit one
        return w[: vectors * LANES].reshape(j.filters, cb, j.k_rows, j.k_cols, LANES)

    def run_conv(self, j: ConvJob, state: State) -> Update:
        """The conv engine: output-stationary, exact dot products, one rounding per output."""
        cb, ob, vectors = self._validate(j, state["dram"].shape[0])
        raw = state["dram"][j.act_base : j.act_base + cb * j.in_rows * j.in_cols * ENTRY_BYTES]
        acts = raw.view("<i2").astype(np.int64).reshape(cb, j.in_rows, j.in_cols, LANES)
        lane_valid = (np.arange(cb)[:, None] * LANES + np.arange(LANES)[None, :]) < j.chans
        acts = acts * lane_valid[:, None, None, :]
        w = self._weights(j, state, vectors, cb)
        psum = np.zeros((j.filters, j.out_rows, j.out_cols), dtype=np.int64)
        r_span, c_span = j.r_stride * (j.out_rows - 1) + 1, j.c_stride * (j.out_cols - 1) + 1
        for kr in range(j.k_rows):
            for kc in range(j.k_cols):
                patch = acts[:, kr : kr + r_span : j.r_stride, kc : kc + c_span : j.c_stride, :]
                dot = np.einsum("bxyl,fbl->fbxy", patch, w[:, :, kr, kc, :])
                psum += shift_right(dot, DOT_SHIFT, "floor").sum(axis=1)
        if not j.write_back:
            return {}
        rows = j.out_base + np.arange(ob * j.out_rows * j.out_cols)
        block = state["spad1"][rows].reshape(ob, j.out_rows, j.out_cols, LANES).astype(np.int64)
        # output channel f is lane f % 8 of block f // 8: (filters, r, c) -> (ob, r, c, lane)
        old = block.transpose(0, 3, 1, 2).reshape(ob * LANES, j.out_rows, j.out_cols)[: j.filters]
        out = epilogue(psum, old if j.accum else None, j.bias, j.act, j.threshold)
        padded = block.transpose(0, 3, 1, 2).reshape(ob * LANES, j.out_rows, j.out_cols).copy()
        padded[: j.filters] = out
        values = padded.reshape(ob, LANES, j.out_rows, j.out_cols).transpose(0, 2, 3, 1).reshape(-1, LANES)
        return {"spad1": (rows, values.astype(np.int16))}

    def reduction_trigger(self, f: Fields, state: State) -> Update:
        """REDUCTION_TRIGGER: lane-wise sum of `count` spad1 entries plus a bias, into one spad1 entry."""
        base, dest = _reg(state, "AccelReductionInBase"), _reg(state, "AccelReductionOutBase")
        count = _fields(state, "AccelReductionInputSize", REDUCTION_SIZE)["count"]
        bias = _fields(state, "AccelReductionBias", REDUCTION_BIAS)["bias"]
        _check("AccelReductionInBase", base, base, count, self.entries, "input entries of spad1")
        _check("AccelReductionOutBase", dest, dest, 1, self.entries, "output entries of spad1")
        total = (state["spad1"][base : base + count].astype(np.int64) << OUT_SHIFT).sum(axis=0)
        out = epilogue(total, None, bias, "none", 0)
        return {"spad1": (np.array([dest]), out.reshape(1, LANES).astype(np.int16))}


def _explain_undecodable(f: Fields) -> DecodeError:
    error = f.get("error")
    return error if isinstance(error, DecodeError) else DecodeError("command", disasm(f), "an HLSCNN command")


def build_model(config: HlscnnConfig | None = None, dram_bytes: int = 1 << 16) -> IlaModel:
    """The HLSCNN ILA for a configuration (default: 16-bit weights, 8192-entry scratchpads)."""
    config = config or HlscnnConfig()
    sem = HlscnnSemantics(config)

    def kind(name: str) -> Callable[[Fields, State], bool]:
        return lambda f, s: f["kind"] == name

    instructions = [
        Instruction("CFG_WR", kind("CFG_WR"), sem.cfg_write, frozenset({"cfg"})),
        Instruction("SPAD0_DATA_WR", kind("SPAD0_DATA_WR"), sem.spad_write("spad0"), frozenset({"spad0"})),
        Instruction("SPAD1_DATA_WR", kind("SPAD1_DATA_WR"), sem.spad_write("spad1"), frozenset({"spad1"})),
        Instruction("SPAD0_DATA_RD", kind("SPAD0_DATA_RD"), sem.spad_read("spad0"), frozenset({"dram"})),
        Instruction("SPAD1_DATA_RD", kind("SPAD1_DATA_RD"), sem.spad_read("spad1"), frozenset({"dram"})),
        Instruction("VIR_MEM_WR", kind("VIR_MEM_WR"), sem.vir_mem_write, frozenset({"dram"})),
        Instruction("CONV_TRIGGER", kind("CONV_TRIGGER"), sem.conv_trigger, frozenset({"spad1"})),
        Instruction("FC_TRIGGER", kind("FC_TRIGGER"), sem.fc_trigger, frozenset({"spad1"})),
        Instruction("REDUCTION_TRIGGER", kind("REDUCTION_TRIGGER"), sem.reduction_trigger, frozenset({"spad1"})),
    ]
    return IlaModel(
        "hlscnn",
        state_vars(config, dram_bytes),
        instructions,
        parse=lambda command: parse(config, command),
        unit_of=lambda f: "hlscnn",
        disasm=disasm,
        explain_undecodable=_explain_undecodable,
    )


def model_for(program: Program) -> IlaModel:
    """The HLSCNN ILA for a Program: its configuration and its SoC-memory image's size."""
    return build_model(HlscnnConfig.from_dict(program.config), int(program.memories["dram"].shape[0]))


def verilog_parameters(program: Program) -> dict[str, int]:
    """The RTL parameters for a Program's configuration."""
    return HlscnnConfig.from_dict(program.config).verilog_parameters()


ACCELERATOR = Accelerator(
    name="hlscnn",
    model_for=model_for,
    verilog_parameters=verilog_parameters,
    top="hlscnn_top",
    units=("hlscnn",),
    generators=HookRef("testbenches.hlscnn.programs:GENERATED"),
    compiler=HookRef("compiler.codegen.hlscnn:HOOKS"),
)
"""HLSCNN's plug-in (ila_models/registry.py)."""
