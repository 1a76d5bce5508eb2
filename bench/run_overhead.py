"""What a run costs beyond simulating: per-Program overhead, and the speed-up of more workers.

    python -m bench.run_overhead [--before REV] [--repeats 3]

The default Programs of every built-in accelerator (`make sim`'s sets) are run with
`python -m harness run`, as a user does, on 1 and 2 workers, interleaved `--repeats` times in one
run (the machine is noisy; the fastest whole run of each is kept):
- per-Program overhead: a row's wall time minus its ILA and RTL time (median over the Programs);
- amortized overhead: (the whole run's wall time - all ILA and RTL time) / Programs: the start of
  Python, imports, builds checked, results written, divided among the Programs;
- speed-up: the whole run's wall time on 1 worker / on 2; and the same for the executor's part
  alone (from the first Program sent to a worker to the last report saved), measured in-process
  through `harness.run`, without the start of Python, the imports, admission and build checks.
`--before REV` also runs the same files on the harness of an earlier revision (checked out in a
temporary git worktree under build/, sharing this checkout's verilated-library cache), whose run
started one Python process per Program, and reports its overheads the same way.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from harness.results_store import ResultsStore
from ila_models.registry import BUILTIN, registry

ROOT = Path(__file__).resolve().parent.parent


def programs(folder: Path) -> list[Path]:
    """Every built-in accelerator's default Programs, saved into `folder`."""
    paths = []
    for name, plugin in registry().items():
        if f"ila_models.{name}" not in BUILTIN:
            continue
        for program in plugin.generated_programs():
            paths.append(program.save(folder / name / f"{program.name}.npz"))
    return paths


def timed_run(harness_root: Path, files: list[Path], results: Path, extra: list[str]) -> float:
    """Wall seconds of one `python -m harness run` of `files` with the harness at `harness_root`."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "harness", "run", *map(str, files), "--results", str(results), *extra],
        cwd=harness_root, env={"PYTHONPATH": str(harness_root), "PATH": _path()},
        capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"the run failed (exit {out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return seconds


def _path() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")


def overheads(rows: pd.DataFrame, wall: float) -> tuple[float, float]:
    """(median per-Program overhead, amortized overhead per Program) of one run's rows."""
    work = rows["ila_seconds"] + rows["rtl_seconds"]
    per_program = statistics.median(rows["wall_seconds"] - work)
    return per_program, (wall - float(work.sum())) / len(rows)


def before_worktree(rev: str) -> Path:
    """A worktree of `rev` under build/, its verilated-library cache shared with this checkout."""
    tree = ROOT / "build" / "bench_before" / rev
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), rev], cwd=ROOT, check=True, capture_output=True)
    cache = tree / "build" / "verilated"
    if not cache.exists():
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.symlink_to(ROOT / "build" / "verilated")
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", metavar="REV", help="also run the harness of this git revision")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp:
        files = programs(Path(tmp) / "programs")
        print(f"{len(files)} default Programs of {', '.join(sorted(registry()))}")
        # one untimed run first: builds (if any) and the page cache are warm for every mode
        timed_run(ROOT, files, Path(tmp) / "warm", ["-j", "2"])
        best: dict[str, tuple[float, pd.DataFrame]] = {}
        modes = {"after -j 1": ["-j", "1"], "after -j 2": ["-j", "2"]}
        tree = before_worktree(args.before) if args.before else None
        for n in range(args.repeats):
            for mode, extra in modes.items():
                results = Path(tmp) / f"{mode.replace(' ', '')}-{n}"
                wall = timed_run(ROOT, files, results, extra)
                if mode not in best or wall < best[mode][0]:
                    best[mode] = (wall, ResultsStore(results).table())
            if tree is not None:
                results = Path(tmp) / f"before-{n}"
                wall = timed_run(tree, files, results, [])
                if "before" not in best or wall < best["before"][0]:
                    best["before"] = (wall, pd.read_parquet(results / "runs.parquet"))
    print(f"{'mode':12s} {'run wall s':>10s} {'ILA+RTL s':>10s} {'median per-Program overhead s':>30s} {'amortized s':>12s}")
    for mode, (wall, rows) in best.items():
        per_program, amortized = overheads(rows, wall)
        work = float((rows["ila_seconds"] + rows["rtl_seconds"]).sum())
        print(f"{mode:12s} {wall:10.2f} {work:10.2f} {per_program:30.3f} {amortized:12.3f}")
    after = overheads(best["after -j 1"][1], best["after -j 1"][0])[0]
    verdict = "met" if after < 0.1 else "MISSED"
    print(f"per-Program overhead (median, -j 1): {after:.3f} s (target < 0.1 s): {verdict}")
    if "before" in best:
        print(f"  before ({args.before}): {overheads(best['before'][1], best['before'][0])[0]:.3f} s")
    speedup = best["after -j 1"][0] / best["after -j 2"][0]
    print(f"speed-up of -j 2 over -j 1 (whole run, best of {args.repeats}): {speedup:.2f}x (target >= 1.8x): "
          f"{'met' if speedup >= 1.8 else 'MISSED'}")  # fmt: skip
    executes = executor_phases(args.repeats)
    print(
        f"speed-up of -j 2 over -j 1 (executor phase, in-process, best of {args.repeats}): "
        f"{executes[1] / executes[2]:.2f}x ({executes[1]:.2f} s / {executes[2]:.2f} s)"
    )
    return 0


def executor_phases(repeats: int) -> dict[int, float]:
    """Best executor-phase seconds on 1 and 2 workers of an in-process `harness.run` of the Programs."""
    from harness.pipeline import RunPlan, run

    best = {1: float("inf"), 2: float("inf")}
    with tempfile.TemporaryDirectory(prefix="tandem-bench-") as tmp:
        files = programs(Path(tmp) / "programs")
        for n in range(repeats):
            for workers in best:
                outcome = run(RunPlan.of_files(files, results=Path(tmp) / f"r{workers}-{n}", workers=workers), [])
                best[workers] = min(best[workers], outcome.phases["execute"])
    return best


if __name__ == "__main__":
    sys.exit(main())
