"""What the compiler needs of one accelerator (`CompilerHooks`), and the accelerators it targets.

Each accelerator's codegen file (`compiler/codegen/<name>.py`) declares `HOOKS = CompilerHooks(...)`, and
its plug-in in `ila_models` names it (`compiler=HookRef("compiler.codegen.<name>:HOOKS")`). The compiler
keeps no table of accelerators: every pass asks this module, which reads `ila_models.registry` and loads
each plug-in's hooks once. Accelerator calls are identified by their egglog function objects (compared by
equality), never by how egglog prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from egglog import Ruleset

from compiler.rules import FAMILIES
from ila_models.accelerator import Accelerator, HookRef, PluginError
from ila_models.registry import registry

if TYPE_CHECKING:  # codegen imports this module; at run time the Lowerer is only called
    from compiler.codegen.lowered import Lowerer

Numerics = Callable[..., np.ndarray]
"""(input arrays..., literal attributes...) -> the call's result in the accelerator's arithmetic."""


@dataclass(frozen=True)
class AcceleratorCall:
    """One accelerator-call term: its name (what codegen, numerics and reports say) and its egglog function."""

    name: str
    term: Callable[..., Any]


@dataclass(frozen=True)
class CompilerHooks:
    """Everything the compiler needs of one accelerator.

    patterns: the exact-matching ruleset (its operators as spelled in the imported graph).
    flexible: the rewrite families (names in `compiler.rules.FAMILIES`) flexible matching adds.
    calls: its accelerator-call terms; extraction prices them as this accelerator's.
    lower: its codegen, a call on concrete inputs to a Program.
    lowered: the names of the calls `lower` turns into Programs; the others run `numerics` on the host.
    numerics: every call's arithmetic as the accelerator computes it, by call name.
    """

    patterns: Ruleset
    flexible: tuple[str, ...]
    calls: tuple[AcceleratorCall, ...]
    lower: Lowerer
    lowered: frozenset[str]
    numerics: Mapping[str, Numerics]

    def __post_init__(self) -> None:
        if not isinstance(self.patterns, Ruleset):
            raise TypeError(f"patterns {self.patterns!r}: expected an egglog Ruleset")
        unknown = [f for f in self.flexible if f not in FAMILIES]
        if unknown:
            raise ValueError(f"flexible families {unknown!r} do not exist; expected names from {sorted(FAMILIES)}")
        names = self.call_names
        if len(set(names)) != len(names) or len({c.term for c in self.calls}) != len(names):
            raise ValueError(f"calls {names!r}: each call needs its own name and its own term")
        if not self.lowered <= set(names):
            raise ValueError(f"lowered calls {sorted(self.lowered - set(names))!r} are not among the calls {names!r}")
        missing = [n for n in names if n not in self.numerics]
        if missing:
            raise ValueError(f"calls {missing!r} have no numerics; numerics given for {sorted(self.numerics)!r}")
        if not callable(self.lower):
            raise TypeError(f"lower {self.lower!r}: expected a Lowerer (name, arrays, attrs, where) -> Lowered")

    @property
    def call_names(self) -> tuple[str, ...]:
        """The names of its calls, in declaration order."""
        return tuple(c.name for c in self.calls)


@dataclass(frozen=True)
class Targets:
    """The accelerators the compiler targets, with every accelerator call indexed by term and by name.

    hooks: by accelerator, those whose plug-in has `compiler` set; by_term: each call by its egglog
    function; owner: the accelerator of each call, by call name.
    """

    hooks: dict[str, CompilerHooks]
    by_term: dict[Any, AcceleratorCall]
    owner: dict[str, str]

    @classmethod
    def of(cls, plugins: Mapping[str, Accelerator]) -> Targets:
        """Load the compiler hooks of `plugins`; PluginError for a hook that is not a CompilerHooks, or a call
        two accelerators claim."""
        hooks = {name: _load(name, p.compiler) for name, p in plugins.items() if p.compiler is not None}
        by_term: dict[Any, AcceleratorCall] = {}
        owner: dict[str, str] = {}
        for accel, h in hooks.items():
            for call in h.calls:
                earlier = owner.get(call.name)
                if earlier is None and call.term in by_term:
                    earlier = owner[by_term[call.term].name]
                if earlier is not None:
                    raise PluginError(f"accelerator call {call.name!r} of {accel!r} is claimed by {earlier!r} already")
                by_term[call.term] = call
                owner[call.name] = accel
        return cls(hooks, by_term, owner)


def _load(accelerator: str, ref: HookRef) -> CompilerHooks:
    hooks = ref.load()
    if not isinstance(hooks, CompilerHooks):
        raise PluginError(
            f"accelerator {accelerator!r}: compiler hook {ref.target!r} is a {type(hooks).__name__}, "
            "expected a compiler.hooks.CompilerHooks"
        )
    return hooks


_cache: tuple[dict[str, Accelerator], Targets] | None = None


def _targets() -> Targets:
    """The registry's targets, loaded once (again only when the registry changes)."""
    global _cache
    plugins = registry()
    if _cache is None or _cache[0] is not plugins:
        _cache = (plugins, Targets.of(plugins))
    return _cache[1]


def targeted() -> dict[str, CompilerHooks]:
    """The hooks of every registered accelerator the compiler targets (its plug-in has `compiler` set)."""
    return _targets().hooks


def compiler_hooks(accelerator: str) -> CompilerHooks:
    """The hooks of `accelerator`; PluginError (a ValueError) naming the targeted ones for any other."""
    hooks = _targets().hooks
    if accelerator not in hooks:
        known = ", ".join(hooks)
        why = "its plug-in has compiler=None" if accelerator in registry() else "it is not registered"
        raise PluginError(f"unknown accelerator {accelerator!r} for the compiler ({why}); expected one of {known}")
    return hooks[accelerator]


def accelerator_call(term: Any) -> AcceleratorCall | None:
    """The accelerator call whose egglog function is `term` (from `get_callable_fn`), or None."""
    return _targets().by_term.get(term)


def owner_of(call: str) -> str:
    """The accelerator whose call is named `call`; KeyError naming the known calls for any other."""
    owner = _targets().owner
    if call not in owner:
        raise KeyError(f"{call!r} is no accelerator call; expected one of {', '.join(sorted(owner))}")
    return owner[call]
