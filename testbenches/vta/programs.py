"""VTA program generators with numpy references: blocked matmul and conv2d lowered to GEMM.

They stand in for the compiler until it lands, and tests use them. Both use VTA's
decoupled access-execute pattern: the load, compute and store units overlap,
synchronised by dependency tokens, with double-buffered SRAM regions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ila_models import vta_isa as isa
from ila_models.program import MemoryImage, OutputRegion, Program, Span
from ila_models.vta_isa import VtaConfig


def _requantize(acc: np.ndarray, shift: int, relu: bool) -> np.ndarray:
    """The reference of VTA's epilogue: ReLU (MAX 0), SHR, then clip to int8 (MIN 127, MAX -128)."""
    acc = acc.astype(np.int64)
    if relu:
        acc = np.maximum(acc, 0)
    return np.clip(acc >> shift, -128, 127).astype(np.int8)


def _epilogue(uop: int, rows: int, cols: int, shift: int, relu: bool, deps_last: dict[str, int]) -> list[int]:
    """ALU instructions of the epilogue over a rows x cols block of acc rows starting at the uop's dst."""
    ops: list[tuple[str, int]] = [("MAX", 0)] if relu else []
    ops += [("SHR", shift), ("MIN", 127), ("MAX", -128)]
    words = []
    for k, (op, imm) in enumerate(ops):
        deps = deps_last if k == len(ops) - 1 else None
        words.append(isa.alu(op, uop, uop + 1, rows, cols, dst=(cols, 1), src=(cols, 1), imm=imm, deps=deps))
    return words


def matmul(
    m: int = 64,
    k: int = 64,
    n: int = 64,
    chunk_rows: int = 16,
    shift: int = 9,
    relu: bool = True,
    seed: int = 0,
    config: VtaConfig | None = None,
) -> Program:
    """C = clip((relu(A @ W.T + bias)) >> shift) in int8, tiled by `chunk_rows` rows of A, double-buffered."""
    cfg = config or VtaConfig()
    bi, bo = cfg.block_in, cfg.block_out
    if k % bi or n % bo or m % chunk_rows:
        raise ValueError(
            f"matmul: k={k} must be a multiple of {bi}, n={n} of {bo}, m={m} of chunk_rows={chunk_rows}"
        )
    kb, nb, chunks = k // bi, n // bo, m // chunk_rows
    if 2 * chunk_rows * kb > cfg.inp_depth or 2 * chunk_rows * nb > cfg.acc_depth or nb * kb > cfg.wgt_depth:
        raise ValueError("matmul: the tiles do not fit the configuration's buffers; use smaller chunks")
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, size=(m, k), dtype=np.int8)
    w = rng.integers(-128, 128, size=(n, k), dtype=np.int8)
    bias = rng.integers(-4096, 4096, size=(n,), dtype=np.int32)
    expected = _requantize(a.astype(np.int64) @ w.astype(np.int64).T + bias, shift, relu)

    inp_half, acc_half = chunk_rows * kb, chunk_rows * nb
    image = MemoryImage()
    a_base = image.place(a.reshape(m * kb, bi), bi) // bi  # row r, block j -> element r*kb + j
    w_blocks = w.reshape(nb, bo, kb, bi).transpose(0, 2, 1, 3).reshape(nb * kb, bo * bi)
    w_base = image.place(w_blocks, bo * bi) // (bo * bi)
    bias_base = image.place(bias.reshape(nb, bo), 4 * bo) // (4 * bo)
    gemm_uops = [isa.uop(b * acc_half, b * inp_half + j, j) for b in range(2) for j in range(kb)]
    alu_uops = [isa.uop(b * acc_half, b * acc_half) for b in range(2)]
    uop_base = image.place(np.array(gemm_uops + alu_uops, dtype=np.uint32), 4) // 4
    c_base = image.reserve(m * n, bo) // bo

    words = [
        isa.load("UOP", 0, uop_base, 1, len(gemm_uops) + len(alu_uops), 0),
        isa.load("WGT", 0, w_base, 1, nb * kb, 0),
    ]
    load, compute, store = [], [], []
    for c in range(chunks):
        b = c % 2
        load.append(
            isa.load(
                "INP", b * inp_half, a_base + c * chunk_rows * kb, chunk_rows, kb, kb,
                deps={"pop_next": int(c >= 2), "push_next": 1},
            )
        )  # fmt: skip
        # x_stride 0 broadcasts the bias: every row reads the same nb elements
        compute_chunk = [
            isa.load(
                "ACC",
                b * acc_half,
                bias_base,
                chunk_rows,
                nb,
                0,
                deps={"pop_prev": 1, "pop_next": int(c >= 2)},
            ),
            isa.gemm(kb * b, kb * (b + 1), chunk_rows, nb, dst=(nb, 1), src=(kb, 0), wgt=(0, kb)),
        ]
        last = {"push_prev": int(c + 2 < chunks), "push_next": 1}
        compute_chunk += _epilogue(2 * kb + b, chunk_rows, nb, shift, relu, last)
        compute.append(compute_chunk)
        store.append(
            isa.store(
                b * acc_half, c_base + c * chunk_rows * nb, chunk_rows, nb, nb,
                deps={"pop_prev": 1, "push_prev": int(c + 2 < chunks or c == chunks - 1)},
            )
        )  # fmt: skip
    # Issue order as a runtime would: loads run ahead by one chunk.
    spans = []
    for c in range(chunks):
        if c == 0:
            words.append(load[0])
        if c + 1 < chunks:
            words.append(load[c + 1])
        start = len(words)
        words += compute[c]
        spans.append(
            Span(start, len(words), "matmul", f"rows {c * chunk_rows}..{(c + 1) * chunk_rows}", "dense")
        )
        words.append(store[c])
    words.append(isa.finish(deps={"pop_next": 1}))
    dram = image.build()
    return Program(
        accelerator="vta",
        isa_version=isa.ISA_VERSION,
        config=cfg.to_dict(),
        commands=isa.commands_array(words),
        memories={"dram": dram},
        outputs=[OutputRegion("C", "dram", c_base * bo, "int8", (m, n))],
        references={"C": expected},
        provenance={"generator": "testbenches.vta.programs.matmul", "seed": seed, "m": m, "k": k, "n": n},
        spans=spans,
        name=f"matmul_{m}x{k}x{n}",
    )


def conv2d(
    height: int = 14,
    width: int = 14,
    in_channels: int = 64,
    out_channels: int = 64,
    shift: int = 11,
    seed: int = 0,
    config: VtaConfig | None = None,
) -> Program:
    """A 3x3, stride-1, pad-1 conv2d (a ResNet-18 layer at small spatial size) + ReLU + requantisation.

    The input is loaded with VTA's zero padding on all four sides; each output-channel
    block is a GEMM over (input-channel block, kh, kw) micro-ops with the two loop levels
    walking output rows and columns. Weights are double-buffered per output block.
    """
    cfg = config or VtaConfig()
    bi, bo = cfg.block_in, cfg.block_out
    if in_channels % bi or out_channels % bo:
        raise ValueError(f"conv2d: channels must be multiples of the block ({bi}, {bo})")
    icb, ocb = in_channels // bi, out_channels // bo
    ph, pw = height + 2, width + 2
    if icb * ph * pw > cfg.inp_depth or ocb * height * width > cfg.acc_depth or 2 * icb * 9 > cfg.wgt_depth:
        raise ValueError("conv2d: the layer does not fit the configuration's buffers")
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(in_channels, height, width), dtype=np.int8)
    w = rng.integers(-128, 128, size=(out_channels, in_channels, 3, 3), dtype=np.int8)
    xp = np.pad(x.astype(np.int64), ((0, 0), (1, 1), (1, 1)))
    acc = np.zeros((out_channels, height, width), dtype=np.int64)
    for kh in range(3):
        for kw in range(3):
            acc += np.einsum(
                "oi,ihw->ohw", w[:, :, kh, kw].astype(np.int64), xp[:, kh : kh + height, kw : kw + width]
            )
    expected = _requantize(acc, shift, relu=True)

    image = MemoryImage()
    # input: [icb][h][w] elements of bi channels
    x_blocks = x.reshape(icb, bi, height, width).transpose(0, 2, 3, 1).reshape(icb * height * width, bi)
    x_base = image.place(x_blocks, bi) // bi
    # weights: [ocb][icb][kh][kw] blocks of (bo outputs x bi inputs)
    w_blocks = w.reshape(ocb, bo, icb, bi, 3, 3).transpose(0, 2, 4, 5, 1, 3).reshape(ocb * icb * 9, bo * bi)
    w_base = image.place(w_blocks, bo * bi) // (bo * bi)
    per_ocb = icb * 9
    gemm_uops = [
        isa.uop(o * height * width, c * ph * pw + kh * pw + kw, (o % 2) * per_ocb + (c * 3 + kh) * 3 + kw)
        for o in range(ocb)
        for c in range(icb)
        for kh in range(3)
        for kw in range(3)
    ]
    alu_uops = [isa.uop(o * height * width, o * height * width) for o in range(ocb)]
    uop_base = image.place(np.array(gemm_uops + alu_uops, dtype=np.uint32), 4) // 4
    y_base = image.reserve(out_channels * height * width, bo) // bo  # output [ocb][h][w] blocks

    words = [isa.load("UOP", 0, uop_base, 1, len(gemm_uops) + len(alu_uops), 0)]
    words += [
        isa.load("INP", c * ph * pw, x_base + c * height * width, height, width, width, pads=(1, 1, 1, 1))
        for c in range(icb)
    ]
    spans = []
    for o in range(ocb):
        words.append(
            isa.load(
                "WGT", (o % 2) * per_ocb, w_base + o * per_ocb, 1, per_ocb, 0,
                deps={"pop_next": int(o >= 2), "push_next": 1},
            )
        )  # fmt: skip
        start = len(words)
        uops = (o * per_ocb, (o + 1) * per_ocb)
        reset_uop = (uops[0], uops[0] + 1)  # one uop whose dst is the block's first acc row
        words.append(isa.gemm(*reset_uop, height, width, dst=(width, 1), reset=True, deps={"pop_prev": 1}))
        words.append(isa.gemm(*uops, height, width, dst=(width, 1), src=(pw, 1)))
        last = {"push_prev": int(o + 2 < ocb), "push_next": 1}
        words += _epilogue(len(gemm_uops) + o, height, width, shift, True, last)
        spans.append(
            Span(start, len(words), "resnet18", "layer1.0.conv1", f"conv2d oc {o * bo}..{(o + 1) * bo}")
        )
        words.append(
            isa.store(
                o * height * width, y_base + o * height * width, height, width, width,
                deps={"pop_prev": 1, "push_prev": int(o == ocb - 1)},
            )
        )  # fmt: skip
    words.append(isa.finish(deps={"pop_next": 1}))
    return Program(
        accelerator="vta",
        isa_version=isa.ISA_VERSION,
        config=cfg.to_dict(),
        commands=isa.commands_array(words),
        memories={"dram": image.build()},
        outputs=[OutputRegion("Y", "dram", y_base * bo, "int8", (ocb, height, width, bo))],
        references={"Y": expected.reshape(ocb, bo, height, width).transpose(0, 2, 3, 1).copy()},
        provenance={"generator": "testbenches.vta.programs.conv2d", "seed": seed, "layer": "resnet18 3x3"},
        spans=spans,
        name=f"conv2d_{in_channels}x{height}x{width}_to_{out_channels}",
    )


GENERATED: list[Callable[[], Program]] = [matmul, conv2d]
"""`make sim ACCEL=vta`'s default Programs (the plug-in's generators)."""
