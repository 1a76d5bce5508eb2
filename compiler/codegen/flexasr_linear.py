"""FlexASR codegen for flex_linear: x[..., K] @ w[N, K]^T + b[N] on the 4 PEs.

Vectors of 16, outputs padded to a multiple of 4 PEs x 16 (each PE computes `no` output vectors), tiled
over output vectors and timesteps to the buffers; every pass writes its own output block of the GB large
buffer, which is the Program's output region.
"""

from __future__ import annotations

import numpy as np

from compiler.codegen.flexasr_operands import (
    ACCUM_BITS,
    ACT_BITS,
    ACT_FRAC,
    MAX_IN_VECTORS,
    OUTPUT,
    exponent,
    fixed,
    output_memory,
    pad,
    peak,
    vectors,
)
from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.vta_schedule import TilingError
from compiler.numerics import flexasr as numerics
from ila_models import adaptivfloat as af
from ila_models import flexasr as flexasr_ila
from ila_models import flexasr_isa as isa
from ila_models.flexasr_isa import LANES, NUM_PES
from ila_models.program import OutputRegion, Span

MAX_OUT_VECTORS = 255 // NUM_PES
"""gb_control.num_vector_2 (8 bits) holds 4 PEs x `no` output vectors."""


def linear_reference(
    xc: np.ndarray, wc: np.ndarray, bc: np.ndarray, biases: tuple[int, int, int, int]
) -> np.ndarray:
    """Output codes (T, Np) of the PEs for codes x (T, Kp), w (Np, Kp), b (Np) with biases (bx, bw, bb, bo).

    acc = sum of (16+mw)(16+mx) << (ew+ex) (exact, then wrapped to 32 bits); act = sat20((acc >> (14 - bw -
    bx)) + fixed(b)); OUTGB encodes act with bias bo. The exact sums stay below 2^53, so float64 matmul
    of the integer operands is exact.
    """
    bx, bw, bb, bo = biases
    xi = af.to_fixed(xc, 0, ACT_FRAC).astype(np.float64)  # (16+m) << e: bias 0, 14 fractional bits
    wi = af.to_fixed(wc, 0, ACT_FRAC).astype(np.float64)
    acc = (xi @ wi.T).astype(np.int64)
    acc = ((acc + (1 << (ACCUM_BITS - 1))) % (1 << ACCUM_BITS)) - (1 << (ACCUM_BITS - 1))
    act = (acc >> (14 - bw - bx)) + fixed(bc, bb)[None, :]
    act = np.clip(act, -(1 << (ACT_BITS - 1)), (1 << (ACT_BITS - 1)) - 1)
    return af.from_fixed(act, bo, ACT_FRAC)


def linear_scales(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[int, int, tuple[int, int, int, int]]:
    """(sx, sw, (bx, bw, bb, bo)): the power-of-two scales of x and w (the output's is sx + sw) and the
    hardware biases. x 2^sx and w 2^sw get their ideal biases (so they quantise as the emulated numerics
    do) with bx + bw <= 14; the output is scaled to a peak in [16, 32) when that allows."""
    fx, fw, fb = exponent(peak(x)), exponent(peak(w)), exponent(peak(b))
    y = numerics.CALLS["flex_linear"](x, w, b)
    s = min(4 - exponent(peak(y)), 8 - fx - fw)
    total = max(0, fx + fw + s + 6)  # bx + bw
    bx, bw = total // 2, total - total // 2
    sx, sw = bx - fx - 3, bw - fw - 3
    s = sx + sw
    bb = int(np.clip(fb + s + 3, 0, 7))
    bo = int(np.clip(exponent(peak(y)) + s + 3, 0, 7))
    return sx, sw, (bx, bw, bb, bo)


def _linear_tiles(t: int, ni: int, no_total: int) -> tuple[int, int]:
    """(timesteps per pass, output vectors per PE per pass) that fit the buffers and the config fields."""
    if ni > MAX_IN_VECTORS:
        raise TilingError(
            f"flex_linear: {16 * ni} inputs need {ni} vectors; FlexASR takes at most {MAX_IN_VECTORS}"
        )
    no = min(no_total, MAX_OUT_VECTORS, isa.PE_INPUT_VECTORS - ni, isa.PE_WEIGHT_VECTORS // (16 * ni))
    if no < 1:
        raise TilingError(f"flex_linear: {ni} input vectors leave no room for outputs in the PE buffers")
    n_o = -(-no_total // no)
    tt = t
    while (
        isa.block_rows(ni, tt) + (-(-t // tt)) * n_o * isa.block_rows(NUM_PES * no, tt) > isa.GB_LARGE_VECTORS
    ):
        if tt <= 16:
            raise TilingError(
                f"flex_linear: {t} timesteps of {ni} + {NUM_PES * no} vectors overflow the large buffer"
            )
        tt = max(16, (tt // 2) // 16 * 16)
    return tt, no


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray, where: Where) -> Lowered:
    """x[..., K] @ w[N, K]^T + b[N] on the 4 PEs: x as timesteps of K/16 vectors, one gb_control per pass."""
    if w.ndim != 2 or x.shape[-1] != w.shape[1] or b.shape != (w.shape[0],):
        raise TilingError(
            f"flex_linear: x {x.shape}, w {w.shape}, b {b.shape} must be (..., K), (N, K), (N,)"
        )
    lead, (n, k) = x.shape[:-1], w.shape
    x2 = x.reshape(-1, k)
    t = x2.shape[0]
    sx, sw, biases = linear_scales(x2, w, b)
    bx, bw, bb, bo = biases
    ni, no_total = vectors(k), -(-n // (NUM_PES * LANES))
    tt, no = _linear_tiles(t, ni, no_total)
    n_t, n_o = -(-t // tt), -(-no_total // no)
    kp, np_ = 16 * ni, n_o * NUM_PES * LANES * no
    xc = pad(af.encode(np.ldexp(x2.astype(np.float64), sx), bx), 1, kp)
    wc = pad(pad(af.encode(np.ldexp(w.astype(np.float64), sw), bw), 1, kp), 0, np_)
    bc = pad(af.encode(np.ldexp(b.astype(np.float64), sx + sw), bb), 0, np_)
    ref_codes = linear_reference(xc, wc, bc, biases)

    out_vectors = NUM_PES * no
    groups = -(-tt // 16)
    x_rows = isa.block_rows(ni, tt)
    pass_rows = isa.block_rows(out_vectors, tt)
    words: list[int] = []
    spans: list[Span] = []
    act = {"is_valid": 1, "adpfloat_bias": bo, "num_inst": 2, "num_output": no}
    micro = bytes([isa.ACT_INPE, isa.ACT_OUTGB])
    # region Y: (timestep tile, output tile, group of 16 timesteps, vector, timestep in group, lane)
    ref = np.zeros((n_t, n_o, groups, out_vectors, 16, LANES), np.uint8)
    for ti in range(n_t):
        t0, t1 = ti * tt, min(t, (ti + 1) * tt)
        start = len(words)
        isa.store_timesteps(words, xc[t0:t1].reshape(t1 - t0, ni, LANES), 0)
        spans.append(Span(start, len(words), where.model, where.layer, f"store x timesteps {t0}..{t1}"))
        for oi in range(n_o):
            start = len(words)
            f0 = oi * out_vectors * LANES
            w_tile, b_tile = wc[f0 : f0 + out_vectors * LANES], bc[f0 : f0 + out_vectors * LANES]
            for pe in range(NUM_PES):
                pe_b = b_tile[pe * no * LANES : (pe + 1) * no * LANES].reshape(no, LANES)
                pe_act = {**act, "output_addr_base": pe * no}
                isa.pe_layer(
                    words,
                    pe,
                    [isa.weight_blocks(w_tile, pe, no)],
                    [pe_b],
                    (bw, bb, [bx]),
                    pe_act,
                    micro,
                    False,
                    skip_zero_weights=(ti, oi) == (0, 0),  # the weight buffers start zero
                )
            out_base = x_rows + (ti * n_o + oi) * pass_rows
            words.append(isa.gb_config(
                "mem_mngr_large", num_vector_0=ni, base_large_0=0, num_vector_1=out_vectors, base_large_1=out_base,
            ))  # fmt: skip
            words.append(isa.gb_config(
                "gb_control", is_valid=1, mode=0, is_rnn=0, memory_index_1=0, memory_index_2=1,
                num_vector_1=ni, num_vector_2=out_vectors, num_timestep_1=t1 - t0,
            ))  # fmt: skip
            words.append(isa.gb_start("gb_control"))
            op = f"linear timesteps {t0}..{t1} outputs {f0}..{min(n, f0 + out_vectors * LANES)}"
            spans.append(Span(start, len(words), where.model, where.layer, op))
            tile = np.zeros((groups * 16, out_vectors * LANES), np.uint8)
            tile[: t1 - t0] = ref_codes[t0:t1, f0 : f0 + out_vectors * LANES]
            ref[ti, oi] = tile.reshape(groups, 16, out_vectors, LANES).transpose(0, 2, 1, 3)
    prog = flexasr_ila.program(
        f"{where.model}_{where.layer}",
        words,
        spans,
        where.provenance(
            "flex_linear",
            x=list(x.shape),
            w=list(w.shape),
            scale_x=sx,
            scale_w=sw,
            adpfloat_bias=dict(zip(("x", "w", "b", "y"), biases, strict=True)),
        ),
        memories=output_memory(),
        outputs=[OutputRegion(OUTPUT, "gb_large", 16 * x_rows, "uint8", ref.shape)],
        references={OUTPUT: ref},
    )

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        codes = out[OUTPUT].transpose(0, 2, 4, 1, 3, 5).reshape(n_t * groups * 16, np_)
        rows = np.concatenate(
            [codes[ti * groups * 16 : ti * groups * 16 + min(tt, t - ti * tt)] for ti in range(n_t)]
        )
        y = np.ldexp(af.decode(rows[:, :n], bo), -(sx + sw))
        return y.astype(np.float32).reshape(*lead, n)

    return Lowered(prog, decode)
