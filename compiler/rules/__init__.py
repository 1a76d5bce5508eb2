"""Named egglog rulesets, one module per family, and which of them each accelerator's matching runs.

Exact matching runs only an accelerator's `patterns` (its operators as spelled in the imported graph);
flexible matching adds the rewrite families that expose more of them.
"""

from __future__ import annotations

from egglog import Ruleset

from compiler.rules import dot_product, im2col, layout, linear, lstm_cell, matmul, maxpool, patterns

FAMILIES: dict[str, Ruleset] = {
    "im2col": im2col.rules,
    "linear": linear.rules,
    "dot_product": dot_product.rules,
    "matmul": matmul.rules,
    "maxpool": maxpool.rules,
    "lstm_cell": lstm_cell.rules,
    "layout": layout.rules,
    "linear_as_conv": layout.linear_as_conv,
}
"""Rewrite families (accelerator-independent or enabling) by name."""

PATTERNS: dict[str, Ruleset] = {
    "vta": patterns.vta,
    "flexasr": patterns.flexasr,
    "hlscnn": patterns.hlscnn,
}
"""Exact accelerator patterns: the operators each accelerator takes as such."""

FLEXIBLE: dict[str, tuple[str, ...]] = {
    "vta": ("linear", "im2col", "matmul", "layout"),
    "flexasr": ("linear", "im2col", "dot_product", "matmul", "maxpool", "lstm_cell", "layout"),
    "hlscnn": ("linear", "layout", "linear_as_conv"),
}
"""Families each accelerator's flexible matching runs, besides its patterns."""
