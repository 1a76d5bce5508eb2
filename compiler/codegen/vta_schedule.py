"""VTA instruction schedules for int8 GEMM and int32 bias-add, tiled to the configuration's buffers.

Both use VTA's decoupled access-execute pattern: the load, compute and store units overlap, synchronised
by dependency tokens, with every SRAM split in two halves used by alternate steps (double buffering):
- step s loads into half s % 2 after popping the compute->load token of step s - 2 (which freed it);
- compute pops the load's token, and the store->compute token of step s - 2 (which freed its acc half);
- store pops compute's token and gives the acc half back (or, for the last step, to FINISH).

Program order is itself a legal retirement order (the ILA runs it that way outside lockstep).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ila_models import vta_isa as isa
from ila_models.program import MemoryImage, Span
from ila_models.vta_isa import VtaConfig

MAX_ITER = (1 << 14) - 1
"""iter_out and iter_in are 14-bit fields."""


class TilingError(ValueError):
    """An operator that does not fit VTA's buffers or encoding; the message names the dimension."""


@dataclass
class Emitted:
    """The instruction words, DRAM image and provenance spans of one schedule."""

    words: list[int]
    image: MemoryImage
    out_offset: int
    spans: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class _Step:
    """One double-buffered step: a chunk of rows of one weight tile of one batch element."""

    group: int
    tile: int
    cols: int  # output blocks in this tile
    row0: int
    rows: int
    new_weights: bool
    weight_half: int


def _epilogue(shift: int) -> list[tuple[str, int]]:
    return [("SHR", shift), ("MIN", 127), ("MAX", -128)]


def _steps(groups: int, m: int, nb: int, kb: int, cfg: VtaConfig) -> list[_Step]:
    wgt_half, inp_half, acc_half = cfg.wgt_depth // 2, cfg.inp_depth // 2, cfg.acc_depth // 2
    if kb > wgt_half:
        raise TilingError(
            f"reduction length {kb * cfg.block_in} needs {kb} weight blocks per output block; "
            f"half the weight buffer holds {wgt_half} (K <= {wgt_half * cfg.block_in})"
        )
    if kb > inp_half:
        raise TilingError(f"reduction length {kb * cfg.block_in} exceeds half the input buffer ({inp_half} rows)")
    nt = min(nb, wgt_half // kb, acc_half)
    chunk = min(m, inp_half // kb, acc_half // nt, MAX_ITER)
    steps, tiles = [], 0
    for g in range(groups):
        for t, n0 in enumerate(range(0, nb, nt)):
            for i, r0 in enumerate(range(0, m, chunk)):
                steps.append(_Step(g, t, min(nt, nb - n0), r0, min(chunk, m - r0), i == 0, tiles % 2))
            tiles += 1
    return steps


def gemm(
    a: np.ndarray, w: np.ndarray, shift: int, cfg: VtaConfig, model: str, layer: str, op: str
) -> Emitted:
    """C[g] = clip(A[g] @ W[g]^T >> shift) for int8 A (G, M, K) and W (G, N, K), K and N multiples of the block.

    The output region (G, M, N) int8 lies at `Emitted.out_offset` in the DRAM image.
    """
    bi, bo = cfg.block_in, cfg.block_out
    groups, m, k = a.shape
    n = w.shape[1]
    if k % bi or n % bo or w.shape != (groups, n, k):
        raise TilingError(f"gemm: A {a.shape} and W {w.shape} must be (G, M, K), (G, N, K) with K % {bi}, N % {bo} == 0")
    kb, nb = k // bi, n // bo
    steps = _steps(groups, m, nb, kb, cfg)
    nt = max(s.cols for s in steps)
    inp_half, acc_half, wgt_half = cfg.inp_depth // 2, cfg.acc_depth // 2, cfg.wgt_depth // 2

    image = MemoryImage()
    a_base = image.place(a.reshape(groups * m * kb, bi), bi) // bi  # (g, row, block j) -> (g*M + row)*kb + j
    w_blocks = w.reshape(groups, nb, bo, kb, bi).transpose(0, 1, 3, 2, 4).reshape(groups * nb * kb, bo * bi)
    w_base = image.place(w_blocks, bo * bi) // (bo * bi)  # (g, block n, block j) -> (g*nb + n)*kb + j
    # uops: a GEMM set per (inp/acc half, wgt half), then one dst-only uop per acc half (reset and ALU)
    gemm_uops = [
        isa.uop(h * acc_half, h * inp_half + j, wh * wgt_half + j) for h in range(2) for wh in range(2) for j in range(kb)
    ]
    alu_uop0 = len(gemm_uops)
    uops = gemm_uops + [isa.uop(h * acc_half, h * acc_half) for h in range(2)]
    uop_base = image.place(np.array(uops, dtype=np.uint32), 4) // 4
    out_offset = image.reserve(groups * m * nb * bo, bo)
    c_base = out_offset // bo  # (g, row, block n) -> (g*M + row)*nb + n

    def load_words(s: int, st: _Step) -> list[int]:
        words = []
        if st.new_weights:
            first_block = (st.group * nb + st.tile * nt) * kb
            words.append(isa.load("WGT", st.weight_half * wgt_half, w_base + first_block, 1, st.cols * kb, 0))
        row = st.group * m + st.row0
        words.append(isa.load("INP", (s % 2) * inp_half, a_base + row * kb, st.rows, kb, kb))
        return _with_deps(words, first={"pop_next": int(s >= 2)}, last={"push_next": 1})

    def compute_words(s: int, st: _Step) -> list[int]:
        h, loops = s % 2, (st.rows, st.cols)
        alu_uop = (alu_uop0 + h, alu_uop0 + h + 1)
        gemm_set = (h * 2 + st.weight_half) * kb
        words = [
            isa.gemm(*alu_uop, *loops, dst=(st.cols, 1), reset=True),
            isa.gemm(gemm_set, gemm_set + kb, *loops, dst=(st.cols, 1), src=(kb, 0), wgt=(0, kb)),
        ]
        words += [isa.alu(o, *alu_uop, *loops, dst=(st.cols, 1), src=(st.cols, 1), imm=v) for o, v in _epilogue(shift)]
        return _with_deps(
            words,
            first={"pop_prev": 1, "pop_next": int(s >= 2)},
            last={"push_prev": int(s + 2 < len(steps)), "push_next": 1},
        )

    def store_word(s: int, st: _Step) -> int:
        dram = c_base + (st.group * m + st.row0) * nb + st.tile * nt
        last = s == len(steps) - 1
        deps = {"pop_prev": 1, "push_prev": int(s + 2 < len(steps) or last)}
        return isa.store((s % 2) * acc_half, dram, st.rows, st.cols, nb, deps=deps)

    words = [isa.load("UOP", 0, uop_base, 1, len(uops), 0)]
    spans = []
    words += load_words(0, steps[0])
    for s, st in enumerate(steps):
        if s + 1 < len(steps):
            words += load_words(s + 1, steps[s + 1])
        start = len(words)
        words += compute_words(s, st)
        cols = (st.tile * nt * bo, (st.tile * nt + st.cols) * bo)
        where = f"rows {st.row0}..{st.row0 + st.rows} cols {cols[0]}..{cols[1]}"
        spans.append(Span(start, len(words), model, layer, f"{op} " + (f"batch {st.group} " if groups > 1 else "") + where))
        words.append(store_word(s, st))
    words.append(isa.finish(deps={"pop_next": 1}))
    return Emitted(words, image, out_offset, spans)


def bias_add(x: np.ndarray, b: np.ndarray, shift: int, cfg: VtaConfig, model: str, layer: str, op: str) -> Emitted:
    """C = clip((X + b) >> shift) for int32 X (M, N) and b (N,), N a multiple of the block; output (M, N) int8.

    The bias sits in the first acc rows; X's rows stream through two halves of the rest.
    """
    bo = cfg.block_out
    m, n = x.shape
    if n % bo or b.shape != (n,):
        raise TilingError(f"bias_add: X {x.shape} and b {b.shape} must be (M, N), (N,) with N % {bo} == 0")
    nb = n // bo
    half = (cfg.acc_depth - nb) // 2
    if half < nb:
        raise TilingError(f"bias_add: {n} channels need {3 * nb} accumulator rows; the buffer has {cfg.acc_depth}")
    chunk = min(m, half // nb, MAX_ITER)
    row_starts = list(range(0, m, chunk))
    image = MemoryImage()
    x_base = image.place(x.astype(np.int32).reshape(m * nb, bo), 4 * bo) // (4 * bo)
    b_base = image.place(b.astype(np.int32).reshape(nb, bo), 4 * bo) // (4 * bo)
    uops = [isa.uop(nb + h * half, 0) for h in range(2)]  # dst: the half's first row; src: bias row 0
    uop_base = image.place(np.array(uops, dtype=np.uint32), 4) // 4
    out_offset = image.reserve(m * n, bo)
    c_base = out_offset // bo

    words = [isa.load("UOP", 0, uop_base, 1, len(uops), 0), isa.load("ACC", 0, b_base, 1, nb, 0)]
    spans = []
    steps = len(row_starts)
    for s, r0 in enumerate(row_starts):
        rows, h = min(chunk, m - r0), s % 2
        sram = nb + h * half
        start = len(words)
        body = [isa.load("ACC", sram, x_base + r0 * nb, rows, nb, nb)]
        ops = [("ADD", None), *_epilogue(shift)]
        # src factors (0, 1): every row adds bias row n to its block n
        body += [isa.alu(o, h, h + 1, rows, nb, dst=(nb, 1), src=(0, 1), imm=v) for o, v in ops]
        words += _with_deps(body, first={"pop_next": int(s >= 2)}, last={"push_next": 1})
        spans.append(Span(start, len(words), model, layer, f"{op} rows {r0}..{r0 + rows}"))
        last = s == steps - 1
        words.append(
            isa.store(sram, c_base + r0 * nb, rows, nb, nb, deps={"pop_prev": 1, "push_prev": int(s + 2 < steps or last)})
        )
    words.append(isa.finish(deps={"pop_next": 1}))
    return Emitted(words, image, out_offset, spans)


def _with_deps(words: list[int], first: dict[str, int], last: dict[str, int]) -> list[int]:
    """Set token bits on the first and last instruction of a unit's group (OR-ed into the header)."""
    out = list(words)
    for index, deps in ((0, first), (len(out) - 1, last)):
        for name, value in deps.items():
            if value:
                out[index] |= 1 << isa.FINISH_LAYOUT.fields[name].lo
    return out
