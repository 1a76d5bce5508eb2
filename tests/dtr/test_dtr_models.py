"""Every workload trains under DTR, logs a trace, and the trace replays to the same accounting."""

from __future__ import annotations

import io

import pytest

from dtr.models import WORKLOADS, record_trace
from dtr.simulator import baseline, simulate
from dtr.trace import Call, parse_trace


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_workload_trace_replays_to_the_same_accounting(name):
    log = io.StringIO()
    stats = record_trace(name, log)
    trace = parse_trace(log.getvalue().splitlines())
    assert sum(isinstance(i, Call) for i in trace) > 50
    replayed = baseline(trace)
    assert replayed.peak_memory == stats.peak_memory
    assert replayed.base_compute == stats.base_compute
    # and it is a usable rematerialization workload: a looser budget fits with recomputation
    r = simulate(trace, "dtr_eq", 0.8 * replayed.peak_memory)
    assert r.status == "ok" and r.stats.remats > 0


def test_unknown_workload_is_named():
    with pytest.raises(ValueError, match="'vgg'"):
        record_trace("vgg", io.StringIO())
