"""HLSCNN codegen: an offloaded conv2d (groups 1) becomes one HLSCNN Program.

Quantisation: activations 16-bit fixed point with 7 fractional bits, weights 16-bit with 14 (the formats
`ila_models.hlscnn` defines). The host pads the input; the Program stages the channel-blocked activations
and the weight vectors in SoC memory, moves the weights into SPAD0 through the AXI master, triggers the conv
engine once per tile of filters that fits the scratchpads, and copies the outputs back to SoC memory.
The reference is the engine's exact arithmetic (docs/hlscnn.md, Numerics), vectorised over outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.vta_schedule import TilingError
from compiler.hooks import AcceleratorCall, CompilerHooks
from compiler.ir import terms as T
from compiler.numerics import hlscnn as numerics
from compiler.rules import patterns
from ila_models import hlscnn_isa as isa
from ila_models.hlscnn import ACT, DOT_SHIFT, WEIGHT
from ila_models.hlscnn_isa import ENTRY_BYTES, LANES, HlscnnConfig
from ila_models.hlscnn_program import CommandBuilder, blocked_activations, weight_vectors
from ila_models.mmio import commands_array
from ila_models.program import OutputRegion, Program, Span

OUTPUT = "Y"
MAX_FILTERS = 248
"""kernel_num is 8 bits; tiles of filters stay whole output blocks of 8."""


def _blocks(channels: int) -> int:
    return -(-channels // LANES)


def conv_reference(x: np.ndarray, w: np.ndarray, stride: tuple[int, int]) -> np.ndarray:
    """The conv engine's int16 output (O, rows, cols) for padded x (C, H, W) int16 and w (O, C, kh, kw) int16.

    Per (output, channel block, tap): an exact 8-lane dot product floored by DOT_SHIFT, summed in 32-bit
    wrap-around, then rounded half up to the output format and saturated.
    """
    c, h, wd = x.shape
    o, _, kh, kw = w.shape
    sh, sw = stride
    rows, cols = (h - kh) // sh + 1, (wd - kw) // sw + 1
    x64, w64 = x.astype(np.int64), w.astype(np.int64)
    psum = np.zeros((o, rows, cols), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            window = x64[:, i : i + sh * (rows - 1) + 1 : sh, j : j + sw * (cols - 1) + 1 : sw]
            for c0 in range(0, c, LANES):
                dots = np.einsum("ol,lrq->orq", w64[:, c0 : c0 + LANES, i, j], window[c0 : c0 + LANES])
                psum += dots >> DOT_SHIFT
    psum = ((psum + (1 << 31)) % (1 << 32)) - (1 << 31)
    shift = 16 - ACT.frac
    return np.clip((psum + (1 << (shift - 1))) >> shift, -(1 << 15), (1 << 15) - 1).astype(np.int16)


def _filter_tile(out_chans: int, cb: int, taps: int, out_pixels: int, cfg: HlscnnConfig) -> int:
    """Filters per trigger: whole output blocks whose weights and outputs fit the scratchpads."""
    per_block_w, per_block_out = LANES * cb * taps, out_pixels
    blocks = min(cfg.spad_entries // per_block_w, cfg.spad_entries // per_block_out, MAX_FILTERS // LANES)
    if blocks == 0:
        raise TilingError(
            f"hlscnn conv2d: 8 filters need {per_block_w} weight entries and {per_block_out} output entries; "
            f"each scratchpad holds {cfg.spad_entries}"
        )
    return min(out_chans, blocks * LANES)


def conv2d(
    x: np.ndarray, w: np.ndarray, conv: tuple[int, ...], where: Where, groups: int = 1, cfg: HlscnnConfig | None = None
) -> Lowered:
    """NCHW x conv OIHW w, strides and padding `conv` = (sh, sw, pt, pl, pb, pr), in HLSCNN fixed point.

    With groups > 1 each group is its own sequence of triggers on its slice of channels and filters; its
    outputs get whole output blocks of their own (region `Y` is (N, G, blocks, rows, cols, 8)).
    """
    cfg = cfg or HlscnnConfig()
    sh, sw, pt, pl, pb, pr = conv
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
        raise TilingError(f"hlscnn conv2d: x {x.shape} and w {w.shape} are not NCHW/OIHW with {groups} group(s)")
    n = x.shape[0]
    o, c, kh, kw = w.shape  # c: channels per group
    og = o // groups
    qx = ACT.quantize(np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr))))
    qw = WEIGHT[16].quantize(w).astype(np.int16)
    in_rows, in_cols = qx.shape[2:]
    rows, cols = (in_rows - kh) // sh + 1, (in_cols - kw) // sw + 1
    if max(in_rows, in_cols) >= 1 << 10 or c >= 1 << 12 or max(kh, kw) >= 1 << 8 or max(sh, sw) >= 1 << 3:
        raise TilingError(f"hlscnn conv2d: sizes of x {x.shape}, w {w.shape}, strides {(sh, sw)} exceed the register fields")
    cb, ob = _blocks(c), _blocks(og)
    tile = _filter_tile(og, cb, kh * kw, rows * cols, cfg)
    taps = cb * kh * kw

    b = CommandBuilder(cfg)
    spans = []
    w_addr = b.image.place(weight_vectors(qw), ENTRY_BYTES)
    out_addr = b.image.reserve(n * groups * ob * rows * cols * ENTRY_BYTES, ENTRY_BYTES)
    expected = np.zeros((n, groups, ob * LANES, rows, cols), np.int16)
    for image in range(n):
        for g in range(groups):
            act_addr = b.image.place(blocked_activations(act_channels(qx, image, g, c)), ENTRY_BYTES)
            for f0 in range(0, og, tile):
                filters, first_filter = min(tile, og - f0), g * og + f0
                start = len(b.words)
                b.transfer(0, 0, w_addr + first_filter * taps * ENTRY_BYTES, filters * taps, read=False)
                b.conv_trigger(act_addr, 0, (c, in_rows, in_cols), (filters, rows, cols), (kh, kw), (sh, sw))
                first_entry = ((image * groups + g) * ob + f0 // LANES) * rows * cols
                b.transfer(1, 0, out_addr + first_entry * ENTRY_BYTES, _blocks(filters) * rows * cols, read=True)
                group = f" group {g}" if groups > 1 else ""
                op = f"conv2d image {image}{group} filters {first_filter}..{first_filter + filters}"
                spans.append(Span(start, len(b.words), where.model, where.layer, op))
                weights = qw[first_filter : first_filter + filters]
                expected[image, g, f0 : f0 + filters] = conv_reference(act_channels(qx, image, g, c), weights, (sh, sw))
    ref = expected.reshape(n, groups, ob, LANES, rows, cols).transpose(0, 1, 2, 4, 5, 3).copy()
    op_name = "hlscnn_conv2d" if groups == 1 else "hlscnn_grouped_conv2d"
    program = Program(
        accelerator="hlscnn",
        isa_version=isa.ISA_VERSION,
        config=cfg.to_dict(),
        commands=commands_array(b.words),
        memories={"dram": b.image.build()},
        outputs=[OutputRegion(OUTPUT, "dram", out_addr, "int16", ref.shape)],
        references={OUTPUT: ref},
        provenance=where.provenance(op_name, x=list(x.shape), w=list(w.shape), conv=list(conv), groups=groups),
        spans=spans,
        name=f"{where.model}_{where.layer}",
    )

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        y = out[OUTPUT].transpose(0, 1, 2, 5, 3, 4).reshape(n, groups, ob * LANES, rows, cols)[:, :, :og]
        return np.asarray(ACT.to_float(y.reshape(n, o, rows, cols)), dtype=np.float32)

    return Lowered(program, decode)


def act_channels(qx: np.ndarray, image: int, group: int, channels: int) -> np.ndarray:
    """The padded, quantised input channels of one group of one image."""
    return qx[image, group * channels : (group + 1) * channels]


_ATTRIBUTES = {"hlscnn_conv2d": 6, "hlscnn_grouped_conv2d": 7}
"""The HLSCNN calls the codegen lowers, and how many literal attributes each takes."""


def lower(name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...], where: Where) -> Lowered:
    """The Program of HLSCNN call `name` on concrete inputs (conv2d, grouped or not)."""
    if name not in _ATTRIBUTES:
        raise KeyError(f"no HLSCNN codegen for {name!r}; expected one of {', '.join(_ATTRIBUTES)}")
    if len(arrays) != 2 or len(attrs) != _ATTRIBUTES[name]:
        raise ValueError(f"{name}: expected 2 arrays and {_ATTRIBUTES[name]} attributes, got {len(arrays)} and {attrs!r}")
    conv = tuple(int(a) for a in attrs[:6])
    return conv2d(arrays[0], arrays[1], conv, where, groups=int(attrs[6]) if len(attrs) == 7 else 1)


HOOKS = CompilerHooks(
    patterns=patterns.hlscnn,
    flexible=("linear", "layout", "linear_as_conv"),
    calls=(
        AcceleratorCall("hlscnn_conv2d", T.hlscnn_conv2d),
        AcceleratorCall("hlscnn_grouped_conv2d", T.hlscnn_grouped_conv2d),
    ),
    lower=lower,
    lowered=frozenset(_ATTRIBUTES),
    numerics=numerics.CALLS,
)
"""What the compiler needs of HLSCNN (named by its plug-in, `ila_models.hlscnn.ACCELERATOR`)."""
