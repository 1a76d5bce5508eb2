"""Dot product to linear: a dense without bias is a linear layer with a zero bias (FlexASR has only linear)."""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, rewrite, ruleset

from compiler.ir.terms import Tensor, bias_add, dense, zeros_bias


@ruleset
def dot_product_rules(x: Tensor, w: Tensor) -> Iterable[RewriteOrRule]:
    yield rewrite(dense(x, w)).to(bias_add(dense(x, w), zeros_bias(w)))


rules = dot_product_rules
