"""The compiled runtime core: mypyc builds of the modules DTR runs on every op, used when built.

`python -m dtr.native_build` (make runs it) compiles CORE with mypyc into
`build/dtr_native/<hash of their sources>/`. On import, `dtr` puts that build first on its
package path only if the hash matches the sources as they are now, so an edited core module is
never shadowed by a stale build: it runs from source until rebuilt. `DTR_NATIVE=0` forces the
Python source. Both run the same code: the compiled build changes speed, not decisions.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import MutableSequence
from pathlib import Path

# the runtime core: pure Python without torch, typed for mypyc
CORE = ("graph", "eqclass", "pool", "heuristics", "liveness", "stats", "runtime")
PACKAGE = Path(__file__).resolve().parent
GROUP = "dtr_native"  # mypyc's shared library for the group: a top-level module dtr_native__mypyc

ACTIVE = False  # set by activate(): whether this process runs the compiled core


def source_hash() -> str:
    h = hashlib.sha256(f"{sys.implementation.cache_tag}\0".encode())
    for name in CORE:
        h.update(name.encode() + b"\0" + (PACKAGE / f"{name}.py").read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_dir() -> Path:
    return PACKAGE.parent / "build" / GROUP / source_hash()


def activate(package_path: MutableSequence[str]) -> bool:
    """Make the package import the compiled core, if a build of exactly these sources exists."""
    global ACTIVE
    if os.environ.get("DTR_NATIVE", "1") == "0":
        return False
    d = build_dir()
    if not (d / "COMPLETE").is_file():
        return False
    sys.path.append(str(d))  # where the group's shared library is imported from
    package_path.insert(0, str(d / "dtr"))
    ACTIVE = True
    return True


def describe() -> str:
    """One line for reports: which runtime core this process runs."""
    return "compiled core (mypyc)" if ACTIVE else "Python core (not compiled: run `make dtr-native`)"


activate(sys.modules[__name__.rpartition(".")[0]].__path__)
