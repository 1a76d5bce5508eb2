"""im2col: a convolution is a matrix multiply of its input windows by the flattened kernel.

Ungrouped: conv2d(x, w) = col2im(dense(im2col(x), flatten(w))).
Grouped (depthwise included): one matmul per group, as a batched matmul over the groups.
"""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, i64, rewrite, ruleset

from compiler.ir.terms import (
    Tensor,
    col2im,
    conv2d,
    dense,
    flatten_kernel,
    group_col2im,
    group_im2col,
    group_kernel,
    grouped_conv2d,
    im2col,
    matmul,
)


@ruleset
def im2col_rules(x: Tensor, w: Tensor, sh: i64, sw: i64, pt: i64, pl: i64, pb: i64, pr: i64, g: i64) -> Iterable[RewriteOrRule]:
    yield rewrite(conv2d(x, w, sh, sw, pt, pl, pb, pr)).to(
        col2im(dense(im2col(x, w, sh, sw, pt, pl, pb, pr), flatten_kernel(w)), x, w, sh, sw, pt, pl, pb, pr)
    )
    yield rewrite(grouped_conv2d(x, w, sh, sw, pt, pl, pb, pr, g)).to(
        group_col2im(
            matmul(group_im2col(x, w, g, sh, sw, pt, pl, pb, pr), group_kernel(w, g)), x, w, sh, sw, pt, pl, pb, pr
        )
    )


rules = im2col_rules
