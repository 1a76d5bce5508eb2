"""The accelerator registry: every plug-in provides every hook a layer needs, and lookups fail clearly."""

from __future__ import annotations

import numpy as np
import pytest

from harness.refinement import RefinementMap
from harness.target import Target
from ila_models.accelerator import Accelerator, HookRef, PluginError
from ila_models.language import IlaModel
from ila_models.registry import ENVIRONMENT, accelerator, names, registry

BUILTIN = ["flexasr", "hlscnn", "vta"]


def test_the_builtin_accelerators_are_registered_by_name():
    assert names() == BUILTIN
    assert all(accelerator(name).name == name for name in BUILTIN)


@pytest.mark.parametrize("name", BUILTIN)
def test_every_plugin_provides_every_hook(name):
    plugin = accelerator(name)
    assert isinstance(plugin, Accelerator)
    programs = plugin.generated_programs()
    assert programs, f"{name}: its generators make no Program"
    for program in programs[:3]:
        assert program.accelerator == name
        model = plugin.model_for(program)
        assert isinstance(model, IlaModel)
        assert all(isinstance(v, int) for v in plugin.verilog_parameters(program).values())
        units = {model.unit(cmd) for cmd in program.commands}
        assert units <= set(plugin.units), f"{name}: instructions run on {units}, the plug-in lists {plugin.units}"
        target = Target.resolve(program)  # RTL folder, refinement map (top, units, every state variable)
        assert target.rtl_dir == plugin.rtl.resolve()
        assert set(target.refinement.state_names) == set(model.state_vars)
        pairs = plugin.shrinker.token_pairs(program)
        assert all(0 <= push < len(program) and 0 <= pop < len(program) for push, _, pop, _ in pairs)
        for variant in plugin.shrinker.smaller(program.commands[-1]):
            assert variant.shape == program.commands[-1].shape and variant.dtype == np.uint8
    refinement = RefinementMap.load(plugin.rtl)
    assert (refinement.top, refinement.units) == (plugin.top, plugin.units)
    assert plugin.compiler is not None
    assert plugin.compiler.load() is not None  # its contents are checked by tests/compiler/test_compiler_hooks.py


def test_an_unknown_accelerator_names_the_known_ones():
    with pytest.raises(PluginError, match=r"'tpu' is not registered; expected one of \['flexasr', 'hlscnn', 'vta'\]"):
        accelerator("tpu")


def test_a_hook_that_does_not_exist_is_a_clear_error():
    with pytest.raises(PluginError, match=r"cannot import 'testbenches.nope'"):
        HookRef("testbenches.nope:GENERATED").load()
    with pytest.raises(PluginError, match=r"has no 'NOPE'"):
        HookRef("testbenches.vta.programs:NOPE").load()
    with pytest.raises(PluginError, match=r"expected 'package.module:attribute'"):
        HookRef("testbenches.vta.programs").load()


def test_a_plugin_module_without_an_accelerator_is_refused(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, "ila_models.vta_isa")
    with pytest.raises(PluginError, match=r"'ila_models.vta_isa': expected an `ACCELERATOR = Accelerator"):
        registry()
    monkeypatch.setenv(ENVIRONMENT, "no.such.module")
    with pytest.raises(PluginError, match=r"'no.such.module' cannot be imported"):
        registry()
    monkeypatch.delenv(ENVIRONMENT)
    assert names() == BUILTIN
