"""Meta planning and argument flattening: a cached plan is the plan a fresh meta run gives."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch.utils._pytree import tree_flatten, tree_unflatten

import dtr
from dtr.torch_args import flatten_call, flatten_result, unflatten_call, unflatten_result
from dtr.torch_ops import MetaPlanner, OutputPlan, signature


class CheckingPlanner(MetaPlanner):
    """A planner with its own cache that compares every plan it returns with a fresh meta run."""

    def __init__(self) -> None:
        super().__init__(cache={})
        self.hits = 0
        self.calls = 0

    def plan(self, func: Any, leaves: Any, layout: Any) -> OutputPlan | None:
        key, tensors = signature(func, leaves, layout)
        self.hits += key in self._cache
        self.calls += 1
        got = super().plan(func, leaves, layout)
        assert got == self.fresh_plan(func, leaves, layout, tensors), f"{func}: cached plan differs from a fresh one"
        return got


def test_cached_plans_equal_fresh_ones():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.Flatten(2),
        torch.nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=32, batch_first=True),
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    planner = CheckingPlanner()
    with dtr.budget(math.inf) as session:
        session._planner = planner
        for _ in range(2):
            model(x).square().mean().backward()
            opt.step()
            opt.zero_grad()
    # the second step repeats the first's calls: most plans come from the cache
    assert planner.calls > 100 and planner.hits > planner.calls // 3


def test_signature_tells_apart_values_that_compare_equal():
    add = torch.ops.aten.add.Tensor
    x = torch.ones(2)
    keys = {signature(add, [x, v], 2)[0] for v in (1, True, 1.0, 0.0, -0.0)}
    assert len(keys) == 5
    y, y_t = torch.ones(2, 3), torch.ones(3, 2).t()  # same shape, other strides
    assert signature(add, [y, y], 2)[0] != signature(add, [y, y_t], 2)[0]
    assert signature(add, [y, y], 2)[0] != signature(add, [y, y.double()], 2)[0]
    assert signature(add, [y, y], 2)[0] == signature(add, [y.clone(), y.clone()], 2)[0]


def test_flattening_gives_pytrees_leaves_and_structure():
    x = torch.ones(2)
    calls = [((x, [1, 2], None), {}), ((x,), {"dim": [1], "keepdim": True}), (([x, None, x],), {}),
             ((x, torch.Size([2])), {}), ((x, {"a": 1}), {}), ((), {}), ((x, 2.0), {})]
    for args, kwargs in calls:
        leaves, layout = flatten_call(args, kwargs)
        ref_leaves, ref_spec = tree_flatten((args, kwargs))
        assert [id(v) for v in leaves] == [id(v) for v in ref_leaves]
        assert repr(unflatten_call(leaves, layout)) == repr(tree_unflatten(ref_leaves, ref_spec))
    for out in (x, (x, x), [x, None], None, 3, (x, (x,))):
        leaves, layout = flatten_result(out)
        ref_leaves, ref_spec = tree_flatten(out)
        assert [id(v) for v in leaves] == [id(v) for v in ref_leaves]
        assert repr(unflatten_result(leaves, layout)) == repr(tree_unflatten(ref_leaves, ref_spec))
