"""FlexASR global-buffer operations: timestep addressing, GB control (RNN/linear layers over the PEs),
layer reduce, layer norm and zero padding. Pure functions of the state; they return Updates.

Timestep layout in the large buffer (flexnlp-ila gb_control.cc): timesteps are grouped by 16;
vector v of timestep t of a memory block with base B (in vectors) and N vectors per timestep is
row B + (t // 16) * 16 N + (t % 16) + 16 v.
"""

from __future__ import annotations

import numpy as np

from ila_models import adaptivfloat as af
from ila_models.flexasr_isa import GB_CONFIGS, LANES, NUM_PES, PE_CONFIGS, config_fields
from ila_models.flexasr_pe import ActUnit, bias_stage, code_values, mac_values
from ila_models.language import DecodeError, State, Update

GB_ROWS = {name: row for row, name in enumerate(GB_CONFIGS)}
PE_ROWS = {name: row for row, name in enumerate(PE_CONFIGS)}


def gb_config(state: State, name: str) -> dict[str, int]:
    """The fields of GB configuration register `name`."""
    return config_fields(name, state["gb_config"][GB_ROWS[name]])


def pe_config(state: State, pe: int, name: str) -> dict[str, int]:
    """The fields of PE `pe`'s configuration register `name`."""
    return config_fields(name, state[f"pe{pe}_config"][PE_ROWS[name]])


def require_valid(op: str, cfg: dict[str, int]) -> None:
    if not cfg["is_valid"]:
        raise DecodeError(f"{op}.is_valid", 0, f"1: write a valid {op} configuration before starting it")


def timestep_rows(
    base: int, num_vector: int, timestep: np.ndarray | int, limit: int, field: str
) -> np.ndarray:
    """Rows of every vector of the timestep(s): shape (..., num_vector); DecodeError when out of the buffer."""
    t = np.asarray(timestep, dtype=np.int64)[..., None]
    v = np.arange(num_vector, dtype=np.int64)
    rows = base + (t // 16) * 16 * num_vector + (t % 16) + 16 * v
    if rows.size and rows.max() >= limit:
        raise DecodeError(
            field,
            base,
            f"every row of the operation inside the buffer (0..{limit - 1}); it reaches {int(rows.max())}",
        )
    return rows


def large_base(state: State, index: int) -> int:
    return gb_config(state, "mem_mngr_large")[f"base_large_{index}"]


def small_base(state: State, index: int) -> int:
    return gb_config(state, "mem_mngr_small")[f"base_small_{index}"]


def block_rows(state: State, cfg: dict[str, int], timestep: np.ndarray | int) -> np.ndarray:
    """Large-buffer rows of the operation's block (memory_index_1, num_vector_1) at the timestep(s)."""
    return timestep_rows(
        large_base(state, cfg["memory_index_1"]),
        cfg["num_vector_1"],
        timestep,
        state["gb_large"].shape[0],
        "mem_mngr_large.base_large",
    )


# -- layer reduce, layer norm, zero padding ------------------------------------------------------------
def layer_reduce(state: State) -> Update:
    """Pairs of timesteps (2j, 2j+1) -> timestep j, in place: max (0), mean (1) or sum (2) per element.

    Both operands share the block's bias, so the operation runs on fixed values with bias 0 and
    re-encodes with bias 0 (exactly what any common bias gives): max picks the larger value,
    mean encodes (a+b)/2 and add encodes a+b, both rounded and clamped by the encoder.
    """
    cfg = gb_config(state, "layer_reduce")
    require_valid("layer_reduce", cfg)
    pairs = cfg["num_timestep_1"] // 2
    if pairs == 0 or cfg["num_vector_1"] == 0:
        return {}
    large = state["gb_large"]
    src0 = block_rows(state, cfg, 2 * np.arange(pairs))
    src1 = block_rows(state, cfg, 2 * np.arange(pairs) + 1)
    dst = block_rows(state, cfg, np.arange(pairs)).reshape(-1)
    a, b = af.to_fixed(large[src0], 0), af.to_fixed(large[src1], 0)
    if cfg["mode"] == 0:
        out = af.from_fixed(np.maximum(a, b), 0)
    elif cfg["mode"] == 1:
        out = af.from_fixed(a + b, 0, frac=15)
    else:
        out = af.from_fixed(a + b, 0)
    # Pairs are processed in order: timestep j is written after pairs < j are read; no overlap
    # hazard since j <= 2j.
    return {"gb_large": (dst, out.reshape(-1, LANES))}


def isqrt(x: np.ndarray) -> np.ndarray:
    """floor(sqrt(x)) of non-negative int64 (< 2^52), exact."""
    x = np.asarray(x, dtype=np.int64)
    r = np.floor(np.sqrt(x.astype(np.float64))).astype(np.int64)
    r = np.where(r * r > x, r - 1, r)
    return np.where((r + 1) * (r + 1) <= x, r + 1, r)


def layer_norm(state: State) -> Update:
    """Per timestep over its num_vector_1 * 16 elements, in 14-fraction fixed point:
    mean = floor(sum/N); d = x - mean; var = floor(sum(d^2)/N) (28 fractional bits);
    rstd = floor(2^28 / max(1, isqrt(var))); y = (d * rstd) >> 14;
    z = ((y * gamma) >> 14) + beta; encoded with adpbias_1. x has bias adpbias_1; gamma is
    the small buffer block 5 (adpbias_3), beta block 6 (adpbias_4), one element per element of a timestep.
    """
    cfg = gb_config(state, "layer_norm")
    require_valid("layer_norm", cfg)
    nv, nt = cfg["num_vector_1"], cfg["num_timestep_1"]
    if nv == 0 or nt == 0:
        return {}
    large, small = state["gb_large"], state["gb_small"]
    rows = block_rows(state, cfg, np.arange(nt))
    x = af.to_fixed(large[rows], cfg["adpbias_1"]).reshape(nt, nv * LANES)
    n = nv * LANES
    mean = np.floor_divide(x.sum(axis=1), n)[:, None]
    d = x - mean
    var = np.floor_divide((d * d).sum(axis=1), n)[:, None]
    rstd = np.floor_divide(1 << 28, np.maximum(isqrt(var), 1))
    y = (d * rstd) >> 14
    g_rows = small_base(state, 5) + np.arange(nv)
    b_rows = small_base(state, 6) + np.arange(nv)
    if max(g_rows.max(), b_rows.max()) >= small.shape[0]:
        raise DecodeError(
            "mem_mngr_small.base_small_5/6",
            (small_base(state, 5), small_base(state, 6)),
            "gamma and beta inside the small buffer",
        )
    gamma = af.to_fixed(small[g_rows], cfg["adpbias_3"]).reshape(-1)
    beta = af.to_fixed(small[b_rows], cfg["adpbias_4"]).reshape(-1)
    z = ((y * gamma) >> 14) + beta
    out = af.from_fixed(z, cfg["adpbias_1"]).reshape(nt * nv, LANES)
    return {"gb_large": (rows.reshape(-1), out)}


def zero_padding(state: State) -> Update:
    """Zero every vector of timesteps num_timestep_1 .. num_timestep_2 - 1 of block memory_index_1."""
    cfg = gb_config(state, "zero_padding")
    require_valid("zero_padding", cfg)
    t = np.arange(cfg["num_timestep_1"], cfg["num_timestep_2"])
    if t.size == 0 or cfg["num_vector_1"] == 0:
        return {}
    rows = block_rows(state, cfg, t).reshape(-1)
    return {"gb_large": (rows, np.zeros((rows.size, LANES), dtype=np.uint8))}


# -- GB control: a layer over the PEs -----------------------------------------------------------------
def timestep_index(mode: int, t: int, num_timestep: int) -> int:
    """The stored timestep the t-th step of the layer works on (uni, bi-forward, bi-backward, decode)."""
    return (t, 2 * t, 2 * (num_timestep - 1 - t) + 1, 0)[mode]


CorePlan = list[tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray | None]]


def pe_core(
    state: State,
    pe: int,
    weight: np.ndarray,
    inputs: np.ndarray,
    sizing: dict[str, int],
    plans: dict[tuple[int, bytes, int, int], CorePlan] | None = None,
) -> np.ndarray:
    """The PE core's output vectors in order (output o, then manager m): (num_output * num_manager, 16).

    `plans`: a cache of `_core_plan` for one GB_CONTROL run (the weights and the PE's manager
    configuration do not change during it; the key holds everything the plan depends on)."""
    if plans is None:
        plan = _core_plan(state, pe, weight, inputs.shape[0], sizing)
    else:
        key = (pe, state[f"pe{pe}_config"][:5].tobytes(), inputs.shape[0], id(weight))
        cached = plans.get(key)
        if cached is None:
            cached = plans[key] = _core_plan(state, pe, weight, inputs.shape[0], sizing)
        plan = cached
    no = sizing["num_output"]
    per_manager = []
    for mg, in_rows, bias_rows, wvals in plan:
        if wvals is None:
            acc = np.zeros((no, LANES), dtype=np.int64)
        else:
            acc = mac_values(wvals, inputs[in_rows].reshape(-1))
        bias = inputs[bias_rows] if sizing["is_bias"] else None
        per_manager.append(
            bias_stage(acc, bias, mg["adpfloat_bias_w"], mg["adpfloat_bias_i"], mg["adpfloat_bias_b"])
        )
    if not per_manager:
        return np.zeros((0, LANES), dtype=np.int64)
    if len(per_manager) == 1:
        return per_manager[0].reshape(-1, LANES)
    return np.stack(per_manager, axis=1).reshape(-1, LANES)


def _core_plan(
    state: State, pe: int, weight: np.ndarray, num_inputs: int, sizing: dict[str, int]
) -> CorePlan:
    """Per manager: its configuration, input rows, bias rows and weights as `code_values`
    (no, 16, ni * 16) (None when the manager contributes zero accumulators); DecodeErrors as checked."""
    managers = [pe_config(state, pe, n) for n in ("mem_mngr_first", "mem_mngr_second")][
        : sizing["num_manager"]
    ]
    tables = [state[f"pe{pe}_config"][PE_ROWS[n]] for n in ("cluster_table_first", "cluster_table_second")]
    no = sizing["num_output"]
    plan: CorePlan = []
    for m, mg in enumerate(managers):
        ni = mg["num_input"]
        field = f"pe{pe}.mem_mngr_{('first', 'second')[m]}"
        in_rows = mg["base_input"] + np.arange(ni)
        bias_rows = mg["base_bias"] + np.arange(no)
        if (ni and in_rows.max() >= num_inputs) or (no and bias_rows.max() >= num_inputs):
            raise DecodeError(
                f"{field}.base_input/base_bias",
                (mg["base_input"], mg["base_bias"]),
                f"rows inside the {num_inputs}-vector input buffer",
            )
        zero = sizing["is_zero_first"] and mg["zero_active"]
        wvals = None
        if not (zero or ni == 0):
            block = 8 if sizing["is_cluster"] else 16
            starts = mg["base_weight"] + (np.arange(no)[:, None] * ni + np.arange(ni)[None, :]) * block
            if (starts.max() + block) > weight.shape[0]:
                raise DecodeError(
                    f"{field}.base_weight",
                    mg["base_weight"],
                    f"weights inside the {weight.shape[0]}-vector weight buffer",
                )
            rows = starts[..., None] + np.arange(block)  # (no, ni, block)
            raw = weight[rows]  # (no, ni, block, 16)
            if sizing["is_cluster"]:
                nib = np.stack([raw & 15, raw >> 4], axis=3).reshape(no, ni, 16, 16)
                w = tables[m][nib]
            else:
                w = raw
            wvals = code_values(w.transpose(0, 2, 1, 3).reshape(no, 16, ni * 16))
        plan.append((mg, in_rows, bias_rows, wvals))
    return plan


def gb_control(state: State) -> Update:
    """Run a layer: per timestep, send x to every valid PE (manager 1 inputs), run the PE cores and
    activation units, collect OUTGB vectors into block memory_index_2, and (is_rnn) send the new
    hidden state back to the PEs' manager 2 inputs. Mode 3 (decode) uses the small buffer."""
    cfg = gb_config(state, "gb_control")
    require_valid("gb_control", cfg)
    mode, nt = cfg["mode"], cfg["num_timestep_1"]
    small = mode == 3
    buf_name = "gb_small" if small else "gb_large"
    buf = state[buf_name].copy()
    pes = [p for p in range(NUM_PES) if pe_config(state, p, "rnn_layer_sizing")["is_valid"]]
    if not pes:
        raise DecodeError("rnn_layer_sizing.is_valid", 0, "1 in at least one PE before GB_CONTROL starts")
    inputs = {p: state[f"pe{p}_input"].copy() for p in pes}
    acts = {p: state[f"pe{p}_act"].copy() for p in pes}
    configs = {p: state[f"pe{p}_config"].copy() for p in pes}
    base_fn = small_base if small else large_base
    plans: dict[tuple[int, bytes, int, int], CorePlan] = {}  # pe_core's plans for this run
    written: list[int] = []  # the rows of buf the run wrote (the only ones that can differ)

    def rows_of(index: int, nv: int, ts: int, field: str) -> np.ndarray:
        base = base_fn(state, index)
        if small:
            r = base + np.arange(nv)
            if nv and r.max() >= buf.shape[0]:
                raise DecodeError(field, base, "rows inside the small buffer")
            return r
        return timestep_rows(base, nv, ts, buf.shape[0], field)

    for t in range(nt):
        ts = timestep_index(mode, t, nt)
        x_rows = rows_of(cfg["memory_index_1"], cfg["num_vector_1"], ts, "gb_control.memory_index_1")
        for p in pes:
            base_in = config_fields("mem_mngr_first", configs[p][PE_ROWS["mem_mngr_first"]])["base_input"]
            dst = base_in + np.arange(x_rows.size)
            if x_rows.size and dst.max() >= inputs[p].shape[0]:
                raise DecodeError(
                    f"pe{p}.mem_mngr_first.base_input", base_in, "x vectors inside the input buffer"
                )
            inputs[p][dst] = buf[x_rows]
        out_rows = rows_of(cfg["memory_index_2"], cfg["num_vector_2"], ts, "gb_control.memory_index_2")
        for p in pes:
            sub = {**state, f"pe{p}_config": configs[p]}
            sizing = pe_config(sub, p, "rnn_layer_sizing")
            core_out = pe_core(sub, p, state[f"pe{p}_weight"], inputs[p], sizing, plans)
            configs[p][PE_ROWS["rnn_layer_sizing"], 1] = 0  # is_zero_first holds for one timestep
            act_cfg = pe_config(sub, p, "act_mngr")
            if not act_cfg["is_valid"]:
                continue
            raw = configs[p][[PE_ROWS["act_vector_0_15"], PE_ROWS["act_vector_16_31"]]].reshape(-1)
            unit = ActUnit(p, [int(i) for i in raw[: act_cfg["num_inst"]]], core_out, acts[p], act_cfg)
            unit.run()
            configs[p][PE_ROWS["act_mngr"], 1] = 0
            for vec, codes in unit.outputs:
                if vec >= out_rows.size:
                    raise DecodeError(
                        f"pe{p}.act_mngr.output_addr_base", act_cfg["output_addr_base"],
                        f"OUTGB vectors below gb_control.num_vector_2={out_rows.size}",
                    )  # fmt: skip
                buf[out_rows[vec]] = codes
                written.append(int(out_rows[vec]))
        if cfg["is_rnn"]:
            for p in pes:
                base_in = config_fields("mem_mngr_second", configs[p][PE_ROWS["mem_mngr_second"]])[
                    "base_input"
                ]
                dst = base_in + np.arange(out_rows.size)
                if out_rows.size and dst.max() >= inputs[p].shape[0]:
                    raise DecodeError(
                        f"pe{p}.mem_mngr_second.base_input", base_in, "h vectors inside the input buffer"
                    )
                inputs[p][dst] = buf[out_rows]
    changes: list[tuple[str, np.ndarray, np.ndarray | None]] = [
        (buf_name, buf, np.unique(np.array(written, dtype=np.intp)))
    ]
    for p in pes:
        changes += [
            (f"pe{p}_input", inputs[p], None), (f"pe{p}_act", acts[p], None), (f"pe{p}_config", configs[p], None)
        ]  # fmt: skip
    return changed_rows(state, changes)


def changed_rows(state: State, changes: list[tuple[str, np.ndarray, np.ndarray | None]]) -> Update:
    """The rows of each new value that differ from the state (what an operation wrote); a change's
    third item, when given, holds (sorted, unique) the only rows that can differ."""
    update: Update = {}
    for name, value, candidates in changes:
        if candidates is None:
            rows = np.nonzero(np.any(value != state[name], axis=1))[0]
        else:
            rows = candidates[np.any(value[candidates] != state[name][candidates], axis=1)]
        if rows.size:
            update[name] = (rows, value[rows])
    return update


# -- attention -----------------------------------------------------------------------------------------
ATTN_FRAC = 20  # scores, exp and softmax weights: 32-bit fixed point with 20 fractional bits
LOG2E_Q20 = 1512775  # round(log2(e) * 2^20)
# 2^(i/16) * 2^20 rounded to nearest, i = 0..16: the knots of the piecewise-linear 2^f on [0, 1)
EXP2_TABLE = np.array(
    [1048576, 1095000, 1143480, 1194106, 1246974, 1302182, 1359835, 1420040, 1482910,
     1548564, 1617125, 1688722, 1763488, 1841564, 1923097, 2008240, 2097152],
    dtype=np.int64,
)  # fmt: skip
ATTN_MAX_TIMESTEPS = 4095  # the sum of the exponentials stays below 2^32 (the divider's divisor)


def attention_exp(d: np.ndarray) -> np.ndarray:
    """exp(d / 2^20) * 2^20 for Q20 integers d <= 0, as the RTL computes it:
    y = (d * LOG2E_Q20) >> 20 (floor); y = -n * 2^20 + f with 0 <= f < 2^20;
    2^(f / 2^20) = T[i] + (((T[i+1] - T[i]) * r) >> 16) with i = f >> 16, r = f & 0xFFFF;
    result = that >> n (floor; 0 once n >= 21)."""
    y = (np.asarray(d, dtype=np.int64) * LOG2E_Q20) >> ATTN_FRAC
    n = -(y >> ATTN_FRAC)
    f = y & ((1 << ATTN_FRAC) - 1)
    i, r = f >> 16, f & 0xFFFF
    frac = EXP2_TABLE[i] + (((EXP2_TABLE[i + 1] - EXP2_TABLE[i]) * r) >> 16)
    return np.where(n >= 21, 0, frac >> np.minimum(n, 21))


def attention(state: State) -> Update:
    """Dot-product attention of a query against the timesteps of a block (docs/flexasr.md):

    q = small block memory_index_2 (num_vector_1 vectors, adpbias_2); K = large block memory_index_1,
    timesteps 0..T-1 (T = num_timestep_1), num_vector_1 vectors each (adpbias_1), keys = values.
    Integers: q, K with 14 fractional bits; s_t = sat32((K_t . q) >> 8) (Q20); d_t = s_t - max s;
    e_t = attention_exp(d_t); S = sum e_t; R = floor(2^52 / S); w_t = (e_t R) >> 32 (Q20 softmax);
    c = (sum_t w_t K_t) >> 20 (Q14). Writes c (adpbias_4) to the small rows after the query and the
    weights w (adpbias_3, 16 per row, lane t % 16, zero past T) to the rows after c.
    """
    cfg = gb_config(state, "attention")
    require_valid("attention", cfg)
    nv, nt = cfg["num_vector_1"], cfg["num_timestep_1"]
    if nv == 0 or nt == 0:
        return {}
    if nt > ATTN_MAX_TIMESTEPS:
        raise DecodeError("attention.num_timestep_1", nt, f"at most {ATTN_MAX_TIMESTEPS} timesteps")
    large, small = state["gb_large"], state["gb_small"]
    rows = block_rows(state, cfg, np.arange(nt))
    qbase = small_base(state, cfg["memory_index_2"])
    n_w = (nt + LANES - 1) // LANES
    if qbase + 2 * nv + n_w > small.shape[0]:
        raise DecodeError(
            f"mem_mngr_small.base_small_{cfg['memory_index_2']}",
            qbase,
            f"query, context and {n_w} weight rows inside the small buffer (rows up to {qbase + 2 * nv + n_w - 1})",
        )
    k = af.to_fixed(large[rows], cfg["adpbias_1"]).reshape(nt, nv * LANES)
    q = af.to_fixed(small[qbase : qbase + nv], cfg["adpbias_2"]).reshape(-1)
    s = np.clip((k @ q) >> 8, -(1 << 31), (1 << 31) - 1)
    e = attention_exp(s - s.max())
    recip = (1 << 52) // int(e.sum())
    w = (e * recip) >> 32
    c = (w @ k) >> ATTN_FRAC
    ctx = af.from_fixed(c, cfg["adpbias_4"]).reshape(nv, LANES)
    wcodes = np.zeros(n_w * LANES, dtype=np.uint8)
    wcodes[:nt] = af.from_fixed(w, cfg["adpbias_3"], frac=ATTN_FRAC)
    out_rows = qbase + nv + np.arange(nv + n_w)
    return {"gb_small": (out_rows, np.concatenate([ctx, wcodes.reshape(n_w, LANES)]))}
