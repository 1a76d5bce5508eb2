"""FlexASR codegen: each offloaded FlexASR call (flex_linear, flex_meanpool, flex_lstm_c/h) becomes one
FlexASR Program of MMIO commands whose outputs lie in the accelerator's buffers (it has no DRAM).

Quantisation is `compiler.numerics.flexasr`'s per-tensor AdaptivFloat8 (the exponent window chosen from
max |x|). The hardware's window is a 3-bit bias (0..7), so the host scales each operand by a power of two
first (exact in AdaptivFloat) to land its ideal bias in 0..7, and the output by the product of the input
scales: x and w quantise exactly as the emulated numerics do, and the output scale puts the result's
peak in [16, 32), the top of the 20-bit activations' range.

- Linear: vectors of 16, outputs padded to a multiple of 4 PEs x 16 (each PE computes `no` output
  vectors), tiled over output vectors and timesteps to the buffers; every pass writes its own output
  block of the GB large buffer, which is the Program's output region.
- Mean pool: the H*W positions as timesteps, log2(H*W) layer-reduce means.
- LSTM cell: the gates pass through the PE cores on identity weights; the activation units run the cell
  (PLAN sigmoid and tanh, c in the act buffers). Gates cannot be rescaled (sigmoid is not linear), so
  they use the bias their peak needs, clipped to 0..7.

Each reference is the hardware's exact integer arithmetic (docs/flexasr.md), vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.vta_schedule import TilingError
from compiler.numerics import flexasr as numerics
from ila_models import adaptivfloat as af
from ila_models import flexasr as flexasr_ila
from ila_models import flexasr_isa as isa
from ila_models import flexasr_pe
from ila_models.flexasr_isa import LANES, NUM_PES
from ila_models.mmio import commands_array
from ila_models.program import OutputRegion, Program, Span

OUTPUT = "Y"
ACT_BITS, ACT_FRAC, ACCUM_BITS = 20, 14, 32
MAX_OUT_VECTORS = 255 // NUM_PES
"""gb_control.num_vector_2 (8 bits) holds 4 PEs x `no` output vectors."""
MAX_IN_VECTORS = 255
"""num_input and gb_control.num_vector_1 are 8-bit."""
CALLS = ("flex_linear", "flex_meanpool", "flex_lstm_c", "flex_lstm_h")
"""The FlexASR calls lowered to Programs."""
LSTM_CELL_PROGRAM = bytes([
    0x30, 0xA0, 0x34, 0xB4, 0x91,  # A0 = INPE i; SIGM A0; A1 = INPE g; TANH A1; A0 = A0 * A1
    0x34, 0xA4, 0x18, 0x96, 0x81,  # A1 = INPE f; SIGM A1; A2 = LOAD c; A1 = A1 * A2; A0 = A0 + A1 (c')
    0x20, 0xB0, 0x34, 0xA4, 0x91,  # STORE A0 (c'); TANH A0; A1 = INPE o; SIGM A1; A0 = A0 * A1 (h)
    0x40,  # OUTGB A0
])  # fmt: skip
"""The LSTM cell on gates already summed (one manager), in the order i, g, f, o the core emits them."""
IDENTITY_BIAS = 3
"""Identity weights: 1.0 is code 0x70 (e 7, m 0) at weight bias 3, and the core's output is then exactly
the input gate value."""


def _exp(peak: float) -> int:
    """floor(log2 peak); 0 for a zero tensor (whose codes are 0 at any scale)."""
    return int(np.frexp(peak)[1]) - 1 if peak > 0 else 0


def _peak(x: np.ndarray) -> float:
    return float(np.max(np.abs(x))) if x.size else 0.0


def _vectors(n: int) -> int:
    return -(-n // LANES)


def _pad(x: np.ndarray, axis: int, size: int) -> np.ndarray:
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, size - x.shape[axis])
    return np.pad(x, widths)


def _output_memory() -> dict[str, np.ndarray]:
    """The GB large buffer's initial image (zeros): FlexASR has no DRAM, so the Program's output region
    lies in the large buffer, and a Program's output regions must lie in memories it declares."""
    return {"gb_large": np.zeros((isa.GB_LARGE_VECTORS, LANES), np.uint8)}


def _fixed(codes: np.ndarray, bias: int) -> np.ndarray:
    return af.to_fixed(codes, bias, ACT_FRAC)


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
    act = (acc >> (14 - bw - bx)) + _fixed(bc, bb)[None, :]
    act = np.clip(act, -(1 << (ACT_BITS - 1)), (1 << (ACT_BITS - 1)) - 1)
    return af.from_fixed(act, bo, ACT_FRAC)


def linear_scales(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[int, int, tuple[int, int, int, int]]:
    """(sx, sw, (bx, bw, bb, bo)): the power-of-two scales of x and w (the output's is sx + sw) and the
    hardware biases. x 2^sx and w 2^sw get their ideal biases (so they quantise as the emulated numerics
    do) with bx + bw <= 14; the output is scaled to a peak in [16, 32) when that allows."""
    fx, fw, fb = _exp(_peak(x)), _exp(_peak(w)), _exp(_peak(b))
    y = numerics.CALLS["flex_linear"](x, w, b)
    s = min(4 - _exp(_peak(y)), 8 - fx - fw)
    total = max(0, fx + fw + s + 6)  # bx + bw
    bx, bw = total // 2, total - total // 2
    sx, sw = bx - fx - 3, bw - fw - 3
    s = sx + sw
    bb = int(np.clip(fb + s + 3, 0, 7))
    bo = int(np.clip(_exp(_peak(y)) + s + 3, 0, 7))
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
    ni, no_total = _vectors(k), -(-n // (NUM_PES * LANES))
    tt, no = _linear_tiles(t, ni, no_total)
    n_t, n_o = -(-t // tt), -(-no_total // no)
    kp, np_ = 16 * ni, n_o * NUM_PES * LANES * no
    xc = _pad(af.encode(np.ldexp(x2.astype(np.float64), sx), bx), 1, kp)
    wc = _pad(_pad(af.encode(np.ldexp(w.astype(np.float64), sw), bw), 1, kp), 0, np_)
    bc = _pad(af.encode(np.ldexp(b.astype(np.float64), sx + sw), bb), 0, np_)
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
            words.append(isa.write(isa.gb_addr(isa.GB_CONFIGS["mem_mngr_large"]), isa.pack_config(
                "mem_mngr_large", num_vector_0=ni, base_large_0=0, num_vector_1=out_vectors, base_large_1=out_base,
            )))  # fmt: skip
            words.append(isa.write(isa.gb_addr(isa.GB_CONFIGS["gb_control"]), isa.pack_config(
                "gb_control", is_valid=1, mode=0, is_rnn=0, memory_index_1=0, memory_index_2=1,
                num_vector_1=ni, num_vector_2=out_vectors, num_timestep_1=t1 - t0,
            )))  # fmt: skip
            words.append(isa.write(isa.gb_addr(isa.GB_STARTS["gb_control"]), 0))
            op = f"linear timesteps {t0}..{t1} outputs {f0}..{min(n, f0 + out_vectors * LANES)}"
            spans.append(Span(start, len(words), where.model, where.layer, op))
            tile = np.zeros((groups * 16, out_vectors * LANES), np.uint8)
            tile[: t1 - t0] = ref_codes[t0:t1, f0 : f0 + out_vectors * LANES]
            ref[ti, oi] = tile.reshape(groups, 16, out_vectors, LANES).transpose(0, 2, 1, 3)
    program = Program(
        accelerator="flexasr",
        isa_version=flexasr_ila.ISA_VERSION,
        config={},
        commands=commands_array(words),
        memories=_output_memory(),
        outputs=[OutputRegion(OUTPUT, "gb_large", 16 * x_rows, "uint8", ref.shape)],
        references={OUTPUT: ref},
        provenance=where.provenance(
            "flex_linear",
            x=list(x.shape),
            w=list(w.shape),
            scale_x=sx,
            scale_w=sw,
            adpfloat_bias=dict(zip(("x", "w", "b", "y"), biases, strict=True)),
        ),
        spans=spans,
        name=f"{where.model}_{where.layer}",
    )

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        codes = out[OUTPUT].transpose(0, 2, 4, 1, 3, 5).reshape(n_t * groups * 16, np_)
        rows = np.concatenate(
            [codes[ti * groups * 16 : ti * groups * 16 + min(tt, t - ti * tt)] for ti in range(n_t)]
        )
        y = np.ldexp(af.decode(rows[:, :n], bo), -(sx + sw))
        return y.astype(np.float32).reshape(*lead, n)

    return Lowered(program, decode)


def meanpool_reference(codes: np.ndarray, passes: int) -> np.ndarray:
    """Codes (T, nv, 16) after `passes` layer-reduce means: timesteps (2j, 2j+1) -> j, (a + b) / 2 rounded
    to AdaptivFloat (operands share their bias, so it runs on bias-0 values), halving T each pass."""
    for _ in range(passes):
        a = af.to_fixed(codes[0::2], 0, ACT_FRAC)
        b = af.to_fixed(codes[1::2], 0, ACT_FRAC)
        codes = af.from_fixed(a + b, 0, ACT_FRAC + 1)
    return codes


def meanpool(x: np.ndarray, where: Where) -> Lowered:
    """Global mean over H, W of NCHW x: the H*W positions as timesteps of C/16 vectors, log2(H*W)
    layer-reduce means (H*W must be a power of two), one block per image."""
    if x.ndim != 4:
        raise TilingError(f"flex_meanpool: x {x.shape} is not NCHW")
    n, c, h, wd = x.shape
    hw = h * wd
    passes = hw.bit_length() - 1
    if hw != 1 << passes:
        raise TilingError(f"flex_meanpool: {h}x{wd} = {hw} positions is not a power of two (pairwise means)")
    nv = _vectors(c)
    rows = isa.block_rows(nv, hw)
    if n * rows > isa.GB_LARGE_VECTORS or nv > MAX_IN_VECTORS:
        raise TilingError(f"flex_meanpool: {n} images of {hw} x {nv} vectors overflow the large buffer")
    fx = _exp(_peak(x))
    bias = 4  # any bias in 0..7 gives the same codes once x is scaled to it
    scale = bias - fx - 3
    codes = _pad(af.encode(np.ldexp(x.astype(np.float64), scale), bias), 1, 16 * nv)
    codes = codes.reshape(n, nv, LANES, hw).transpose(0, 3, 1, 2)  # (image, position, vector, lane)
    words: list[int] = []
    spans: list[Span] = []
    ref = np.zeros((n, rows, LANES), np.uint8)
    for image in range(n):
        base = image * rows
        start = len(words)
        words.append(isa.write(isa.gb_addr(isa.GB_CONFIGS["mem_mngr_large"]), isa.pack_config(
            "mem_mngr_large", num_vector_0=nv, base_large_0=base,
        )))  # fmt: skip
        isa.store_timesteps(words, codes[image], base)
        for p in range(passes):
            words.append(isa.write(isa.gb_addr(isa.GB_CONFIGS["layer_reduce"]), isa.pack_config(
                "layer_reduce", is_valid=1, mode=1, memory_index_1=0, num_vector_1=nv, num_timestep_1=hw >> p,
            )))  # fmt: skip
            words.append(isa.write(isa.gb_addr(isa.GB_STARTS["layer_reduce"]), 0))
        spans.append(Span(start, len(words), where.model, where.layer, f"meanpool image {image}"))
        # every pass leaves the timesteps it does not write: the final block holds each pass's tail
        block = np.zeros((-(-hw // 16) * 16, nv, LANES), np.uint8)
        block[:hw] = codes[image]
        for p in range(passes):
            m = hw >> p
            block[: m // 2] = meanpool_reference(block[:m], 1)
        ref[image] = block.reshape(-1, 16, nv, LANES).transpose(0, 2, 1, 3).reshape(rows, LANES)
    program = Program(
        accelerator="flexasr",
        isa_version=flexasr_ila.ISA_VERSION,
        config={},
        commands=commands_array(words),
        memories=_output_memory(),
        outputs=[OutputRegion(OUTPUT, "gb_large", 0, "uint8", ref.shape)],
        references={OUTPUT: ref},
        provenance=where.provenance("flex_meanpool", x=list(x.shape), scale_x=scale, adpfloat_bias=bias),
        spans=spans,
        name=f"{where.model}_{where.layer}",
    )

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        # timestep 0 of each image: rows 16 v of its block
        first = out[OUTPUT].reshape(n, -1, nv, 16, LANES)[:, 0, :, 0, :].reshape(n, nv * LANES)[:, :c]
        y = np.ldexp(af.decode(first, bias), -scale)
        return y.astype(np.float32).reshape(n, c, 1, 1)

    return Lowered(program, decode)


def _sat(x: np.ndarray) -> np.ndarray:
    return np.clip(x, -(1 << (ACT_BITS - 1)), (1 << (ACT_BITS - 1)) - 1)


def lstm_cell_reference(gates: np.ndarray, c: np.ndarray, bi: int, bc: int) -> tuple[np.ndarray, np.ndarray]:
    """(h codes, c' codes) of `LSTM_CELL_PROGRAM` on gate codes (..., 4, 16) [i, g, f, o] at bias `bi` and
    cell codes (..., 16) at the act bias `bc`: the activation unit's 20-bit fixed-point steps, with the
    PLAN sigmoid and tanh that FlexASR defines (`ila_models.flexasr_pe`)."""
    i, g, f, o = (af.to_fixed(gates[..., q, :], bi, ACT_FRAC) for q in range(4))
    a0 = _sat((flexasr_pe.sigmoid(i) * flexasr_pe.tanh(g)) >> ACT_FRAC)
    a1 = _sat((flexasr_pe.sigmoid(f) * af.to_fixed(c, bc, ACT_FRAC)) >> ACT_FRAC)
    a0 = _sat(a0 + a1)
    c_next = af.from_fixed(a0, bc, ACT_FRAC)
    h = _sat((flexasr_pe.tanh(a0) * flexasr_pe.sigmoid(o)) >> ACT_FRAC)
    return af.from_fixed(h, bc, ACT_FRAC), c_next


def lstm_cell(gates: np.ndarray, c: np.ndarray, where: Where, op: str = "flex_lstm_h") -> Lowered:
    """One LSTM cell step on gates (..., 4H) (PyTorch order i, f, g, o) and cell state c (..., H): the
    gates pass through the PE cores on identity weights, the activation units run `LSTM_CELL_PROGRAM`
    (c from and c' to the act buffer, h to the GB). `op` (flex_lstm_h or flex_lstm_c) picks the result
    `decode` returns; the Program computes both. One gb_control per row of the leading axes."""
    hidden = c.shape[-1]
    if gates.shape[-1] != 4 * hidden or gates.shape[:-1] != c.shape[:-1] or hidden % LANES:
        raise TilingError(
            f"{op}: gates {gates.shape} and c {c.shape} must be (..., 4H), (..., H), H a multiple of 16"
        )
    lead = c.shape[:-1]
    g2, c2 = gates.reshape(-1, 4 * hidden).astype(np.float64), c.reshape(-1, hidden).astype(np.float64)
    rows, units = g2.shape[0], hidden // LANES
    per_pe = -(-units // NUM_PES)
    ni = 4 * units
    if rows * per_pe > isa.PE_ACT_VECTORS or ni > MAX_IN_VECTORS:
        raise TilingError(
            f"{op}: {rows} rows of {hidden} units need more than the {isa.PE_ACT_VECTORS}-vector act buffers"
        )
    bi = af.best_bias(g2)
    emulated = [numerics.CALLS[name](g2, c2) for name in ("flex_lstm_c", "flex_lstm_h")]
    bc = af.best_bias(np.concatenate([c2.ravel(), *(e.ravel() for e in emulated)]))
    # gate vectors in the core's order per unit vector j: (i, g, f, o) from PyTorch's (i, f, g, o)
    gate_codes = af.encode(g2, bi).reshape(rows, 4, units, LANES)[:, [0, 2, 1, 3]]
    c_codes = af.encode(c2, bc).reshape(rows, units, LANES)
    h_ref, c_ref = lstm_cell_reference(gate_codes.transpose(0, 2, 1, 3), c_codes, bi, bc)  # (rows, units, 16)
    x_codes = gate_codes.reshape(rows, ni, LANES)  # input vector q * units + j
    pes = [p for p in range(NUM_PES) if p * per_pe < units]
    x_rows, out_rows = isa.block_rows(ni, 1), isa.block_rows(NUM_PES * per_pe, 1)
    words: list[int] = []
    spans: list[Span] = []
    one = af.encode(np.ones(1), IDENTITY_BIAS)[0]
    start = len(words)
    for p in pes:
        mine = range(p * per_pe, min(units, (p + 1) * per_pe))
        w = np.zeros(
            (4 * per_pe, ni, LANES, LANES), np.uint8
        )  # output 4 jj + q <- input vector q * units + j
        for jj, j in enumerate(mine):
            for q in range(4):
                w[4 * jj + q, q * units + j] = np.diag(np.full(LANES, one))
        zero_bias = np.zeros((4 * per_pe, LANES), np.uint8)
        act = {"is_valid": 1, "adpfloat_bias": bc, "num_inst": len(LSTM_CELL_PROGRAM), "num_output": len(mine),
               "output_addr_base": p * per_pe}  # fmt: skip
        isa.pe_layer(
            words,
            p,
            [w],
            [zero_bias],
            (IDENTITY_BIAS, 0, [bi]),
            act,
            LSTM_CELL_PROGRAM,
            False,
            skip_zero_weights=True,
        )
        for r in range(rows):
            for jj, j in enumerate(mine):
                words.append(
                    isa.write(
                        isa.pe_addr(p, isa.PE_BUFFERS["act"][0] + 16 * (r * per_pe + jj)), c_codes[r, j]
                    )
                )
    spans.append(
        Span(start, len(words), where.model, where.layer, "identity weights, LSTM cell micro-program, c")
    )
    for r in range(rows):
        start = len(words)
        x_base, out_base = r * x_rows, rows * x_rows + r * out_rows
        isa.store_timesteps(words, x_codes[r][None], x_base)
        for p in pes:
            n_mine = min(units, (p + 1) * per_pe) - p * per_pe
            act = {"is_valid": 1, "adpfloat_bias": bc, "num_inst": len(LSTM_CELL_PROGRAM), "num_output": n_mine,
                   "buffer_addr_base": r * per_pe, "output_addr_base": p * per_pe}  # fmt: skip
            words.append(
                isa.write(isa.pe_addr(p, isa.PE_CONFIGS["act_mngr"]), isa.pack_config("act_mngr", **act))
            )
        words.append(isa.write(isa.gb_addr(isa.GB_CONFIGS["mem_mngr_large"]), isa.pack_config(
            "mem_mngr_large", num_vector_0=ni, base_large_0=x_base, num_vector_1=NUM_PES * per_pe,
            base_large_1=out_base,
        )))  # fmt: skip
        words.append(isa.write(isa.gb_addr(isa.GB_CONFIGS["gb_control"]), isa.pack_config(
            "gb_control", is_valid=1, mode=0, is_rnn=0, memory_index_1=0, memory_index_2=1,
            num_vector_1=ni, num_vector_2=NUM_PES * per_pe, num_timestep_1=1,
        )))  # fmt: skip
        words.append(isa.write(isa.gb_addr(isa.GB_STARTS["gb_control"]), 0))
        spans.append(Span(start, len(words), where.model, where.layer, f"lstm cell row {r}"))
    # H: per row, timestep 0 of its output block (vector j at row 16 j); C{p}: act rows r * per_pe + jj
    h_region = np.zeros((rows, NUM_PES * per_pe, 16, LANES), np.uint8)
    h_region[:, :units, 0] = h_ref
    memories = _output_memory()
    outputs = [OutputRegion("H", "gb_large", 16 * rows * x_rows, "uint8", h_region.shape)]
    references = {"H": h_region}
    for p in pes:
        c_region = np.zeros((rows, per_pe, LANES), np.uint8)
        own = slice(p * per_pe, min(units, (p + 1) * per_pe))
        c_region[:, : own.stop - own.start] = c_ref[:, own]
        memories[f"pe{p}_act"] = np.zeros((isa.PE_ACT_VECTORS, LANES), np.uint8)
        outputs.append(OutputRegion(f"C{p}", f"pe{p}_act", 0, "uint8", c_region.shape))
        references[f"C{p}"] = c_region
    program = Program(
        accelerator="flexasr",
        isa_version=flexasr_ila.ISA_VERSION,
        config={},
        commands=commands_array(words),
        memories=memories,
        outputs=outputs,
        references=references,
        provenance=where.provenance(
            op, gates=list(gates.shape), c=list(c.shape), adpfloat_bias={"gates": bi, "act": bc}
        ),
        spans=spans,
        name=f"{where.model}_{where.layer}",
    )

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        if op == "flex_lstm_h":
            codes = out["H"][:, :units, 0].reshape(rows, hidden)
        else:
            codes = np.concatenate([out[f"C{p}"] for p in pes], axis=1)[:, :units].reshape(rows, hidden)
        return af.decode(codes, bc).astype(np.float32).reshape(*lead, hidden)

    return Lowered(program, decode)


def lower(name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...], where: Where) -> Lowered:
    """The Program of FlexASR call `name` on concrete inputs."""
    if name == "flex_linear" and len(arrays) == 3 and not attrs:
        return linear(arrays[0], arrays[1], arrays[2], where)
    if name == "flex_meanpool" and len(arrays) == 1 and not attrs:
        return meanpool(arrays[0], where)
    if name in ("flex_lstm_c", "flex_lstm_h") and len(arrays) == 2 and not attrs:
        return lstm_cell(arrays[0], arrays[1], where, name)
    if name not in CALLS:
        raise KeyError(f"no FlexASR codegen for {name!r}; expected one of {', '.join(CALLS)}")
    raise ValueError(f"{name}: unexpected {len(arrays)} arrays and attributes {attrs!r}")
