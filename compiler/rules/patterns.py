"""Exact accelerator patterns (the baseline): an operator offloads only when spelled as the accelerator's op.

- VTA: dense, and bias_add (a bias vector added on the right);
- FlexASR: linear = bias_add(dense) and the LSTM cell as torch.nn.LSTM's export spells it;
- HLSCNN: conv2d with groups == 1.
The derived forms (dense, bias_add, lstm_cell_*, per_group_conv2d) that flexible rewrites produce are
lowered here too, so a family only has to reach one of them.
"""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, i64, rewrite, rule, ruleset, union

from compiler.ir.terms import (
    Tensor,
    add,
    bias_add,
    chunk,
    conv2d,
    dense,
    flex_linear,
    flex_lstm_c,
    flex_lstm_h,
    hlscnn_conv2d,
    hlscnn_grouped_conv2d,
    is_bias,
    lstm_cell_c,
    lstm_cell_h,
    matmul,
    mul,
    per_group_conv2d,
    sigmoid,
    tanh,
    transpose,
    vta_bias_add,
    vta_dense,
)


@ruleset
def vta_patterns(x: Tensor, w: Tensor, b: Tensor, e: Tensor) -> Iterable[RewriteOrRule]:
    yield rewrite(matmul(x, transpose(w))).to(vta_dense(x, w))
    yield rewrite(dense(x, w)).to(vta_dense(x, w))
    yield rule(eq_add := add(x, b), is_bias(b)).then(union(eq_add).with_(vta_bias_add(x, b)))
    yield rewrite(bias_add(x, b)).to(vta_bias_add(x, b))


@ruleset
def flexasr_patterns(x: Tensor, w: Tensor, b: Tensor, g: Tensor, c: Tensor) -> Iterable[RewriteOrRule]:
    yield rule(e := add(matmul(x, transpose(w)), b), is_bias(b)).then(union(e).with_(flex_linear(x, w, b)))
    yield rewrite(bias_add(dense(x, w), b)).to(flex_linear(x, w, b))
    # torch.nn.LSTM's cell as TVM's frontend spells it: c' = f*c + i*g ; h' = o * tanh(c')
    cell_c = add(mul(sigmoid(chunk(g, 4, 1)), c), mul(sigmoid(chunk(g, 4, 0)), tanh(chunk(g, 4, 2))))
    yield rewrite(cell_c).to(flex_lstm_c(g, c))
    yield rewrite(mul(sigmoid(chunk(g, 4, 3)), tanh(flex_lstm_c(g, c)))).to(flex_lstm_h(g, c))
    yield rewrite(lstm_cell_c(g, c)).to(flex_lstm_c(g, c))
    yield rewrite(lstm_cell_h(g, c)).to(flex_lstm_h(g, c))


@ruleset
def hlscnn_patterns(x: Tensor, w: Tensor, sh: i64, sw: i64, pt: i64, pl: i64, pb: i64, pr: i64, gr: i64) -> Iterable[RewriteOrRule]:
    yield rewrite(conv2d(x, w, sh, sw, pt, pl, pb, pr)).to(hlscnn_conv2d(x, w, sh, sw, pt, pl, pb, pr))
    yield rewrite(per_group_conv2d(x, w, sh, sw, pt, pl, pb, pr, gr)).to(
        hlscnn_grouped_conv2d(x, w, sh, sw, pt, pl, pb, pr, gr)
    )


vta = vta_patterns
flexasr = flexasr_patterns
hlscnn = hlscnn_patterns
