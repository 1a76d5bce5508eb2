"""The DTR paper's bound: an N-layer unit chain trains at budget 2√N in O(N) tensor ops."""

from __future__ import annotations

import math

import pytest

from dtr.graphs import linear_chain, to_trace
from dtr.simulator import simulate

SIZES = (100, 400, 1600)


def ops_per_layer(heuristic: str, n: int) -> float:
    """Total op executions (unit cost each) per layer at budget 2√N."""
    r = simulate(to_trace(linear_chain(n)), heuristic, 2 * math.sqrt(n))
    assert r.status == "ok", r.error
    assert r.stats.peak_memory <= 2 * math.sqrt(n)
    return r.total_compute / n


@pytest.mark.parametrize("heuristic", ["dtr", "dtr_eq"])
def test_chain_total_ops_grow_linearly(heuristic):
    per_layer = [ops_per_layer(heuristic, n) for n in SIZES]
    # a forward and a backward op per layer at least
    assert all(p >= 2 for p in per_layer)
    # O(N): ops per layer stay bounded as N grows 16x (a √N schedule would grow ~4x)
    assert per_layer[-1] / per_layer[0] < 1.3, per_layer
    assert per_layer[-1] < 4, per_layer


def test_lru_is_not_linear_on_the_chain():
    """The growth check can fail: h_LRU's ops per layer grow with N."""
    per_layer = [ops_per_layer("lru", n) for n in SIZES]
    assert per_layer[-1] / per_layer[0] > 2, per_layer
