"""Run one Program in lockstep, in this process: build the backends, run, check outputs, report."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from harness.backend import Backend
from harness.ila_backend import IlaBackend
from harness.lockstep import Lockstep
from harness.mismatch import Mismatch, MismatchKind, compare_rows
from harness.options import RunOptions
from harness.results import RunReport
from harness.target import Target
from ila_models.program import Program


def check_references(program: Program, ila: IlaBackend) -> list[Mismatch]:
    """The ILA's final outputs against the Program's reference values (e.g. numpy's)."""
    found = []
    for region in program.outputs:
        ref = program.references.get(region.name)
        if ref is None:
            continue
        got = region.view(ila.read(region.memory))
        flat_ref, flat_got = ref.reshape(len(ref), -1), got.reshape(len(got), -1)
        # in this comparison the "rtl" side is the reference
        count, diffs = compare_rows(region.name, flat_got, flat_ref, np.arange(len(ref)))
        if count:
            first = diffs[0]
            found.append(
                Mismatch(
                    MismatchKind.REFERENCE, f"output {region.name!r}: {count} element(s) of the ILA's result differ from the reference",
                    state=region.name, element=first["element"], ila_value=first["ila"],
                    rtl_value=first["rtl"], differing=count, differences=diffs,
                )
            )  # fmt: skip
    return found


def save_difference(
    path: Path,
    mismatch: Mismatch,
    ila: IlaBackend,
    rtl: Backend,
    max_rows: int = 256,
    compared: tuple[str, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> bool:
    """Save expected (ILA) and actual (RTL) rows around a state mismatch, for the report's picture.

    Rows from the first differing row to the last (at most `max_rows`); 1-D state (DRAM) as rows of 16.
    For a mismatch found at an instruction's retirement, `compared` (Lockstep.first_rows) gives
    the rows as they were compared then (the instruction's write-set): the picture shows those,
    since by the end of the run either side may be past that instruction. A full compare's
    mismatch (both sides stopped at the same point) reads the whole state.
    Returns False (and saves nothing) when the mismatch is not about a state variable.
    """
    if mismatch.kind not in (MismatchKind.STATE, MismatchKind.QUIESCENT) or mismatch.state is None:
        return False
    if mismatch.kind is MismatchKind.STATE and compared is not None and compared[0] == mismatch.state:
        _, expected, actual, row_ids = compared
    else:
        expected, actual = ila.read(mismatch.state), rtl.read(mismatch.state)
        row_ids = np.arange(len(expected))
    if expected.ndim == 1:
        whole = row_ids.size > 0 and row_ids[0] % 16 == 0 and row_ids[-1] - row_ids[0] + 1 == row_ids.size
        width = 16 if expected.size % 16 == 0 and whole else 1
        expected, actual = expected.reshape(-1, width), actual.reshape(-1, width)
        row_ids = row_ids[::width] // width
    differs = np.flatnonzero((expected != actual).reshape(len(expected), -1).any(axis=1))
    if differs.size == 0:
        return False
    first = int(differs[0])
    last = int(differs[differs < first + max_rows][-1])
    rows = slice(first, min(last + 1 + 4, first + max_rows, len(expected)))  # the differing span, 4 rows after
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path, expected=expected[rows], actual=actual[rows], first_row=np.array(int(row_ids[first])),
        row_ids=row_ids[rows], rows_differing=np.array(differs.size),
        state=np.frombuffer(mismatch.state.encode(), dtype=np.uint8),
    )  # fmt: skip
    return True


def run_program(
    program: Program,
    options: RunOptions | None = None,
    rtl: Backend | None = None,
    *,
    target: Target | None = None,
    difference: Path | None = None,
) -> RunReport:
    """Run `program` on its ILA and its RTL in lockstep.

    rtl: a backend to use instead of the one `options.backend` names (e.g. wrapped for progress).
    target: the Program's Target when the caller has resolved it already.
    difference: where to save the ILA and RTL rows around a state mismatch (harness/difference_picture.py).
    """
    start = time.perf_counter()
    target = target or Target.resolve(program, options)
    ila = target.ila_backend()
    ila.load(program)
    backend = rtl or target.rtl_backend()
    try:
        backend.reset()
        backend.load(program)
        engine = Lockstep(
            program, ila, backend, target.compared, target.options.full_every, target.options.keep_going
        )
        result = engine.run()
        if difference is not None and result.mismatches:
            save_difference(difference, result.mismatches[0], ila, backend, compared=engine.first_rows)
    finally:
        backend.close()
    mismatches = result.mismatches
    if not mismatches:
        mismatches = check_references(program, ila)
    return RunReport(
        program=program.name,
        accelerator=program.accelerator,
        passed=not mismatches,
        **result.counts(),
        wall_seconds=time.perf_counter() - start,
        seed=program.provenance.get("seed"),
        rtl_hash=target.rtl_hash,
        git_revision=target.git_revision,
        backend=backend.name,
        mismatches=mismatches,
    )
