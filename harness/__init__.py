"""Tandem's harness: Programs run on an accelerator's ILA model and its RTL in lockstep.

The public API; everything else is internal to the package.
- `run_program(program, options)`: one Program, in this process (a `RunReport`);
- `run(RunPlan(...), reporters)`: many Program files on a pool of workers, saved to a results folder;
- `Target.resolve(program, options)`: a Program's accelerator, RTL, refinement map and backends;
- `ResultsStore(folder)`: every row of every run, queried with DuckDB.
"""

import importlib
from typing import TYPE_CHECKING, Any

# Re-exported names and the module that defines each. Imported on first use, so a worker process
# or the cocotb driver that needs one module does not import the whole harness (pandas, pyarrow, ...).
_EXPORTS = {
    "Mismatch": "harness.mismatch",
    "MismatchKind": "harness.mismatch",
    "OptionError": "harness.options",
    "RunOptions": "harness.options",
    "Simulator": "harness.options",
    "RunOutcome": "harness.pipeline",
    "RunPlan": "harness.pipeline",
    "run": "harness.pipeline",
    "RunReport": "harness.results",
    "ResultsError": "harness.results_store",
    "ResultsStore": "harness.results_store",
    "run_program": "harness.runner",
    "Target": "harness.target",
    "TargetError": "harness.target",
}
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

if TYPE_CHECKING:
    from harness.mismatch import Mismatch, MismatchKind
    from harness.options import OptionError, RunOptions, Simulator
    from harness.pipeline import RunOutcome, RunPlan, run
    from harness.results import RunReport
    from harness.results_store import ResultsError, ResultsStore
    from harness.runner import run_program
    from harness.target import Target, TargetError


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
