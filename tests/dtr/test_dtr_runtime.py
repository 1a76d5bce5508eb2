"""Runtime semantics: the budget is a cap, eager eviction, banishing, views, options, errors."""

from __future__ import annotations

import math

import pytest

from dtr.errors import OutOfMemoryError, ThrashingError
from dtr.heuristics import DTREqClass, LargestFirst, make_heuristic
from dtr.runtime import Runtime


def test_memory_never_exceeds_budget_and_evicts_before_the_op():
    rt = Runtime(10, DTREqClass())
    x = rt.constant(2)
    outs = []
    for i in range(8):
        (t,) = rt.call(f"op{i}", [outs[-1] if outs else x], [3], [-1], compute=1)
        outs.append(t)
        assert rt.memory <= 10
    assert rt.stats.peak_memory <= 10
    assert rt.stats.evictions > 0


def test_budget_below_minimum_names_the_op_and_bytes():
    rt = Runtime(100, DTREqClass())
    x = rt.constant(60, "weights")
    with pytest.raises(OutOfMemoryError) as e:
        rt.call("conv1", [x], [50], [-1], compute=1)
    msg = str(e.value)
    assert "'conv1'" in msg and "50 bytes" in msg and "at least 110 bytes" in msg
    assert e.value.needed == 50


def test_eager_eviction_frees_but_keeps_recipe():
    rt = Runtime(math.inf, DTREqClass())
    x = rt.constant(1)
    (a,) = rt.call("a", [x], [10], [-1], compute=1)
    (b,) = rt.call("b", [a], [10], [-1], compute=1)
    rt.release(a)
    assert rt.memory == 11 and not a.storage.resident and not a.storage.dead
    rt.evict(b)
    rt.materialize(b)  # needs a, which is rematerialized from x
    assert b.defined and rt.stats.remats == 2
    rt.release(b)
    assert a.storage.dead and b.storage.dead and rt.memory == 1


def test_banishing_frees_for_good_and_pins_children():
    rt = Runtime(math.inf, DTREqClass(), banishing=True)
    x = rt.constant(1)
    (a,) = rt.call("a", [x], [10], [-1], compute=1)
    (b,) = rt.call("b", [a], [10], [-1], compute=1)
    rt.release(a)
    assert a.storage.dead and a.storage.banished
    assert b.storage.pinned
    with pytest.raises(ValueError, match="cannot evict"):
        rt.evict(b)


def test_banishing_waits_for_evicted_dependents():
    rt = Runtime(math.inf, DTREqClass(), banishing=True)
    x = rt.constant(1)
    (a,) = rt.call("a", [x], [10], [-1], compute=1)
    (b,) = rt.call("b", [a], [10], [-1], compute=1)
    rt.evict(b)
    rt.release(a)
    assert a.storage.resident and not a.storage.banished  # b may still need it
    rt.materialize(b)
    assert a.storage.banished and b.storage.pinned


def test_views_share_storage_and_die_with_it():
    rt = Runtime(math.inf, DTREqClass())
    x = rt.constant(1)
    (a,) = rt.call("a", [x], [10], [-1], compute=1)
    (v,) = rt.call("view", [a], [0], [0], compute=0)
    assert v.storage is a.storage and rt.memory == 11
    rt.evict(a)
    assert not v.defined
    rt.materialize(v)  # replays a, then the view op
    assert v.defined and a.defined and rt.memory == 11


def test_multi_output_remat_frees_resident_duplicates():
    rt = Runtime(math.inf, DTREqClass())
    x = rt.constant(1)
    p, q = rt.call("split2", [x], [4, 6], [-1, -1], compute=1)
    rt.evict(p)
    rt.materialize(p)
    assert p.defined and q.defined and rt.memory == 11


def test_remat_depth_beyond_recursion_limit():
    n = 5000  # deeper than Python's default recursion limit
    rt = Runtime(math.inf, DTREqClass())
    t = rt.constant(1)
    chain = []
    for i in range(n):
        (t,) = rt.call(f"f{i}", [t], [1], [-1], compute=1)
        chain.append(t)
    for t in chain:
        rt.evict(t)
    rt.materialize(chain[-1])
    assert chain[-1].defined and rt.stats.remats == n


def test_locked_inputs_are_not_evicted():
    rt = Runtime(12, LargestFirst())
    x = rt.constant(1)
    (a,) = rt.call("a", [x], [6], [-1], compute=1)
    (b,) = rt.call("b", [x], [2], [-1], compute=1)
    rt.call("c", [a], [4], [-1], compute=1)  # must evict b, not its input a (the largest)
    assert a.defined and not b.defined


def test_sampling_and_ignore_small_still_respect_the_budget():
    for opts in ({"sampling": True}, {"ignore_small": True}):
        rt = Runtime(60, make_heuristic("dtr_eq"), **opts)
        t = rt.constant(1)
        for i in range(50):
            (t,) = rt.call(f"f{i}", [t], [10 if i % 5 else 0], [-1], compute=1)
        assert rt.stats.peak_memory <= 60


def test_ignore_small_never_evicts_small_tensors():
    for ignore in (False, True):
        rt = Runtime(3500, make_heuristic("lru"), ignore_small=ignore)
        x = rt.constant(1)
        bigs = [rt.call(f"b{i}", [x], [1000], [-1], compute=1)[0] for i in range(3)]
        (tiny,) = rt.call("tiny", [x], [1], [-1], compute=1)  # < 1% of the mean size
        rt.call("pad", [x], [0], [-1], compute=1)
        rt.call("touch", bigs, [], [], compute=1)  # now tiny is the least recently used
        rt.call("new", [x], [1000], [-1], compute=1)
        assert tiny.defined == ignore
        assert sum(not b.defined for b in bigs) == 1


def test_thrash_limit():
    rt = Runtime(3, make_heuristic("lru"), remat_limit=5)
    t = rt.constant(1)
    chain = []
    for i in range(20):
        (t,) = rt.call(f"f{i}", [t], [1], [-1], compute=1)
        chain.append(t)
    with pytest.raises(ThrashingError):
        for t in reversed(chain):
            rt.materialize(t)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="budget must be a positive"):
        Runtime(0, DTREqClass())
    rt = Runtime(10, DTREqClass())
    x = rt.constant(1)
    with pytest.raises(ValueError, match="aliases input 3"):
        rt.call("v", [x], [0], [3])
    rt.release(x)
    with pytest.raises(ValueError, match="no external reference"):
        rt.release(x)
