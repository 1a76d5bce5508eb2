"""Helpers for compiler tests: evaluate terms through the real emission path (Relax, TVM llvm)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from tvm import relax

from compiler.ir.from_relax import ImportedModule
from compiler.ir.to_relax import build_and_run, emit_relax

warnings.filterwarnings("ignore", category=UserWarning)


class TermEvaluator:
    """Evaluates terms over named float32 inputs and constants."""

    def __init__(self, inputs: dict[str, np.ndarray], consts: dict[str, np.ndarray] | None = None) -> None:
        self.inputs = inputs
        params = [relax.Var(n, relax.TensorType(v.shape, "float32")) for n, v in inputs.items()]
        bb = relax.BlockBuilder()
        with bb.function("main", params):
            bb.emit_func_output(params[0])
        self.imported = ImportedModule(bb.get()["main"], consts=dict(consts or {}))

    def __call__(self, term: Any) -> np.ndarray:
        mod = emit_relax(self.imported, [term])
        return build_and_run(mod, list(self.inputs.values()))[0]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def term_evaluator() -> type[TermEvaluator]:
    return TermEvaluator
