"""Linear recomposition: find dense and bias_add where the frontend spelled them otherwise.

torch's Linear arrives in Relax as add(b, matmul(x, permute_dims(w))): the bias on the left and no
dense operator. These rules state that matmul by a transposed weight is dense and that adding a
bias vector (on either side) is bias_add.
"""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, rewrite, rule, ruleset, union

from compiler.ir.terms import Tensor, add, bias_add, dense, is_bias, matmul, transpose


@ruleset
def linear_rules(x: Tensor, w: Tensor, b: Tensor) -> Iterable[RewriteOrRule]:
    yield rewrite(matmul(x, transpose(w))).to(dense(x, w))
    yield rule(e := add(b, x), is_bias(b)).then(union(e).with_(add(x, b)))
    yield rule(e := add(x, b), is_bias(b)).then(union(e).with_(bias_add(x, b)))


rules = linear_rules
