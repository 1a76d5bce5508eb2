"""Named egglog rulesets, one module per family.

Exact matching runs only an accelerator's patterns (its operators as spelled in the imported graph);
flexible matching adds the rewrite families that expose more of them. Which patterns and which families
an accelerator runs is its `compiler.hooks.CompilerHooks`'s to say (`patterns`, `flexible`).
"""

from __future__ import annotations

from egglog import Ruleset

from compiler.rules import dot_product, im2col, layout, linear, lstm_cell, matmul, maxpool

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
