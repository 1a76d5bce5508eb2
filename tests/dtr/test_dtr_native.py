"""The compiled runtime core (dtr.native): the same decisions as the Python core, never stale."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dtr import native
from dtr.native_build import build

# Every heuristic, with the options that take other paths through the core, on graphs whose
# costs are fixed (a recorded trace's costs are too, but a live torch run's are measured).
_CASES = """
import json
from dtr import native
from dtr.graphs import linear_chain, random_dag, to_trace, unet
from dtr.heuristics import HEURISTICS
from dtr.simulator import baseline, simulate
out = {"active": native.ACTIVE, "results": []}
for gname, g in (("chain", linear_chain(30)), ("unet", unet(5)), ("dag1", random_dag(40, 1, max_deps=3)),
                 ("dag2", random_dag(40, 2, max_deps=3))):
    trace = to_trace(g)
    base = baseline(trace)
    for h in sorted(HEURISTICS):
        for ratio in (0.3, 0.5, 0.8):
            for opts in ({}, {"sampling": True, "seed": 3}, {"banishing": True}, {"ignore_small": True}):
                r = simulate(trace, h, ratio * base.peak_memory, remat_limit=3 * base.base_compute,
                             outputs="rematerialize", **opts)
                st = r.stats
                out["results"].append([gname, h, ratio, sorted(opts), r.status, st.total_compute, st.evictions,
                                       st.eager_evictions, st.remats, st.banishments, st.peak_memory])
print(json.dumps(out))
"""


def _python(root: Path, code: str, native_on: bool = True) -> str:
    """Run code in a fresh interpreter importing dtr from root; returns its last line of output."""
    r = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600,
                       env={**os.environ, "PYTHONPATH": str(root), "DTR_NATIVE": "1" if native_on else "0"})
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.splitlines()[-1]


def test_compiled_and_python_cores_make_the_same_decisions():
    build(quiet=True)  # a no-op when make has built it
    root = native.PACKAGE.parent
    compiled = json.loads(_python(root, _CASES))
    python = json.loads(_python(root, _CASES, native_on=False))
    assert compiled["active"] and not python["active"]
    assert len(compiled["results"]) == 4 * 7 * 3 * 4
    statuses = {row[4] for row in python["results"]}
    assert {"ok", "oom"} <= statuses  # the cases reach the failure paths too
    for c, p in zip(compiled["results"], python["results"], strict=True):
        assert c == p


def _active_in(root: Path) -> bool:
    return _python(root, "from dtr import native; print(native.ACTIVE)") == "True"


def test_a_build_of_other_sources_is_never_loaded(tmp_path):
    built = build(quiet=True)
    shutil.copytree(native.PACKAGE, tmp_path / "dtr", ignore=shutil.ignore_patterns("__pycache__"))
    assert not _active_in(tmp_path)  # no build beside this copy: the Python core
    shutil.copytree(built, tmp_path / "build" / "dtr_native" / built.name)
    assert _active_in(tmp_path)  # the build of exactly these sources
    runtime = tmp_path / "dtr" / "runtime.py"
    runtime.write_text(runtime.read_text() + "\n# edited\n")
    assert not _active_in(tmp_path)  # an edited core module runs from source until rebuilt


def test_a_heuristic_of_ones_own_is_used_by_the_core():
    """A Python subclass of Heuristic (the one class the compiled core lets Python extend)."""
    from dtr.graph import Storage
    from dtr.heuristics import Heuristic
    from dtr.runtime import Runtime

    class MostRecentlyUsed(Heuristic):
        name = "mru"
        kind = "size"  # score = numerator / size

        def numerator(self, s: Storage) -> float:
            return -s.last_access

    rt = Runtime(7, MostRecentlyUsed())
    x = rt.constant(1)
    outs = [rt.call(f"o{i}", [x], [2], [-1], compute=1)[0] for i in range(3)]
    rt.call("new", [x], [2], [-1], compute=1)
    assert [t.defined for t in outs] == [True, True, False]  # h_LRU and h_DTR^local evict o0
