"""The nightly regression's wall time on 1 and 2 local workers, and on a 2-worker Dask LocalCluster.

    python -m bench.nightly [--suite nightly] [--accel NAME ...] [--repeats 1]

Each mode runs `python -m harness regress --suite S` as a user does, into its own results folder,
interleaved `--repeats` times in one run (the fastest whole run of each is kept; the suite's
Programs are made once before, untimed). Printed: wall seconds of each, the speed-up of 2 local
workers over 1 (target >= 1.8x), and the Dask overhead per Program: (LocalCluster wall - local
pool wall, both 2 workers) / Programs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.results_store import ResultsStore

ROOT = Path(__file__).resolve().parent.parent
MODES = {"local -j 1": ["-j", "1"], "local -j 2": ["-j", "2"], "dask LocalCluster -j 2": ["--dask", "-j", "2"]}


def regress(suite: str, accels: list[str], results: Path, extra: list[str]) -> tuple[float, int]:
    """(wall seconds, rows) of one regression run."""
    flags = [f for a in accels for f in ("--accel", a)]
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "harness", "regress", "--suite", suite, *flags, "--results", str(results), *extra],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"the regression failed to run (exit {out.returncode}):\n{out.stdout[-3000:]}{out.stderr[-3000:]}")
    return seconds, len(ResultsStore(results).table())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", default="nightly")
    parser.add_argument("--accel", action="append", default=[])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    best: dict[str, float] = {}
    rows = 0
    with tempfile.TemporaryDirectory(prefix="tandem-nightly-") as tmp:
        regress(args.suite, args.accel, Path(tmp) / "warm", ["-j", "2"])  # suites made, libraries built
        for n in range(args.repeats):
            for mode, extra in MODES.items():
                seconds, rows = regress(args.suite, args.accel, Path(tmp) / f"{n}-{mode.replace(' ', '_')}", extra)
                best[mode] = min(best.get(mode, float("inf")), seconds)
    print(f"suite {args.suite!r}{' for ' + ', '.join(args.accel) if args.accel else ''}: {rows} Program x simulator rows")
    for mode, seconds in best.items():
        print(f"  {mode:24s} {seconds:8.1f} s")
    speedup = best["local -j 1"] / best["local -j 2"]
    print(f"speed-up of 2 local workers over 1: {speedup:.2f}x (target >= 1.8x): {'met' if speedup >= 1.8 else 'MISSED'}")
    overhead = (best["dask LocalCluster -j 2"] - best["local -j 2"]) / max(rows, 1)
    print(f"Dask LocalCluster overhead per Program against the local pool (2 workers each): {overhead * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
