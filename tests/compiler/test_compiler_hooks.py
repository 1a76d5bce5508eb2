"""The compiler's accelerator hooks: every registered accelerator the compiler targets declares all of
them, valid, and the compiler finds accelerators and their calls only through the registry."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from egglog import Ruleset
from egglog.deconstruct import get_callable_fn

from compiler.codegen import Where
from compiler.hooks import (
    AcceleratorCall,
    CompilerHooks,
    Targets,
    accelerator_call,
    compiler_hooks,
    owner_of,
    targeted,
)
from compiler.ir import semantics
from compiler.ir import terms as T
from compiler.rules import FAMILIES
from ila_models import vta as vta_ila
from ila_models.accelerator import Accelerator, HookRef, PluginError
from ila_models.registry import registry

WITH_HOOKS = sorted(name for name, plugin in registry().items() if plugin.compiler is not None)
X, W = T.Tensor.input("x"), T.Tensor.input("w")


def test_the_compiler_targets_exactly_the_plugins_with_a_compiler_hook() -> None:
    assert {"vta", "hlscnn", "flexasr"} <= set(WITH_HOOKS)
    assert sorted(targeted()) == WITH_HOOKS


@pytest.mark.parametrize("name", WITH_HOOKS)
def test_every_targeted_accelerator_declares_every_hook_valid(name: str) -> None:
    hooks = compiler_hooks(name)
    assert isinstance(hooks, CompilerHooks)
    assert isinstance(hooks.patterns, Ruleset)
    assert hooks.patterns not in FAMILIES.values(), "patterns are the accelerator's own ruleset, not a family"
    assert hooks.flexible and set(hooks.flexible) <= set(FAMILIES)
    assert hooks.calls and all(isinstance(c, AcceleratorCall) for c in hooks.calls)
    for call in hooks.calls:
        assert accelerator_call(call.term) is call
        assert owner_of(call.name) == name
        assert callable(hooks.numerics[call.name])
        assert call.name in semantics.REFERENCE, f"{call.name}: the host needs its exact meaning (output shape)"
    assert hooks.lowered <= set(hooks.call_names)
    assert callable(hooks.lower)
    with pytest.raises(KeyError, match="no_such_call"):
        hooks.lower("no_such_call", [np.zeros(1, np.float32)], (), Where("test", "layer"))


def test_calls_are_identified_by_their_egglog_functions() -> None:
    call = accelerator_call(get_callable_fn(T.vta_dense(X, W)))
    assert call is not None and call.name == "vta_dense" and call.term == T.vta_dense
    assert accelerator_call(get_callable_fn(T.dense(X, W))) is None  # a derived form runs on the host
    assert compiler_hooks("flexasr").lowered == {"flex_linear", "flex_meanpool", "flex_lstm_c", "flex_lstm_h"}


def test_an_unknown_accelerator_gets_an_error_naming_the_targeted_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown accelerator 'tpu' .*not registered.*expected one of .*vta"):
        compiler_hooks("tpu")
    with pytest.raises(KeyError, match="'vta_conv' is no accelerator call"):
        owner_of("vta_conv")


def _plugin(name: str, compiler: HookRef | None) -> Accelerator:
    return Accelerator(
        name=name,
        model_for=vta_ila.model_for,
        verilog_parameters=vta_ila.verilog_parameters,
        top=f"{name}_top",
        units=(name,),
        generators=HookRef("testbenches.vta.programs:GENERATED"),
        compiler=compiler,
    )


NOT_HOOKS = object()
TWIN = replace(compiler_hooks("vta"), calls=(AcceleratorCall("vta_dense", T.vta_dense),), lowered=frozenset())
"""A second accelerator claiming VTA's dense call."""
HERE = "tests.compiler.test_compiler_hooks"


def test_plugins_without_compiler_hooks_are_not_targeted() -> None:
    targets = Targets.of({"vta": registry()["vta"], "host_only": _plugin("host_only", None)})
    assert list(targets.hooks) == ["vta"]
    assert set(targets.owner.values()) == {"vta"}


def test_a_hook_that_is_not_compiler_hooks_is_rejected() -> None:
    with pytest.raises(PluginError, match=rf"'bad': compiler hook '{HERE}:NOT_HOOKS' is a object"):
        Targets.of({"bad": _plugin("bad", HookRef(f"{HERE}:NOT_HOOKS"))})


def test_a_call_claimed_by_two_accelerators_is_rejected() -> None:
    plugins = {"vta": registry()["vta"], "twin": _plugin("twin", HookRef(f"{HERE}:TWIN"))}
    with pytest.raises(PluginError, match="'vta_dense' of 'twin' is claimed by 'vta' already"):
        Targets.of(plugins)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"patterns": "vta"}, "expected an egglog Ruleset"),
        ({"flexible": ("linear", "winograd")}, r"families \['winograd'\] do not exist"),
        ({"lowered": frozenset({"vta_conv"})}, r"lowered calls \['vta_conv'\] are not among the calls"),
        ({"numerics": {}}, r"calls \[.*'vta_dense'.*\] have no numerics"),
        ({"calls": (AcceleratorCall("a", T.vta_dense), AcceleratorCall("b", T.vta_dense))}, "its own term"),
        ({"lower": None}, "expected a Lowerer"),
    ],
)
def test_an_invalid_declaration_is_rejected_naming_the_bad_value(change: dict[str, Any], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        replace(compiler_hooks("vta"), **change)
