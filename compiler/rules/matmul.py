"""Matmul and batch matmul: onto VTA's GEMM (tiled over the batch), or to dense when the right side is 2-D."""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, rewrite, rule, ruleset, union

from compiler.ir.terms import Tensor, dense, is_matrix, matmul, transpose, vta_matmul


@ruleset
def matmul_rules(a: Tensor, b: Tensor) -> Iterable[RewriteOrRule]:
    yield rewrite(matmul(a, b)).to(vta_matmul(a, b))
    yield rule(e := matmul(a, b), is_matrix(b)).then(union(e).with_(dense(a, transpose(b))))


rules = matmul_rules
