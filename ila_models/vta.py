"""The VTA ILA model: LOAD, STORE, GEMM, ALU and FINISH over VTA's SRAMs and DRAM.

Semantics follow docs/vta.md exactly, vectorised over buffers with numpy: every
index an instruction's loops reach is computed as an array, range-checked, and
only then read or written. The encoding lives in `ila_models.vta_isa`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ila_models.accelerator import Accelerator, HookRef
from ila_models.language import DecodeError, IlaModel, Instruction, OrderViolation, State, StateVar, Update
from ila_models.program import Program
from ila_models.vta_isa import (
    ALU_OPS,
    MEM_TYPES,
    OPCODES,
    TOKEN_BITS,
    TOKEN_QUEUES,
    UNITS,
    UOP_LAYOUT,
    VtaConfig,
    disasm,
    parse,
    unit_of,
)
from ila_models.vta_shrink import VtaShrinker

Fields = dict[str, int]

_LOAD_TARGETS = {
    MEM_TYPES["UOP"]: "uop",
    MEM_TYPES["WGT"]: "wgt",
    MEM_TYPES["INP"]: "inp",
    MEM_TYPES["ACC"]: "acc",
}


def state_vars(config: VtaConfig, dram_bytes: int) -> list[StateVar]:
    """VTA's architectural state for a configuration and a DRAM size."""
    return [
        StateVar("dram", 8, (dram_bytes,), doc="DRAM served by the harness"),
        StateVar("uop", 32, (config.uop_depth,), doc="micro-op buffer"),
        StateVar("inp", 8, (config.inp_depth, config.block_in), signed=True, doc="input buffer"),
        StateVar(
            "wgt", 8, (config.wgt_depth, config.block_out * config.block_in), signed=True, doc="weights"
        ),
        StateVar("acc", 32, (config.acc_depth, config.block_out), signed=True, doc="accumulators"),
        StateVar("out", 8, (config.acc_depth, config.block_out), signed=True, doc="output buffer"),
        StateVar("tokens", 32, (len(TOKEN_QUEUES),), doc="dependency-token counts l2c, c2l, c2s, s2c"),
        StateVar("done", 1, (1,), doc="set by FINISH"),
    ]


def _check_range(field: str, value: int, indices: np.ndarray, limit: int, what: str) -> None:
    """DecodeError naming `field` when any index the instruction reaches is outside 0..limit-1."""
    if indices.size and (indices.min() < 0 or indices.max() >= limit):
        bad = int(indices.max()) if indices.max() >= limit else int(indices.min())
        raise DecodeError(field, value, f"every index inside {what} (0..{limit - 1}), but it reaches {bad}")


def _tokens(fields: Fields, state: State, unit: str) -> Update:
    """The token-queue update of an instruction's header bits; pops need a token present."""
    counts = state["tokens"].copy()
    touched = False
    for bit in ("pop_prev", "pop_next"):
        if fields[bit]:
            queue = TOKEN_BITS[unit][bit]
            if queue is None:
                raise DecodeError(bit, 1, f"0: the {unit} unit has no {bit.split('_')[1]} neighbour")
            q = TOKEN_QUEUES.index(queue)
            if counts[q] == 0:
                raise OrderViolation(f"{unit} pops a {queue} token that no retired instruction has pushed")
            counts[q] -= 1
            touched = True
    for bit in ("push_prev", "push_next"):
        if fields[bit]:
            queue = TOKEN_BITS[unit][bit]
            if queue is None:
                raise DecodeError(bit, 1, f"0: the {unit} unit has no {bit.split('_')[1]} neighbour")
            counts[TOKEN_QUEUES.index(queue)] += 1
            touched = True
    return {"tokens": (np.arange(len(TOKEN_QUEUES)), counts)} if touched else {}


class VtaSemantics:
    """The instruction updates for one configuration."""

    def __init__(self, config: VtaConfig):
        self.config = config

    # -- memory instructions -------------------------------------------------------------------------
    def load(self, f: Fields, state: State) -> Update:
        """LOAD: a 2-D tile from DRAM into an SRAM, with zero padding on all four sides."""
        cfg = self.config
        mem = f["memory_type"]
        update = _tokens(f, state, unit_of(f))
        if f["x_size"] == 0:
            return update
        name = _LOAD_TARGETS[mem]
        sram = state[name]
        width = f["x_pad_0"] + f["x_size"] + f["x_pad_1"]
        height = f["y_pad_0"] + f["y_size"] + f["y_pad_1"]
        rows = f["sram_base"] + np.arange(height * width, dtype=np.int64)
        _check_range("sram_base", f["sram_base"], rows, sram.shape[0], f"the {name} buffer")
        eb = cfg.elem_bytes(mem)
        y = np.arange(f["y_size"], dtype=np.int64)[:, None]
        x = np.arange(f["x_size"], dtype=np.int64)[None, :]
        elem = (f["dram_base"] + y * f["x_stride"] + x).reshape(-1)
        dram = state["dram"]
        _check_range("dram_base", f["dram_base"], elem * eb + eb - 1, dram.shape[0], "DRAM bytes")
        tile = dram[(elem * eb)[:, None] + np.arange(eb)].view(sram.dtype)
        values = np.zeros((height, width, *sram.shape[1:]), dtype=sram.dtype)
        values[f["y_pad_0"] : f["y_pad_0"] + f["y_size"], f["x_pad_0"] : f["x_pad_0"] + f["x_size"]] = (
            tile.reshape((f["y_size"], f["x_size"], *sram.shape[1:]))
        )
        update[name] = (rows, values.reshape((-1, *sram.shape[1:])))
        return update

    def store(self, f: Fields, state: State) -> Update:
        """STORE: a 2-D tile of the output buffer to DRAM."""
        if f["memory_type"] != MEM_TYPES["OUT"]:
            raise DecodeError("memory_type", f["memory_type"], "OUT 4 for STORE")
        for pad in ("y_pad_0", "y_pad_1", "x_pad_0", "x_pad_1"):
            if f[pad]:
                raise DecodeError(pad, f[pad], "0: STORE does not pad")
        update = _tokens(f, state, "store")
        if f["x_size"] == 0 or f["y_size"] == 0:
            return update
        out = state["out"]
        rows = f["sram_base"] + np.arange(f["y_size"] * f["x_size"], dtype=np.int64)
        _check_range("sram_base", f["sram_base"], rows, out.shape[0], "the out buffer")
        eb = self.config.elem_bytes(MEM_TYPES["OUT"])
        y = np.arange(f["y_size"], dtype=np.int64)[:, None]
        x = np.arange(f["x_size"], dtype=np.int64)[None, :]
        addr = ((f["dram_base"] + y * f["x_stride"] + x).reshape(-1) * eb)[:, None] + np.arange(eb)
        _check_range("dram_base", f["dram_base"], addr, state["dram"].shape[0], "DRAM bytes")
        flat = addr.reshape(-1)
        data = out[rows].view(np.uint8).reshape(-1)
        # Overlapping rows (x_stride < x_size): the later write wins, as in the hardware's order.
        flat, last = np.unique(flat[::-1], return_index=True)
        update["dram"] = (flat, data[::-1][last])
        return update

    # -- compute instructions ------------------------------------------------------------------------
    def _loop_indices(
        self, f: Fields, state: State, operands: dict[str, tuple[str, str, str]]
    ) -> dict[str, np.ndarray]:
        """Each operand's row index for every (outer, inner, uop) iteration, in loop order, range-checked.

        operands: name -> (uop field, factor prefix, buffer it indexes).
        """
        if f["uop_end"] < f["uop_bgn"]:
            raise DecodeError("uop_end", f["uop_end"], f">= uop_bgn ({f['uop_bgn']})")
        uops = np.arange(f["uop_bgn"], f["uop_end"], dtype=np.int64)
        _check_range("uop_end", f["uop_end"], uops, self.config.uop_depth, "the uop buffer")
        words = state["uop"][uops].astype(np.int64)
        o = np.arange(f["iter_out"], dtype=np.int64)[:, None, None]
        i = np.arange(f["iter_in"], dtype=np.int64)[None, :, None]
        out = {}
        for name, (uop_field, factor, buffer) in operands.items():
            fld = UOP_LAYOUT.fields[uop_field]
            base = (words >> fld.lo) & fld.mask
            idx = (
                base[None, None, :] + o * f[f"{factor}_factor_out"] + i * f[f"{factor}_factor_in"]
            ).reshape(-1)
            _check_range(f"{name} index", int(idx.max(initial=0)), idx, state[buffer].shape[0], f"the {buffer} buffer")
            out[name] = idx
        return out

    @staticmethod
    def _write_acc(rows: np.ndarray, values: np.ndarray) -> Update:
        """Acc rows and their 8-bit copies in the output buffer."""
        return {"acc": (rows, values), "out": (rows, values.astype(np.int8))}

    def gemm(self, f: Fields, state: State) -> Update:
        """GEMM: acc[dst] += inp[src] . wgt[wgt]^T over the two loop levels and the uop range, or reset."""
        cfg = self.config
        idx = self._loop_indices(
            f,
            state,
            {
                "dst": ("dst_idx", "dst", "acc"),
                "src": ("src_idx", "src", "inp"),
                "wgt": ("wgt_idx", "wgt", "wgt"),
            },
        )
        update = _tokens(f, state, "compute")
        rows, inverse = _unique_rows(idx["dst"], cfg.acc_depth)
        if f["reset_reg"]:
            values = np.zeros((rows.size, cfg.block_out), dtype=np.int32)
        else:
            # float32 is exact here: |sum_k x*w| <= BLOCK_IN * 2^14 < 2^24 for BLOCK_IN <= 1024
            x = state["inp"][idx["src"]].astype(np.float32)[:, :, None]
            w = state["wgt"][idx["wgt"]].astype(np.float32).reshape(-1, cfg.block_out, cfg.block_in)
            products = np.matmul(w, x)[:, :, 0]
            # float64 sums are exact: each product is < 2^18 and no loop nest reaches 2^35 iterations
            lanes = (inverse[:, None] * cfg.block_out + np.arange(cfg.block_out)).reshape(-1)
            sums = np.bincount(lanes, weights=products.reshape(-1), minlength=rows.size * cfg.block_out)
            sums = sums.astype(np.int64).reshape(rows.size, cfg.block_out)
            values = (state["acc"][rows].astype(np.int64) + sums).astype(np.int32)  # wraps mod 2^32
        update.update(self._write_acc(rows, values))
        return update

    def alu(self, f: Fields, state: State) -> Update:
        """ALU: acc[dst] = op(acc[dst], imm or acc[src]), elementwise, in loop order."""
        idx = self._loop_indices(
            f, state, {"dst": ("dst_idx", "dst", "acc"), "src": ("src_idx", "src", "acc")}
        )
        op = _ALU_FUNCS[f["alu_opcode"]]
        update = _tokens(f, state, "compute")
        dst, src = idx["dst"], idx["src"]
        touched, _ = _unique_rows(dst, self.config.acc_depth)
        if f["reset_reg"]:
            update.update(self._write_acc(touched, np.zeros((touched.size, self.config.block_out), np.int32)))
            return update
        acc = state["acc"].copy() if dst.size else state["acc"]
        imm = np.int64(f["imm"]) if f["use_imm"] else None
        for start, end in _hazard_free_runs(dst, None if f["use_imm"] else src):
            d = dst[start:end]
            b = np.broadcast_to(imm, (d.size, 1)) if imm is not None else acc[src[start:end]].astype(np.int64)
            acc[d] = op(acc[d].astype(np.int64), b).astype(np.int32)
        update.update(self._write_acc(touched, acc[touched]))
        return update

    def finish(self, f: Fields, state: State) -> Update:
        """FINISH: raise the done flag."""
        update = _tokens(f, state, "compute")
        update["done"] = (np.array([0]), np.array([1], dtype=np.uint8))
        return update


def _unique_rows(indices: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct rows of a buffer of `depth` rows, and each index's position among them."""
    present = np.zeros(depth, dtype=bool)
    present[indices] = True
    rows = np.flatnonzero(present)
    position = np.cumsum(present) - 1
    return rows, position[indices]


def _wrap32(v: np.ndarray) -> np.ndarray:
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _shr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The hardware's shift: the low 6 bits of b as signed; >= 0 shifts right (arithmetic), < 0 left."""
    s = ((b & 0x3F) ^ 0x20) - 0x20
    right = a >> np.clip(s, 0, 31)
    left = _wrap32((a & 0xFFFFFFFF) << np.clip(-s, 0, 32))
    return np.where(s >= 0, right, left)


_ALU_FUNCS: dict[int, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ALU_OPS["MIN"]: np.minimum,
    ALU_OPS["MAX"]: np.maximum,
    ALU_OPS["ADD"]: lambda a, b: _wrap32(a + b),
    ALU_OPS["SHR"]: _shr,
    ALU_OPS["MUL"]: lambda a, b: _wrap32(a * b),
}


def _previous_occurrence(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each t, the largest t' < t with keys[t'] == queries[t], or -1."""
    n = keys.size
    coded = np.sort(keys * (n + 1) + np.arange(n))
    q = queries * (n + 1) + np.arange(n)
    pos = np.searchsorted(coded, q, side="left") - 1
    cand = coded[np.maximum(pos, 0)]
    ok = (pos >= 0) & (cand // (n + 1) == queries)
    return np.where(ok, cand % (n + 1), -1)


def _hazard_free_runs(dst: np.ndarray, src: np.ndarray | None) -> list[tuple[int, int]]:
    """Split the iterations into runs that can be applied at once with the sequential result.

    A run ends before an iteration that writes a row already written in the run, or
    reads a row the run wrote (reads of rows written later are fine: reads come first).
    """
    n = dst.size
    if n == 0:
        return []
    blockers = _previous_occurrence(dst, dst)
    if src is not None:
        blockers = np.maximum(blockers, _previous_occurrence(dst, src))
    runs, start = [], 0
    while start < n:
        conflict = np.nonzero(blockers[start + 1 :] >= start)[0]
        end = start + 1 + int(conflict[0]) if conflict.size else n
        runs.append((start, end))
        start = end
    return runs


def _explain_undecodable(f: Fields) -> DecodeError:
    """Why no instruction decodes `f`: the field that is out of its encoding's range."""
    if f["opcode"] not in OPCODES.values():
        return DecodeError("opcode", f["opcode"], "LOAD 0, STORE 1, GEMM 2, FINISH 3 or ALU 4")
    if f["opcode"] == OPCODES["LOAD"]:
        return DecodeError("memory_type", f["memory_type"], "UOP 0, WGT 1, INP 2 or ACC 3 for LOAD")
    return DecodeError("alu_opcode", f.get("alu_opcode"), "MIN 0, MAX 1, ADD 2, SHR 3 or MUL 4")


def build_model(config: VtaConfig | None = None, dram_bytes: int = 1 << 20) -> IlaModel:
    """The VTA ILA for a configuration (default: the real 1x16x16) and a DRAM size."""
    config = config or VtaConfig()
    sem = VtaSemantics(config)
    op = OPCODES
    mt = MEM_TYPES

    def is_load(mem: int) -> Callable[[Fields, State], bool]:
        return lambda f, s: f["opcode"] == op["LOAD"] and f["memory_type"] == mem

    def is_alu(code: int) -> Callable[[Fields, State], bool]:
        return lambda f, s: f["opcode"] == op["ALU"] and f["alu_opcode"] == code

    tok = frozenset({"tokens"})
    instructions = [
        *(
            Instruction(f"LOAD_{name}", is_load(mt[name]), sem.load, frozenset({target}) | tok)
            for name, target in (("UOP", "uop"), ("WGT", "wgt"), ("INP", "inp"), ("ACC", "acc"))
        ),
        Instruction("STORE", lambda f, s: f["opcode"] == op["STORE"], sem.store, frozenset({"dram"}) | tok),
        Instruction(
            "GEMM", lambda f, s: f["opcode"] == op["GEMM"], sem.gemm, frozenset({"acc", "out"}) | tok
        ),
        *(
            Instruction(f"ALU_{name}", is_alu(code), sem.alu, frozenset({"acc", "out"}) | tok)
            for name, code in ALU_OPS.items()
        ),
        Instruction(
            "FINISH", lambda f, s: f["opcode"] == op["FINISH"], sem.finish, frozenset({"done"}) | tok
        ),
    ]
    return IlaModel(
        "vta",
        state_vars(config, dram_bytes),
        instructions,
        parse=parse,
        unit_of=unit_of,
        disasm=disasm,
        explain_undecodable=_explain_undecodable,
    )


def model_for(program: Program) -> IlaModel:
    """The VTA ILA for a Program: its configuration and its DRAM image's size."""
    return build_model(VtaConfig.from_dict(program.config), int(program.memories["dram"].shape[0]))


def verilog_parameters(program: Program) -> dict[str, int]:
    """The RTL parameters for a Program's configuration."""
    return VtaConfig.from_dict(program.config).verilog_parameters()


ACCELERATOR = Accelerator(
    name="vta",
    model_for=model_for,
    verilog_parameters=verilog_parameters,
    top="vta_top",
    units=UNITS,
    generators=HookRef("testbenches.vta.programs:GENERATED"),
    compiler=HookRef("compiler.codegen.vta:HOOKS"),
    shrinker=VtaShrinker(),
)
"""VTA's plug-in (ila_models/registry.py)."""
