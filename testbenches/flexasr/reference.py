"""Float references for FlexASR operations, computed from the same decoded operands as the ILA.

Each function takes an ILA state snapshot taken just before a START command and returns, in
float64, what the operation computes with real arithmetic: AdaptivFloat operands are decoded
exactly, but sums, products, sigmoid/tanh (the real functions), division and square root
are not rounded, and nothing is re-quantized in between (the LSTM cell and hidden state
stay float across timesteps). Comparing the ILA's decoded result against these measures the
error of FlexASR's arithmetic; the tolerances are in docs/flexasr.md.
"""

from __future__ import annotations

import numpy as np

from ila_models import adaptivfloat as af
from ila_models import flexasr_gb as gb
from ila_models.flexasr_isa import LANES, NUM_PES
from ila_models.language import State


def layer_reduce(state: State) -> tuple[np.ndarray, np.ndarray]:
    """(rows written, float values with bias 0) of LAYER_REDUCE."""
    cfg = gb.gb_config(state, "layer_reduce")
    pairs = cfg["num_timestep_1"] // 2
    large = state["gb_large"]
    base = gb.large_base(state, cfg["memory_index_1"])
    nv = cfg["num_vector_1"]
    a = af.decode(large[gb.timestep_rows(base, nv, 2 * np.arange(pairs), large.shape[0], "")], 0)
    b = af.decode(large[gb.timestep_rows(base, nv, 2 * np.arange(pairs) + 1, large.shape[0], "")], 0)
    out = (np.maximum(a, b), (a + b) / 2, a + b)[cfg["mode"]]
    return gb.timestep_rows(base, nv, np.arange(pairs), large.shape[0], "").reshape(-1), out.reshape(
        -1, LANES
    )


def layer_norm(state: State, eps: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(rows written, float values) of LAYER_NORM (population variance)."""
    cfg = gb.gb_config(state, "layer_norm")
    nv, nt = cfg["num_vector_1"], cfg["num_timestep_1"]
    large, small = state["gb_large"], state["gb_small"]
    rows = gb.timestep_rows(
        gb.large_base(state, cfg["memory_index_1"]), nv, np.arange(nt), large.shape[0], ""
    )
    x = af.decode(large[rows], cfg["adpbias_1"]).reshape(nt, nv * LANES)
    gamma = af.decode(small[gb.small_base(state, 5) + np.arange(nv)], cfg["adpbias_3"]).reshape(-1)
    beta = af.decode(small[gb.small_base(state, 6) + np.arange(nv)], cfg["adpbias_4"]).reshape(-1)
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    y = (x - mean) / np.sqrt(np.maximum(var, 2.0**-28) + eps) * gamma + beta
    return rows.reshape(-1), y.reshape(-1, LANES)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_FLOAT_OPS = {
    0x7: lambda a2, a1: a1,
    0x8: lambda a2, a1: a2 + a1,
    0x9: lambda a2, a1: a2 * a1,
    0xA: lambda a2, a1: _sigmoid(a2),
    0xB: lambda a2, a1: np.tanh(a2),
    0xC: lambda a2, a1: np.maximum(a2, 0.0),
    0xD: lambda a2, a1: 1.0 - a2,
}


def _core(state: State, pe: int, inputs: np.ndarray, zero_first: bool) -> list[np.ndarray]:
    sizing = gb.pe_config(state, pe, "rnn_layer_sizing")
    tables = [state[f"pe{pe}_config"][gb.PE_ROWS[n]] for n in ("cluster_table_first", "cluster_table_second")]
    per_manager = []
    no = sizing["num_output"]
    for m, name in enumerate(("mem_mngr_first", "mem_mngr_second")[: sizing["num_manager"]]):
        mg = gb.pe_config(state, pe, name)
        ni = mg["num_input"]
        block = 8 if sizing["is_cluster"] else 16
        starts = mg["base_weight"] + (np.arange(no)[:, None] * ni + np.arange(ni)[None, :]) * block
        raw = state[f"pe{pe}_weight"][starts[..., None] + np.arange(block)]
        if sizing["is_cluster"]:
            raw = tables[m][np.stack([raw & 15, raw >> 4], axis=3).reshape(no, ni, 16, 16)]
        w = af.decode(raw, mg["adpfloat_bias_w"]).transpose(0, 2, 1, 3).reshape(no, 16, ni * 16)
        x = inputs[mg["base_input"] : mg["base_input"] + ni].reshape(-1)
        acc = np.zeros((no, 16)) if (zero_first and mg["zero_active"]) else w @ x
        if sizing["is_bias"]:
            acc = acc + af.decode(
                state[f"pe{pe}_input"][mg["base_bias"] + np.arange(no)], mg["adpfloat_bias_b"]
            )
        per_manager.append(acc)
    return [pm[o] for o in range(no) for pm in per_manager]


def gb_control(state: State) -> tuple[np.ndarray, np.ndarray]:
    """(rows written, float values of every timestep's outputs) of GB_CONTROL in uni mode (0).

    Inputs x are decoded with each PE's manager-1 input bias; the hidden state fed back is float.
    """
    cfg = gb.gb_config(state, "gb_control")
    if cfg["mode"] != 0:
        raise NotImplementedError(f"float reference of gb_control mode {cfg['mode']}")
    large = state["gb_large"]
    nt = cfg["num_timestep_1"]
    pes = [p for p in range(NUM_PES) if gb.pe_config(state, p, "rnn_layer_sizing")["is_valid"]]
    inputs = {}
    for p in pes:
        codes = state[f"pe{p}_input"]
        m1 = gb.pe_config(state, p, "mem_mngr_first")
        inputs[p] = af.decode(codes, m1["adpfloat_bias_i"])
        if gb.pe_config(state, p, "rnn_layer_sizing")["num_manager"] == 2:
            m2 = gb.pe_config(state, p, "mem_mngr_second")
            inputs[p][m2["base_input"] :] = af.decode(codes[m2["base_input"] :], m2["adpfloat_bias_i"])
    acts = {
        p: af.decode(state[f"pe{p}_act"], gb.pe_config(state, p, "act_mngr")["adpfloat_bias"]) for p in pes
    }
    zero = {p: bool(gb.pe_config(state, p, "rnn_layer_sizing")["is_zero_first"]) for p in pes}
    act_zero = {p: bool(gb.pe_config(state, p, "act_mngr")["is_zero_first"]) for p in pes}
    all_rows, all_values = [], []
    for t in range(nt):
        x_rows = gb.timestep_rows(
            gb.large_base(state, cfg["memory_index_1"]), cfg["num_vector_1"], t, large.shape[0], ""
        )
        out_rows = gb.timestep_rows(
            gb.large_base(state, cfg["memory_index_2"]), cfg["num_vector_2"], t, large.shape[0], ""
        )
        out = np.zeros((out_rows.size, LANES))
        for p in pes:
            m1 = gb.pe_config(state, p, "mem_mngr_first")
            inputs[p][m1["base_input"] + np.arange(x_rows.size)] = af.decode(
                large[x_rows], m1["adpfloat_bias_i"]
            )
        for p in pes:
            core = _core(state, p, inputs[p], zero[p])
            zero[p] = False
            act = gb.pe_config(state, p, "act_mngr")
            raw = state[f"pe{p}_config"][
                [gb.PE_ROWS["act_vector_0_15"], gb.PE_ROWS["act_vector_16_31"]]
            ].reshape(-1)
            regs = np.zeros((4, 16))
            taken = 0
            for o in range(act["num_output"]):
                slot = act["buffer_addr_base"] + o
                for inst in raw[: act["num_inst"]]:
                    op, a2, a1 = int(inst) >> 4, (int(inst) >> 2) & 3, int(inst) & 3
                    if op in _FLOAT_OPS:
                        regs[a2] = _FLOAT_OPS[op](regs[a2], regs[a1])
                    elif op == 1:
                        regs[a2] = 0.0 if act_zero[p] else acts[p][slot]
                    elif op == 2:
                        acts[p][slot] = regs[a2]
                    elif op == 3:
                        regs[a2] = core[taken]
                        taken += 1
                    elif op == 4:
                        out[act["output_addr_base"] + o] = regs[a2]
            act_zero[p] = False
        if cfg["is_rnn"]:
            for p in pes:
                m2 = gb.pe_config(state, p, "mem_mngr_second")
                inputs[p][m2["base_input"] + np.arange(out_rows.size)] = out
        all_rows.append(out_rows)
        all_values.append(out)
    return np.concatenate(all_rows), np.concatenate(all_values)


def attention(state: State) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(context rows, context, weight rows, softmax weights (T,)) of ATTENTION in float: scores K q,
    the real softmax, context = weights . K (keys = values), nothing rounded in between."""
    cfg = gb.gb_config(state, "attention")
    nv, nt = cfg["num_vector_1"], cfg["num_timestep_1"]
    large, small = state["gb_large"], state["gb_small"]
    rows = gb.timestep_rows(
        gb.large_base(state, cfg["memory_index_1"]), nv, np.arange(nt), large.shape[0], ""
    )
    k = af.decode(large[rows], cfg["adpbias_1"]).reshape(nt, nv * LANES)
    qbase = gb.small_base(state, cfg["memory_index_2"])
    q = af.decode(small[qbase : qbase + nv], cfg["adpbias_2"]).reshape(-1)
    s = k @ q
    w = np.exp(s - s.max())
    w /= w.sum()
    ctx = (w @ k).reshape(nv, LANES)
    w_rows = qbase + 2 * nv + np.arange((nt + LANES - 1) // LANES)
    return qbase + nv + np.arange(nv), ctx, w_rows, w
