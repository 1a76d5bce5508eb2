"""FlexASR codegen for flex_meanpool: the H*W positions as timesteps, log2(H*W) layer-reduce means."""

from __future__ import annotations

import numpy as np

from compiler.codegen.flexasr_operands import (
    ACT_FRAC,
    MAX_IN_VECTORS,
    OUTPUT,
    exponent,
    output_memory,
    pad,
    peak,
    vectors,
)
from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.vta_schedule import TilingError
from ila_models import adaptivfloat as af
from ila_models import flexasr as flexasr_ila
from ila_models import flexasr_isa as isa
from ila_models.flexasr_isa import LANES
from ila_models.program import OutputRegion, Span


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
    nv = vectors(c)
    rows = isa.block_rows(nv, hw)
    if n * rows > isa.GB_LARGE_VECTORS or nv > MAX_IN_VECTORS:
        raise TilingError(f"flex_meanpool: {n} images of {hw} x {nv} vectors overflow the large buffer")
    fx = exponent(peak(x))
    bias = 4  # any bias in 0..7 gives the same codes once x is scaled to it
    scale = bias - fx - 3
    codes = pad(af.encode(np.ldexp(x.astype(np.float64), scale), bias), 1, 16 * nv)
    codes = codes.reshape(n, nv, LANES, hw).transpose(0, 3, 1, 2)  # (image, position, vector, lane)
    words: list[int] = []
    spans: list[Span] = []
    ref = np.zeros((n, rows, LANES), np.uint8)
    for image in range(n):
        base = image * rows
        start = len(words)
        words.append(isa.gb_config("mem_mngr_large", num_vector_0=nv, base_large_0=base))
        isa.store_timesteps(words, codes[image], base)
        for p in range(passes):
            words.append(isa.gb_config(
                "layer_reduce", is_valid=1, mode=1, memory_index_1=0, num_vector_1=nv, num_timestep_1=hw >> p,
            ))  # fmt: skip
            words.append(isa.gb_start("layer_reduce"))
        spans.append(Span(start, len(words), where.model, where.layer, f"meanpool image {image}"))
        # every pass leaves the timesteps it does not write: the final block holds each pass's tail
        block = np.zeros((-(-hw // 16) * 16, nv, LANES), np.uint8)
        block[:hw] = codes[image]
        for p in range(passes):
            m = hw >> p
            block[: m // 2] = meanpool_reference(block[:m], 1)
        ref[image] = block.reshape(-1, 16, nv, LANES).transpose(0, 2, 1, 3).reshape(rows, LANES)
    prog = flexasr_ila.program(
        f"{where.model}_{where.layer}",
        words,
        spans,
        where.provenance("flex_meanpool", x=list(x.shape), scale_x=scale, adpfloat_bias=bias),
        memories=output_memory(),
        outputs=[OutputRegion(OUTPUT, "gb_large", 0, "uint8", ref.shape)],
        references={OUTPUT: ref},
    )

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        # timestep 0 of each image: rows 16 v of its block
        first = out[OUTPUT].reshape(n, -1, nv, 16, LANES)[:, 0, :, 0, :].reshape(n, nv * LANES)[:, :c]
        y = np.ldexp(af.decode(first, bias), -scale)
        return y.astype(np.float32).reshape(n, c, 1, 1)

    return Lowered(prog, decode)
