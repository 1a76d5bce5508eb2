"""The refinement map of an RTL folder (`rtl/<accel>/refinement.json`): ILA state -> RTL signal.

Parsed and validated once per file (cached by path and modification time), then handed to the
backends, the waveform writer and the build as one object: for each ILA state variable, the RTL
memory that holds it (`scope`, `var`), the harness's own memory (`dram`), or `unmapped` with the
reason; the RTL top and its retiring units in `retire_valid` bit order. See rtl/README.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

FILE = "refinement.json"
HARNESS_MEMORIES = ("dram",)


class RefinementError(ValueError):
    """A refinement map that is missing or malformed; the message names the file and the field."""


@dataclass(frozen=True)
class MappedSignal:
    """An ILA state variable held in an RTL memory: Verilator scope (`TOP.<top>.<instance>...`) and variable."""

    scope: str
    var: str

    @property
    def path(self) -> list[str]:
        """The hierarchy below the top, then the variable (cocotb's handle path)."""
        return [*self.scope.split(".")[2:], self.var]


@dataclass(frozen=True)
class RefinementMap:
    """One RTL folder's refinement map (see the module docstring)."""

    path: Path
    top: str
    units: tuple[str, ...]
    mapped: dict[str, MappedSignal]
    harness: dict[str, str]  # ILA state held by the harness's memory model -> that memory ("dram")
    unmapped: dict[str, str]  # ILA-only state -> why the RTL has no counterpart
    state_names: tuple[str, ...]  # every ILA state variable the file lists, in its order

    @property
    def compared(self) -> list[str]:
        """The ILA state variables the RTL holds (every one but the unmapped), in the file's order."""
        return [name for name in self.state_names if name not in self.unmapped]

    @classmethod
    def load(cls, rtl_dir: Path | str) -> RefinementMap:
        """The refinement map of `rtl_dir` (parsed once per version of the file)."""
        path = Path(rtl_dir) / FILE
        try:
            stat = path.stat()
        except OSError:
            raise RefinementError(
                f"{path}: every RTL folder needs a refinement map (see rtl/README.md)"
            ) from None
        return _load(path.resolve(), stat.st_mtime_ns, stat.st_size)


    @classmethod
    def parse(cls, data: Any, path: Path) -> RefinementMap:
        """A refinement map from its JSON value; `path` names it in errors."""
        return _parse(data, path)


@lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int, size: int) -> RefinementMap:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RefinementError(f"{path}: not readable JSON: {exc}") from None
    return _parse(data, path)


def _parse(data: Any, path: Path) -> RefinementMap:
    if not isinstance(data, dict):
        raise RefinementError(f"{path}: expected a JSON object")
    top = _field(path, data, "top", str, "the RTL top module's name")
    units = _field(path, data, "units", list, "a non-empty list of unit names")
    if not units or not all(isinstance(u, str) and u for u in units):
        raise RefinementError(f"{path}: field 'units'={units!r}: expected a non-empty list of unit names")
    state = _field(path, data, "state", dict, "an object: ILA state name -> its RTL counterpart")
    mapped: dict[str, MappedSignal] = {}
    harness: dict[str, str] = {}
    unmapped: dict[str, str] = {}
    for name, entry in state.items():
        where = f"state.{name}"
        if not isinstance(entry, dict):
            raise RefinementError(f"{path}: field {where!r}={entry!r}: expected an object")
        if "unmapped" in entry:
            unmapped[name] = str(entry["unmapped"])
        elif "harness" in entry:
            if entry["harness"] not in HARNESS_MEMORIES:
                raise RefinementError(
                    f"{path}: field '{where}.harness'={entry['harness']!r}: expected one of {list(HARNESS_MEMORIES)}"
                )
            harness[name] = entry["harness"]
        else:
            scope, var = entry.get("scope"), entry.get("var")
            parts = scope.split(".") if isinstance(scope, str) else []
            if len(parts) < 2 or parts[0] != "TOP" or parts[1] != top:
                raise RefinementError(
                    f"{path}: field '{where}.scope'={scope!r}: expected 'TOP.{top}[.<instance>...]'"
                )
            if not isinstance(var, str) or not var:
                raise RefinementError(f"{path}: field '{where}.var'={var!r}: expected the memory's name")
            mapped[name] = MappedSignal(str(scope), var)
    return RefinementMap(path, top, tuple(units), mapped, harness, unmapped, tuple(state))


def _field(path: Path, data: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise RefinementError(f"{path}: field {key!r}={value!r}: expected {what}")
    return value
