"""Pooling onto FlexASR's layer reduce: 2x2/stride-2 max pooling (larger windows reassociated into nested
2x2 ones) and global average pooling (layer reduce in mean mode)."""
# mypy: disable-error-code="empty-body"

from __future__ import annotations

from collections.abc import Iterable

from egglog import RewriteOrRule, rewrite, ruleset

from compiler.ir.terms import Tensor, flex_maxpool, flex_meanpool, global_mean, max_pool2d


@ruleset
def maxpool_rules(x: Tensor) -> Iterable[RewriteOrRule]:
    yield rewrite(max_pool2d(x, 2, 2, 2, 2)).to(flex_maxpool(x))
    # max over a 2k window = max over k windows of 2x2 maxima (exact when the window tiles the input)
    yield rewrite(max_pool2d(x, 4, 4, 4, 4)).to(max_pool2d(max_pool2d(x, 2, 2, 2, 2), 2, 2, 2, 2))
    yield rewrite(max_pool2d(x, 8, 8, 8, 8)).to(max_pool2d(max_pool2d(x, 2, 2, 2, 2), 4, 4, 4, 4))
    yield rewrite(global_mean(x)).to(flex_meanpool(x))


rules = maxpool_rules
