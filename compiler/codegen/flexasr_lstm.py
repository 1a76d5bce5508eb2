"""FlexASR codegen for flex_lstm_c / flex_lstm_h: one LSTM cell step.

The gates pass through the PE cores on identity weights; the activation units run the cell (PLAN sigmoid
and tanh, c in the act buffers). Gates cannot be rescaled (sigmoid is not linear), so they use the bias
their peak needs, clipped to 0..7.
"""

from __future__ import annotations

import numpy as np

from compiler.codegen.flexasr_operands import ACT_FRAC, MAX_IN_VECTORS, output_memory, saturate
from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.vta_schedule import TilingError
from compiler.numerics import flexasr as numerics
from ila_models import adaptivfloat as af
from ila_models import flexasr as flexasr_ila
from ila_models import flexasr_isa as isa
from ila_models import flexasr_pe
from ila_models.flexasr_isa import LANES, NUM_PES
from ila_models.program import OutputRegion, Span

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


def lstm_cell_reference(gates: np.ndarray, c: np.ndarray, bi: int, bc: int) -> tuple[np.ndarray, np.ndarray]:
    """(h codes, c' codes) of `LSTM_CELL_PROGRAM` on gate codes (..., 4, 16) [i, g, f, o] at bias `bi` and
    cell codes (..., 16) at the act bias `bc`: the activation unit's 20-bit fixed-point steps, with the
    PLAN sigmoid and tanh that FlexASR defines (`ila_models.flexasr_pe`)."""
    i, g, f, o = (af.to_fixed(gates[..., q, :], bi, ACT_FRAC) for q in range(4))
    a0 = saturate((flexasr_pe.sigmoid(i) * flexasr_pe.tanh(g)) >> ACT_FRAC)
    a1 = saturate((flexasr_pe.sigmoid(f) * af.to_fixed(c, bc, ACT_FRAC)) >> ACT_FRAC)
    a0 = saturate(a0 + a1)
    c_next = af.from_fixed(a0, bc, ACT_FRAC)
    h = saturate((flexasr_pe.tanh(a0) * flexasr_pe.sigmoid(o)) >> ACT_FRAC)
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
        words.append(isa.gb_config(
            "mem_mngr_large", num_vector_0=ni, base_large_0=x_base, num_vector_1=NUM_PES * per_pe,
            base_large_1=out_base,
        ))  # fmt: skip
        words.append(isa.gb_config(
            "gb_control", is_valid=1, mode=0, is_rnn=0, memory_index_1=0, memory_index_2=1,
            num_vector_1=ni, num_vector_2=NUM_PES * per_pe, num_timestep_1=1,
        ))  # fmt: skip
        words.append(isa.gb_start("gb_control"))
        spans.append(Span(start, len(words), where.model, where.layer, f"lstm cell row {r}"))
    # H: per row, timestep 0 of its output block (vector j at row 16 j); C{p}: act rows r * per_pe + jj
    h_region = np.zeros((rows, NUM_PES * per_pe, 16, LANES), np.uint8)
    h_region[:, :units, 0] = h_ref
    memories = output_memory()
    outputs = [OutputRegion("H", "gb_large", 16 * rows * x_rows, "uint8", h_region.shape)]
    references = {"H": h_region}
    for p in pes:
        c_region = np.zeros((rows, per_pe, LANES), np.uint8)
        own = slice(p * per_pe, min(units, (p + 1) * per_pe))
        c_region[:, : own.stop - own.start] = c_ref[:, own]
        memories[f"pe{p}_act"] = np.zeros((isa.PE_ACT_VECTORS, LANES), np.uint8)
        outputs.append(OutputRegion(f"C{p}", f"pe{p}_act", 0, "uint8", c_region.shape))
        references[f"C{p}"] = c_region
    prog = flexasr_ila.program(
        f"{where.model}_{where.layer}",
        words,
        spans,
        where.provenance(op, gates=list(gates.shape), c=list(c.shape), adpfloat_bias={"gates": bi, "act": bc}),
        memories=memories,
        outputs=outputs,
        references=references,
    )

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        if op == "flex_lstm_h":
            codes = out["H"][:, :units, 0].reshape(rows, hidden)
        else:
            codes = np.concatenate([out[f"C{p}"] for p in pes], axis=1)[:, :units].reshape(rows, hidden)
        return af.decode(codes, bc).astype(np.float32).reshape(*lead, hidden)

    return Lowered(prog, decode)
