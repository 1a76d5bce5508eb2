"""LSTM cell recognition: the cell's update in any operand order is lstm_cell_c / lstm_cell_h.

Commutativity of add and mul lets the canonical cell pattern match however a model spells it
(torch.nn.LSTM's export, a hand-written cell, ...).
"""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, rewrite, ruleset

from compiler.ir.terms import Tensor, add, chunk, lstm_cell_c, lstm_cell_h, mul, sigmoid, tanh


@ruleset
def lstm_cell_rules(a: Tensor, b: Tensor, g: Tensor, c: Tensor) -> Iterable[RewriteOrRule]:
    yield rewrite(mul(a, b)).to(mul(b, a))
    yield rewrite(add(a, b)).to(add(b, a))
    cell_c = add(mul(sigmoid(chunk(g, 4, 1)), c), mul(sigmoid(chunk(g, 4, 0)), tanh(chunk(g, 4, 2))))
    yield rewrite(cell_c).to(lstm_cell_c(g, c))
    yield rewrite(mul(sigmoid(chunk(g, 4, 3)), tanh(lstm_cell_c(g, c)))).to(lstm_cell_h(g, c))


rules = lstm_cell_rules
