"""`python -m harness regress`: a suite (the nightly one by default) on the local pool or Dask.

Makes the suite's Programs (harness/suites.py), runs every (Program, simulator) pair of it as one
run, and writes a JUnit XML file beside the run's page (and where `--junit` says). Parts of a
suite whose inputs are missing here are reported loudly in the summary, the page and the JUnit
file, and make the exit status 1: never skipped in silence.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from harness.junit import write_junit
from harness.options import RunOptions
from harness.pipeline import MissingInputs, Reporter, RunInput, RunOutcome, RunPlan, run
from harness.suites import SUITES_DIR, suite_runs


def regress_plan(
    suite: str,
    options: RunOptions,
    results: Path,
    workers: int,
    *,
    accelerators: list[str] | None = None,
    suites_dir: Path = SUITES_DIR,
    **plan: object,
) -> RunPlan:
    """The plan of suite `suite`: its Programs made, each on every simulator the suite names."""
    inputs: list[RunInput] = []
    missing: list[MissingInputs] = []
    for suite_run in suite_runs(suite, suites_dir, accelerators):
        options_here = replace(options, backend=suite_run.simulator)
        inputs += [RunInput(path, suite_run.suite, options_here) for path in suite_run.paths]
        for part in suite_run.missing:
            entry = MissingInputs(part.suite, part.accelerator, part.missing or "", part.required)
            if entry not in missing:
                missing.append(entry)
    return RunPlan(
        inputs=tuple(inputs), options=options, results=results, workers=workers, missing=tuple(missing),
        **plan,  # type: ignore[arg-type]
    )  # fmt: skip


def regress(plan: RunPlan, reporters: list[Reporter], junit: Path | None = None) -> RunOutcome:
    """Run the plan; the JUnit file goes into the run folder (and to `junit` when given)."""
    outcome = run(plan, reporters)
    write_junit(plan.run_dir / "junit.xml", outcome, plan.run_id)
    if junit is not None:
        write_junit(junit, outcome, plan.run_id)
    return outcome
