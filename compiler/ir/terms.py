"""Typed egglog Expr classes for the tensor programs the matcher rewrites.

Three kinds of operator:
- *import forms*: Relax operators the rules look inside (conv2d, matmul, add, ...), plus `host`, an opaque
  call to any other Relax operator (its attributes live in a side table, keyed by `node`);
- *derived forms* that rules introduce (dense, bias_add, im2col, ...): valid programs on their own, run on
  the host if extracted;
- *accelerator calls* (vta_*, flex_*, hlscnn_*): each becomes a call to that accelerator's codegen; which
  accelerator owns which is declared by its `compiler.hooks.CompilerHooks`, not here.

Static attributes are literals (i64 for sizes, String for shapes and axes) so that equal attributes
hash-cons to equal terms.
"""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from typing import Any

from egglog import Expr, StringLike, function, i64Like, relation


class Tensor(Expr):
    """A float32 tensor-valued term."""

    @classmethod
    def input(cls, name: StringLike) -> Tensor:
        """A function parameter (the model's input)."""

    @classmethod
    def const(cls, name: StringLike) -> Tensor:
        """A constant (weights, biases); its value lives in the module's constant table."""


class TensorList(Expr):
    """Arguments of an opaque host call, as a cons list."""

    @classmethod
    def nil(cls) -> TensorList: ...

    @classmethod
    def cons(cls, head: Tensor, tail: TensorList) -> TensorList: ...


# Facts the importer states about constants (shape checks the rules need).
is_bias = relation("is_bias", Tensor)
"""A constant with exactly one non-unit dimension, the last or (for NCHW) the channel one: a bias vector."""
is_matrix = relation("is_matrix", Tensor)
"""A 2-D tensor."""


# ---- import forms ------------------------------------------------------------------------------
@function
def host(node: i64Like, args: TensorList) -> Tensor:
    """Opaque Relax call number `node` of the imported module, on new arguments."""


@function
def conv2d(
    x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like
) -> Tensor:
    """NCHW/OIHW 2-D convolution, groups 1, dilation 1; strides (sh, sw), padding (top, left, bottom, right)."""


@function
def grouped_conv2d(
    x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like, groups: i64Like
) -> Tensor:
    """NCHW/OIHW 2-D convolution with groups > 1 (depthwise when groups == channels)."""


@function
def matmul(a: Tensor, b: Tensor) -> Tensor:
    """numpy-style matmul (batched, broadcasting)."""


@function
def transpose(x: Tensor) -> Tensor:
    """Transpose of a 2-D tensor."""


@function
def permute(x: Tensor, axes: StringLike) -> Tensor:
    """permute_dims with axes given as comma-separated integers."""


@function
def reshape(x: Tensor, shape: StringLike) -> Tensor:
    """Reshape to the shape given as comma-separated integers."""


@function
def add(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise add with broadcasting."""


@function
def mul(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise multiply with broadcasting."""


@function
def sigmoid(x: Tensor) -> Tensor: ...


@function
def tanh(x: Tensor) -> Tensor: ...


@function
def chunk(x: Tensor, parts: i64Like, index: i64Like) -> Tensor:
    """Part `index` of `parts` equal slices of the last axis (Relax split + tuple item)."""


@function
def max_pool2d(x: Tensor, kh: i64Like, kw: i64Like, sh: i64Like, sw: i64Like) -> Tensor:
    """NCHW max pooling without padding."""


@function
def global_mean(x: Tensor) -> Tensor:
    """Mean over H and W of an NCHW tensor, keeping dims (global average pooling)."""


# ---- derived forms -----------------------------------------------------------------------------
@function
def dense(x: Tensor, w: Tensor) -> Tensor:
    """x[..., K] @ w[N, K]^T (Relay's nn.dense)."""


@function
def bias_add(x: Tensor, b: Tensor) -> Tensor:
    """x + b, b a bias vector (broadcast along its non-unit axis)."""


@function
def zeros_bias(w: Tensor) -> Tensor:
    """Zero vector of length w.shape[0] (the bias of a linear layer with no bias)."""


@function
def im2col(x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like) -> Tensor:
    """Windows of NCHW x as rows: (N*OH*OW, C*KH*KW); the kernel w gives KH, KW."""


@function
def flatten_kernel(w: Tensor) -> Tensor:
    """OIHW kernel as an (O, I*KH*KW) matrix."""


@function
def col2im(y: Tensor, x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like) -> Tensor:
    """GEMM result (N*OH*OW, O) back to NCHW (N, O, OH, OW) for the convolution of x by w."""


@function
def group_im2col(x: Tensor, w: Tensor, groups: i64Like, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like) -> Tensor:
    """im2col per channel group: (G, N*OH*OW, C/G*KH*KW)."""


@function
def group_kernel(w: Tensor, groups: i64Like) -> Tensor:
    """Grouped OIHW kernel as (G, KH*KW*I/G, O/G) matrices, ready for a batched matmul."""


@function
def group_col2im(y: Tensor, x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like) -> Tensor:
    """Batched GEMM result (G, N*OH*OW, O/G) back to NCHW (N, O, OH, OW)."""


@function
def to_pixels(x: Tensor) -> Tensor:
    """(..., K) rows as a (1, K, M, 1) NCHW image (M = product of leading dims)."""


@function
def as_1x1_kernel(w: Tensor) -> Tensor:
    """(N, K) weight as an (N, K, 1, 1) OIHW kernel."""


@function
def from_pixels(y: Tensor, x: Tensor) -> Tensor:
    """(1, N, M, 1) image back to rows shaped like x with last dim N."""


@function
def per_group_conv2d(
    x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like, groups: i64Like
) -> Tensor:
    """A grouped convolution as `groups` independent ungrouped convolutions (concatenated on channels)."""


@function
def lstm_cell_c(gates: Tensor, c: Tensor) -> Tensor:
    """LSTM next cell state from pre-activation gates [i, f, g, o] and the cell state c."""


@function
def lstm_cell_h(gates: Tensor, c: Tensor) -> Tensor:
    """LSTM next hidden state o * tanh(c') from gates and the previous cell state c."""


# ---- accelerator calls -------------------------------------------------------------------------
@function
def vta_dense(x: Tensor, w: Tensor) -> Tensor:
    """VTA GEMM: x[..., K] @ w[N, K]^T, int8 inputs, int32 accumulation."""


@function
def vta_bias_add(x: Tensor, b: Tensor) -> Tensor:
    """VTA ALU ADD of a bias vector."""


@function
def vta_matmul(a: Tensor, b: Tensor) -> Tensor:
    """VTA GEMM tiled over the batch of a batched matmul a @ b."""


@function
def flex_linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """FlexASR linear layer: x @ w^T + b in AdaptivFloat."""


@function
def flex_lstm_c(gates: Tensor, c: Tensor) -> Tensor:
    """FlexASR LSTM cell (activation unit): next cell state."""


@function
def flex_lstm_h(gates: Tensor, c: Tensor) -> Tensor:
    """FlexASR LSTM cell (activation unit): next hidden state."""


@function
def flex_maxpool(x: Tensor) -> Tensor:
    """FlexASR layer reduce (max mode): 2x2, stride-2 max pooling."""


@function
def flex_meanpool(x: Tensor) -> Tensor:
    """FlexASR layer reduce (mean mode): global average pooling over H, W."""


@function
def hlscnn_conv2d(
    x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like
) -> Tensor:
    """HLSCNN convolution (groups 1), fixed point."""


@function
def hlscnn_grouped_conv2d(
    x: Tensor, w: Tensor, sh: i64Like, sw: i64Like, pt: i64Like, pl: i64Like, pb: i64Like, pr: i64Like, groups: i64Like
) -> Tensor:
    """HLSCNN convolution run once per channel group."""


LAYOUT_GLUE: frozenset[Any] = frozenset(
    {
        reshape, transpose, permute, chunk, zeros_bias, im2col, flatten_kernel, col2im,
        group_im2col, group_kernel, group_col2im, to_pixels, as_1x1_kernel, from_pixels,
    }
)  # fmt: skip
"""Data-movement terms (their egglog functions): cheap host-side marshalling around accelerator calls."""

LEAVES: frozenset[Any] = frozenset({Tensor.input, Tensor.const, TensorList.nil, TensorList.cons})
"""Inputs, constants and argument lists: no computation of their own."""
