"""VTA codegen: each offloaded call (vta_dense, vta_bias_add, vta_matmul) becomes one VTA Program.

Quantisation is `compiler.numerics.vta`'s (int8 inputs and weights with per-tensor scales, int32 bias on
a shared scale, a right shift chosen from the accumulators, clip to int8); the operands are padded to
VTA's blocks and tiled to its buffers by `compiler.codegen.vta_schedule`. Each Program's reference is the
int8 result numpy computes with the same codes, and `Lowered.decode` turns the int8 output back into the
call's float result, exactly as the emulated numerics do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from compiler.codegen import vta_schedule
from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.vta_schedule import Emitted, TilingError
from compiler.hooks import AcceleratorCall, CompilerHooks
from compiler.ir import terms as T
from compiler.numerics import vta as numerics
from compiler.rules import patterns
from ila_models import vta_isa as isa
from ila_models.program import OutputRegion, Program
from ila_models.vta_isa import VtaConfig

OUTPUT = "C"


def _pad_to(x: np.ndarray, axis: int, block: int) -> np.ndarray:
    extra = -x.shape[axis] % block
    if not extra:
        return x
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, extra)
    return np.pad(x, widths)


def _program(emitted: Emitted, reference: np.ndarray, cfg: VtaConfig, where: Where, op: str, **extra: Any) -> Program:
    return Program(
        accelerator="vta",
        isa_version=isa.ISA_VERSION,
        config=cfg.to_dict(),
        commands=isa.commands_array(emitted.words),
        memories={"dram": emitted.image.build()},
        outputs=[OutputRegion(OUTPUT, "dram", emitted.out_offset, "int8", reference.shape)],
        references={OUTPUT: reference},
        provenance=where.provenance(op, **extra),
        spans=emitted.spans,
        name=f"{where.model}_{where.layer}",
    )


def _gemm(qa: np.ndarray, qw: np.ndarray, cfg: VtaConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Padded int8 operands (G, M, Kp), (G, Np, Kp), the int8 reference (G, M, Np) and the shift."""
    a = _pad_to(qa, 2, cfg.block_in)
    w = _pad_to(_pad_to(qw, 2, cfg.block_in), 1, cfg.block_out)
    acc = a.astype(np.int32) @ np.swapaxes(w.astype(np.int32), 1, 2)
    shift = numerics.output_shift(acc)
    return a, w, numerics.requantize(acc, shift), shift


def dense(x: np.ndarray, w: np.ndarray, where: Where, cfg: VtaConfig | None = None) -> Lowered:
    """x[..., K] @ w[N, K]^T as one tiled int8 GEMM."""
    cfg = cfg or VtaConfig()
    if w.ndim != 2 or x.shape[-1] != w.shape[1]:
        raise TilingError(f"vta_dense: x {x.shape} and w {w.shape} must be (..., K) and (N, K)")
    n = w.shape[0]
    qx, qw, scale = numerics.dense_codes(x, w)
    a, wp, ref, shift = _gemm(qx.reshape(1, -1, x.shape[-1]), qw[None], cfg)
    emitted = vta_schedule.gemm(a, wp, shift, cfg, where.model, where.layer, "dense")
    program = _program(emitted, ref, cfg, where, "vta_dense", scale=scale, shift=shift, x=list(x.shape), w=list(w.shape))
    lead = x.shape[:-1]
    return Lowered(program, lambda out: numerics.dequantize(out[OUTPUT][0, :, :n], scale, shift).reshape(*lead, n))


def matmul(a: np.ndarray, b: np.ndarray, where: Where, cfg: VtaConfig | None = None) -> Lowered:
    """Batched a[..., M, K] @ b[..., K, N]: one GEMM per batch element, in one Program."""
    cfg = cfg or VtaConfig()
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-2]:
        raise TilingError(f"vta_matmul: a {a.shape} and b {b.shape} must be (..., M, K) and (..., K, N)")
    (m, k), n = a.shape[-2:], b.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    qa, qbt, scale = numerics.matmul_codes(a, b)
    qa = np.broadcast_to(qa, (*batch, m, k)).reshape(-1, m, k)
    qbt = np.broadcast_to(qbt, (*batch, n, k)).reshape(-1, n, k)
    ap, wp, ref, shift = _gemm(qa, qbt, cfg)
    emitted = vta_schedule.gemm(ap, wp, shift, cfg, where.model, where.layer, "matmul")
    program = _program(emitted, ref, cfg, where, "vta_matmul", scale=scale, shift=shift, a=list(a.shape), b=list(b.shape))
    return Lowered(
        program, lambda out: numerics.dequantize(out[OUTPUT][:, :, :n], scale, shift).reshape(*batch, m, n)
    )


def _bias_axis(x: np.ndarray, b: np.ndarray) -> int:
    """The axis of x that b's one non-unit dimension runs along (the last if b is a scalar)."""
    if np.broadcast_shapes(x.shape, b.shape) != x.shape:
        raise TilingError(f"vta_bias_add: bias {b.shape} does not broadcast onto x {x.shape}")
    offset = x.ndim - b.ndim
    axes = [offset + i for i, d in enumerate(b.shape) if d != 1]
    if len(axes) > 1:
        raise TilingError(f"vta_bias_add: bias {b.shape} has more than one non-unit dimension")
    return axes[0] if axes else x.ndim - 1


def bias_add(x: np.ndarray, b: np.ndarray, where: Where, cfg: VtaConfig | None = None) -> Lowered:
    """x + b, b a bias vector along one axis of x: LOAD ACC of both, ALU ADD, requantise."""
    cfg = cfg or VtaConfig()
    axis = _bias_axis(x, b)
    channels = x.shape[axis]
    ax, ab, scale = numerics.bias_add_codes(x, b)
    moved = np.moveaxis(ax, axis, -1)
    rows = _pad_to(moved.reshape(-1, channels), 1, cfg.block_out)
    bias = _pad_to(np.broadcast_to(ab.reshape(-1), (channels,)), 0, cfg.block_out)
    acc = rows.astype(np.int64) + bias.astype(np.int64)
    shift = numerics.output_shift(acc)
    emitted = vta_schedule.bias_add(rows, bias, shift, cfg, where.model, where.layer, "bias_add")
    ref = numerics.requantize(acc, shift)
    program = _program(emitted, ref, cfg, where, "vta_bias_add", scale=scale, shift=shift, x=list(x.shape), b=list(b.shape))

    def decode(out: dict[str, np.ndarray]) -> np.ndarray:
        y = numerics.dequantize(out[OUTPUT][:, :channels], scale, shift).reshape(moved.shape)
        return np.ascontiguousarray(np.moveaxis(y, -1, axis))

    return Lowered(program, decode)


_PROGRAMS: dict[str, Callable[[np.ndarray, np.ndarray, Where], Lowered]] = {
    "vta_dense": dense, "vta_bias_add": bias_add, "vta_matmul": matmul,
}  # fmt: skip
"""The codegen of each VTA call."""


def lower(name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...], where: Where) -> Lowered:
    """The Program of VTA call `name` on concrete inputs."""
    if name not in _PROGRAMS:
        raise KeyError(f"no VTA codegen for {name!r}; expected one of {', '.join(_PROGRAMS)}")
    if attrs or len(arrays) != 2:
        raise ValueError(f"{name}: expected 2 arrays and no attributes, got {len(arrays)} and {attrs!r}")
    return _PROGRAMS[name](arrays[0], arrays[1], where)


HOOKS = CompilerHooks(
    patterns=patterns.vta,
    flexible=("linear", "im2col", "matmul", "layout"),
    calls=(
        AcceleratorCall("vta_dense", T.vta_dense),
        AcceleratorCall("vta_bias_add", T.vta_bias_add),
        AcceleratorCall("vta_matmul", T.vta_matmul),
    ),
    lower=lower,
    lowered=frozenset(_PROGRAMS),
    numerics=numerics.CALLS,
)
"""What the compiler needs of VTA (named by its plug-in, `ila_models.vta.ACCELERATOR`)."""
