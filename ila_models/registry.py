"""The accelerator registry: one line per accelerator, naming the module that declares its plug-in.

Every layer looks accelerators up here (`accelerator(name)`, `names()`); none keeps a table of its own.
Each module listed defines `ACCELERATOR`, an `ila_models.accelerator.Accelerator`.

An accelerator kept outside this repository (or the toy one under `tests/`) is registered without
editing this file: `TANDEM_ACCELERATORS=package.module[,package.module...]` in the environment
names further plug-in modules, read by every process of a run (worker processes inherit it).
"""

from __future__ import annotations

import importlib
import os

from ila_models.accelerator import Accelerator, PluginError

BUILTIN = (
    "ila_models.vta",
    "ila_models.hlscnn",
    "ila_models.flexasr",
)

ENVIRONMENT = "TANDEM_ACCELERATORS"

_loaded: dict[str, Accelerator] | None = None
_loaded_for: str | None = None


def _plugin(module_name: str) -> Accelerator:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise PluginError(f"accelerator plug-in module {module_name!r} cannot be imported: {exc}") from None
    plugin = getattr(module, "ACCELERATOR", None)
    if not isinstance(plugin, Accelerator):
        raise PluginError(
            f"accelerator plug-in module {module_name!r}: expected an `ACCELERATOR = Accelerator(...)` in it"
        )
    return plugin


def registry() -> dict[str, Accelerator]:
    """Every registered accelerator by name (built-in ones, then those named in $TANDEM_ACCELERATORS)."""
    global _loaded, _loaded_for
    extra = os.environ.get(ENVIRONMENT, "")
    if _loaded is None or _loaded_for != extra:
        modules = [*BUILTIN, *(m.strip() for m in extra.split(",") if m.strip())]
        found: dict[str, Accelerator] = {}
        for module_name in modules:
            plugin = _plugin(module_name)
            if plugin.name in found and found[plugin.name] is not plugin:
                raise PluginError(f"accelerator {plugin.name!r} is registered twice (again by {module_name!r})")
            found[plugin.name] = plugin
        _loaded, _loaded_for = found, extra
    return _loaded


def names() -> list[str]:
    """The registered accelerators' names, sorted."""
    return sorted(registry())


def accelerator(name: str) -> Accelerator:
    """The registered accelerator `name`; PluginError naming the known ones for any other."""
    plugins = registry()
    try:
        return plugins[name]
    except (KeyError, TypeError):
        raise PluginError(f"accelerator {name!r} is not registered; expected one of {sorted(plugins)}") from None
