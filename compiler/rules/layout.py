"""Layout and reshape rewrites: collapse reshape/transpose chains; a dense is a 1x1 convolution over a
(1, K, M, 1) image; a grouped convolution is one ungrouped convolution per group."""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, String, i64, rewrite, ruleset

from compiler.ir.terms import (
    Tensor,
    as_1x1_kernel,
    conv2d,
    dense,
    from_pixels,
    grouped_conv2d,
    per_group_conv2d,
    reshape,
    to_pixels,
    transpose,
)


@ruleset
def layout_rules(x: Tensor, w: Tensor, s1: String, s2: String, sh: i64, sw: i64, pt: i64, pl: i64, pb: i64, pr: i64, g: i64) -> Iterable[RewriteOrRule]:
    yield rewrite(reshape(reshape(x, s1), s2)).to(reshape(x, s2))
    yield rewrite(transpose(transpose(x))).to(x)
    yield rewrite(grouped_conv2d(x, w, sh, sw, pt, pl, pb, pr, g)).to(per_group_conv2d(x, w, sh, sw, pt, pl, pb, pr, g))


@ruleset
def linear_as_conv_rules(x: Tensor, w: Tensor) -> Iterable[RewriteOrRule]:
    """Kept apart from `layout_rules`: with im2col it would loop (conv -> dense -> conv ...)."""
    yield rewrite(dense(x, w)).to(from_pixels(conv2d(to_pixels(x), as_1x1_kernel(w), 1, 1, 0, 0, 0, 0), x))


rules = layout_rules
linear_as_conv = linear_as_conv_rules
