"""Tandem's harness: Programs run on an accelerator's ILA model and its RTL in lockstep.

The public API; everything else is internal to the package.
- `run_program(program, options)`: one Program, in this process (a `RunReport`);
- `run(RunPlan(...), reporters)`: many Program files on a pool of workers, saved to a results folder;
- `Target.resolve(program, options)`: a Program's accelerator, RTL, refinement map and backends;
- `ResultsStore(folder)`: every row of every run, queried with DuckDB.
"""

from harness.mismatch import Mismatch, MismatchKind
from harness.options import OptionError, RunOptions, Simulator
from harness.pipeline import RunOutcome, RunPlan, run
from harness.results import RunReport
from harness.results_store import ResultsError, ResultsStore
from harness.runner import run_program
from harness.target import Target, TargetError

__all__ = [
    "Mismatch",
    "MismatchKind",
    "OptionError",
    "ResultsError",
    "ResultsStore",
    "RunOptions",
    "RunOutcome",
    "RunPlan",
    "RunReport",
    "Simulator",
    "Target",
    "TargetError",
    "run",
    "run_program",
]
