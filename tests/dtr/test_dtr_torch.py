"""PyTorch integration: bit-identical training under a tight budget, trace/simulator agreement."""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import pytest
import torch

import dtr
from dtr.errors import OutOfMemoryError
from dtr.simulator import simulate
from dtr.torch_session import StrayReferenceWarning
from dtr.trace import parse_trace

STEPS = 2


def make_model() -> torch.nn.Module:
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = [torch.nn.Linear(8, 32)]
    for _ in range(5):
        layers += [torch.nn.Tanh(), torch.nn.Linear(32, 32)]
    layers += [torch.nn.Dropout(0.2), torch.nn.Linear(32, 2)]
    return torch.nn.Sequential(*layers)


def train(model: torch.nn.Module, ctx) -> object:
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(2)  # dropout masks
    with ctx as session:
        for _ in range(STEPS):
            x = torch.randn(256, 8, generator=gen)
            loss = model(x).square().mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
    return session


@pytest.fixture(scope="module")
def reference():
    model = make_model()
    train(model, contextlib.nullcontext())
    unconstrained = train(make_model(), dtr.budget(math.inf))
    return model, unconstrained.stats.peak_memory


@pytest.mark.parametrize("heuristic", ["dtr_eq", "lru"])
def test_weights_bit_identical_under_tight_budget(reference, heuristic):
    ref_model, peak = reference
    model = make_model()
    session = train(model, dtr.budget(0.5 * peak, heuristic))
    assert session.stats.remats > 0 and session.stats.evictions > 0
    assert session.stats.peak_memory <= 0.5 * peak
    for a, b in zip(ref_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_gradients_equal_unconstrained_ones(reference):
    _, peak = reference
    x = torch.randn(256, 8, generator=torch.Generator().manual_seed(5))
    ref = make_model().eval()
    ref(x).square().mean().backward()
    model = make_model().eval()
    with dtr.budget(0.4 * peak, "dtr_eq") as session:
        model(x).square().mean().backward()
    assert session.stats.remats > 0
    for a, b in zip(ref.parameters(), model.parameters(), strict=True):
        assert torch.equal(a.grad, session.value(b.grad))


@pytest.mark.parametrize("heuristic", ["dtr_eq", "dtr", "msps"])
def test_simulator_agrees_with_runtime_on_its_trace(reference, heuristic):
    _, peak = reference
    log = io.StringIO()
    session = train(make_model(), dtr.budget(0.5 * peak, heuristic, trace=log))
    sim = simulate(parse_trace(log.getvalue().splitlines()), heuristic, 0.5 * peak)
    assert sim.status == "ok"
    rt, st = session.stats, sim.stats
    assert (st.remats, st.evictions, st.eager_evictions, st.peak_memory) == (
        rt.remats, rt.evictions, rt.eager_evictions, rt.peak_memory)
    assert st.total_compute == rt.total_compute


def test_budget_below_minimum_names_the_op():
    model = make_model()
    x = torch.randn(256, 8)
    with pytest.raises(OutOfMemoryError, match=r"op 'aten::addmm' needs 32768 bytes"), dtr.budget(20_000):
        model(x)


def test_copy_on_write_inplace_keeps_recomputation_correct():
    x = torch.randn(64, 64)
    expected = torch.tanh(x @ x)
    expected.mul_(2)
    with dtr.budget(5 * 64 * 64 * 4, "lru") as session:
        y = torch.tanh(x @ x)
        y.mul_(2)  # copy-on-write: y's new version depends on the old
        keep = [torch.sin(x * i) for i in range(4)]  # push y out
        evicted = not y._dtr.node.defined
    assert evicted and session.stats.evictions > 0 and len(keep) == 4
    assert torch.equal(session.value(y), expected)  # rematerialized through the copy-on-write op


def test_stray_reference_warns():
    x = torch.randn(64, 64)
    with warnings.catch_warnings(record=True) as caught, dtr.budget(5 * 64 * 64 * 4, "lru") as session:
        warnings.simplefilter("always")
        a = torch.relu(x)
        leaked = session.value(a)  # a plain tensor on a's data, kept by the user
        keep = [torch.relu(x * i) for i in range(6)]  # forces a out
    assert keep and not a._dtr.node.defined
    assert any(issubclass(w.category, StrayReferenceWarning) for w in caught)
    assert leaked.shape == (64, 64)
    with warnings.catch_warnings(record=True) as clean, dtr.budget(5 * 64 * 64 * 4, "lru"):
        warnings.simplefilter("always")
        a = torch.relu(x)
        keep = [torch.relu(x * i) for i in range(6)]
    assert keep and not a._dtr.node.defined
    assert not any(issubclass(w.category, StrayReferenceWarning) for w in clean)


def test_bad_budget_is_named():
    with pytest.raises(ValueError, match="positive number of bytes"), dtr.budget(-5):
        pass
