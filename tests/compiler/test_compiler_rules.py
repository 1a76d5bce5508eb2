"""Every rewrite rule: it fires on its left side, and both sides compute the same on random inputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from egglog import EGraph, Ruleset, eq

from compiler.hooks import compiler_hooks, targeted
from compiler.ir import terms as T
from compiler.rules import FAMILIES

PATTERNS = {name: compiler_hooks(name).patterns for name in ("vta", "flexasr", "hlscnn")}

X, W, B, G, C, A = (T.Tensor.input(n) for n in "xwbgca")
CONV = (2, 1, 1, 0, 1, 2)  # strides (2, 1), padding (top 1, left 0, bottom 1, right 2)


@dataclass
class Case:
    rule: str
    ruleset: Ruleset
    lhs: Any
    rhs: Any
    shapes: dict[str, tuple[int, ...]]
    facts: tuple[Any, ...] = ()
    consts: tuple[str, ...] = ()  # inputs that are constants (facts need them as Tensor.const)


def _const(name: str) -> T.Tensor:
    return T.Tensor.const(name)


BC = _const("bc")  # a bias vector constant
WC = _const("wc")  # a weight-matrix constant

CASES = [
    Case("linear: matmul by transposed weight is dense", FAMILIES["linear"], T.matmul(X, T.transpose(W)), T.dense(X, W), {"x": (3, 5), "w": (4, 5)}),
    Case("linear: bias on the left moves right", FAMILIES["linear"], T.add(BC, X), T.add(X, BC), {"x": (3, 4)}, (T.is_bias(BC),), ("bc",)),
    Case("linear: adding a bias vector is bias_add", FAMILIES["linear"], T.add(X, BC), T.bias_add(X, BC), {"x": (3, 4)}, (T.is_bias(BC),), ("bc",)),
    Case("dot_product: dense is linear with zero bias", FAMILIES["dot_product"], T.dense(X, W), T.bias_add(T.dense(X, W), T.zeros_bias(W)), {"x": (3, 5), "w": (4, 5)}),
    Case("matmul: batched matmul onto VTA GEMM", FAMILIES["matmul"], T.matmul(X, W), T.vta_matmul(X, W), {"x": (2, 3, 5), "w": (2, 5, 4)}),
    Case("matmul: matmul by a matrix is dense", FAMILIES["matmul"], T.matmul(X, WC), T.dense(X, T.transpose(WC)), {"x": (2, 3, 5)}, (T.is_matrix(WC),), ("wc",)),
    Case("im2col: conv2d as GEMM", FAMILIES["im2col"], T.conv2d(X, W, *CONV),
         T.col2im(T.dense(T.im2col(X, W, *CONV), T.flatten_kernel(W)), X, W, *CONV), {"x": (1, 3, 7, 6), "w": (4, 3, 3, 2)}),
    Case("im2col: grouped conv2d as batched GEMM", FAMILIES["im2col"], T.grouped_conv2d(X, W, *CONV, 2),
         T.group_col2im(T.matmul(T.group_im2col(X, W, 2, *CONV), T.group_kernel(W, 2)), X, W, *CONV), {"x": (1, 4, 7, 6), "w": (6, 2, 3, 3)}),
    Case("maxpool: 2x2 max pool on FlexASR", FAMILIES["maxpool"], T.max_pool2d(X, 2, 2, 2, 2), T.flex_maxpool(X), {"x": (1, 3, 8, 6)}),
    Case("maxpool: 4x4 reassociated", FAMILIES["maxpool"], T.max_pool2d(X, 4, 4, 4, 4), T.max_pool2d(T.max_pool2d(X, 2, 2, 2, 2), 2, 2, 2, 2), {"x": (1, 2, 8, 8)}),
    Case("maxpool: 8x8 reassociated", FAMILIES["maxpool"], T.max_pool2d(X, 8, 8, 8, 8), T.max_pool2d(T.max_pool2d(X, 2, 2, 2, 2), 4, 4, 4, 4), {"x": (1, 2, 16, 8)}),
    Case("maxpool: global mean on layer reduce", FAMILIES["maxpool"], T.global_mean(X), T.flex_meanpool(X), {"x": (1, 3, 4, 5)}),
    Case("lstm_cell: mul commutes", FAMILIES["lstm_cell"], T.mul(X, A), T.mul(A, X), {"x": (2, 3), "a": (2, 3)}),
    Case("lstm_cell: add commutes", FAMILIES["lstm_cell"], T.add(X, A), T.add(A, X), {"x": (2, 3), "a": (2, 3)}),
    Case("lstm_cell: cell state", FAMILIES["lstm_cell"],
         T.add(T.mul(T.tanh(T.chunk(G, 4, 2)), T.sigmoid(T.chunk(G, 4, 0))), T.mul(C, T.sigmoid(T.chunk(G, 4, 1)))),
         T.lstm_cell_c(G, C), {"g": (1, 1, 32), "c": (1, 1, 8)}),
    Case("lstm_cell: hidden state", FAMILIES["lstm_cell"], T.mul(T.sigmoid(T.chunk(G, 4, 3)), T.tanh(T.lstm_cell_c(G, C))),
         T.lstm_cell_h(G, C), {"g": (1, 1, 32), "c": (1, 1, 8)}),
    Case("layout: reshape of reshape", FAMILIES["layout"], T.reshape(T.reshape(X, "6,4"), "2,12"), T.reshape(X, "2,12"), {"x": (3, 8)}),
    Case("layout: transpose of transpose", FAMILIES["layout"], T.transpose(T.transpose(X)), X, {"x": (3, 8)}),
    Case("layout: grouped conv as per-group convs", FAMILIES["layout"], T.grouped_conv2d(X, W, *CONV, 2), T.per_group_conv2d(X, W, *CONV, 2), {"x": (1, 4, 7, 6), "w": (6, 2, 3, 3)}),
    Case("linear_as_conv: dense as 1x1 conv", FAMILIES["linear_as_conv"], T.dense(X, W),
         T.from_pixels(T.conv2d(T.to_pixels(X), T.as_1x1_kernel(W), 1, 1, 0, 0, 0, 0), X), {"x": (2, 3, 5), "w": (4, 5)}),
    Case("vta: dense", PATTERNS["vta"], T.matmul(X, T.transpose(W)), T.vta_dense(X, W), {"x": (3, 5), "w": (4, 5)}),
    Case("vta: dense (derived)", PATTERNS["vta"], T.dense(X, W), T.vta_dense(X, W), {"x": (3, 5), "w": (4, 5)}),
    Case("vta: bias_add", PATTERNS["vta"], T.add(X, BC), T.vta_bias_add(X, BC), {"x": (3, 4)}, (T.is_bias(BC),), ("bc",)),
    Case("vta: bias_add (derived)", PATTERNS["vta"], T.bias_add(X, B), T.vta_bias_add(X, B), {"x": (3, 4), "b": (4,)}),
    Case("flexasr: linear", PATTERNS["flexasr"], T.add(T.matmul(X, T.transpose(W)), BC), T.flex_linear(X, W, BC), {"x": (3, 5), "w": (4, 5)}, (T.is_bias(BC),), ("bc",)),
    Case("flexasr: linear (derived)", PATTERNS["flexasr"], T.bias_add(T.dense(X, W), B), T.flex_linear(X, W, B), {"x": (3, 5), "w": (4, 5), "b": (4,)}),
    Case("flexasr: LSTM cell state", PATTERNS["flexasr"],
         T.add(T.mul(T.sigmoid(T.chunk(G, 4, 1)), C), T.mul(T.sigmoid(T.chunk(G, 4, 0)), T.tanh(T.chunk(G, 4, 2)))),
         T.flex_lstm_c(G, C), {"g": (1, 1, 32), "c": (1, 1, 8)}),
    Case("flexasr: LSTM hidden state", PATTERNS["flexasr"], T.mul(T.sigmoid(T.chunk(G, 4, 3)), T.tanh(T.flex_lstm_c(G, C))),
         T.flex_lstm_h(G, C), {"g": (1, 1, 32), "c": (1, 1, 8)}),
    Case("flexasr: cell state (derived)", PATTERNS["flexasr"], T.lstm_cell_c(G, C), T.flex_lstm_c(G, C), {"g": (1, 1, 32), "c": (1, 1, 8)}),
    Case("flexasr: hidden state (derived)", PATTERNS["flexasr"], T.lstm_cell_h(G, C), T.flex_lstm_h(G, C), {"g": (1, 1, 32), "c": (1, 1, 8)}),
    Case("hlscnn: conv2d", PATTERNS["hlscnn"], T.conv2d(X, W, *CONV), T.hlscnn_conv2d(X, W, *CONV), {"x": (1, 3, 7, 6), "w": (4, 3, 3, 2)}),
    Case("hlscnn: per-group conv2d", PATTERNS["hlscnn"], T.per_group_conv2d(X, W, *CONV, 2), T.hlscnn_grouped_conv2d(X, W, *CONV, 2), {"x": (1, 4, 7, 6), "w": (6, 2, 3, 3)}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fires_and_preserves_meaning(case: Case, rng: np.random.Generator, term_evaluator: Any) -> None:
    egraph = EGraph()
    for fact in case.facts:
        egraph.register(fact)
    egraph.register(case.lhs)
    egraph.run(case.ruleset * 3)
    egraph.check(eq(case.lhs).to(case.rhs))

    inputs = {n: rng.standard_normal(s).astype(np.float32) for n, s in case.shapes.items()}
    consts = {"bc": rng.standard_normal(4).astype(np.float32), "wc": rng.standard_normal((5, 4)).astype(np.float32)}
    evaluate = term_evaluator(inputs, {k: consts[k] for k in case.consts})
    lhs, rhs = evaluate(case.lhs), evaluate(case.rhs)
    assert lhs.shape == rhs.shape
    np.testing.assert_allclose(rhs, lhs, rtol=1e-5, atol=1e-5)


def test_rule_without_its_condition_does_not_fire() -> None:
    """add(x, y) of two activations is not a bias_add: is_bias guards the rule."""
    egraph = EGraph()
    lhs = T.add(X, A)
    egraph.register(lhs)
    egraph.run(PATTERNS["vta"] * 3)
    egraph.check_fail(eq(lhs).to(T.vta_bias_add(X, A)))


def test_every_family_has_a_case() -> None:
    covered = {id(c.ruleset) for c in CASES}
    patterns = {name: hooks.patterns for name, hooks in targeted().items()}
    missing = [n for n, r in {**FAMILIES, **patterns}.items() if id(r) not in covered]
    assert not missing, f"rulesets without a semantics test: {missing}"
