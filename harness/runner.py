"""Run one Program in lockstep, in this process: build the backends, run, check outputs, report."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.accelerators import accelerator
from harness.backend import Backend
from harness.ila_backend import IlaBackend
from harness.lockstep import Lockstep
from harness.mismatch import Mismatch, compare_rows
from harness.results import RunReport, git_revision, source_hash
from ila_models.language import IlaModel
from ila_models.program import Program


@dataclass(frozen=True)
class RunOptions:
    """How to run: which RTL, how often to compare everything, whether to stop at the first mismatch."""

    rtl_dir: Path | None = None
    full_every: int = 1024
    keep_going: bool = False
    serial: bool = False
    cycle_budget: int = 1_000_000
    backend: str = "verilator"  # "verilator" (the fast path), "cocotb" (cocotb + Verilator), "icarus" (cocotb + Icarus)
    # After a mismatch (harness/artifacts.py): where to leave waves, reproducer, pictures; None: nowhere.
    artifacts_dir: Path | None = None
    wave_window: int = 2000  # cycles of FST before the divergence; 0: no waveform
    reproduce: bool = True  # minimize the failing Program into a reproducer
    repro_seconds: float = 120.0  # time budget of the minimization


def refinement_map(rtl_dir: Path) -> dict:
    """The RTL folder's refinement.json."""
    path = rtl_dir / "refinement.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: every RTL folder needs a refinement map (see rtl/README.md)"
        ) from None


def compared_state(refinement: dict) -> list[str]:
    """The ILA state variables the RTL holds (those not marked `unmapped`)."""
    return [name for name, entry in refinement["state"].items() if "unmapped" not in entry]


def verilator_backend(program: Program, model: IlaModel, options: RunOptions) -> Backend:
    """The fast-path RTL backend for a Program (builds or reuses the verilated library)."""
    from harness.verilator_backend import VerilatorBackend

    acc = accelerator(program.accelerator)
    rtl_dir = options.rtl_dir or acc.rtl_dir
    layout = {name: (var.dtype, var.shape) for name, var in model.state_vars.items()}
    backend = VerilatorBackend(
        rtl_dir=rtl_dir,
        top=acc.top,
        parameters=acc.verilog_parameters(program),
        layout=layout,
        refinement=refinement_map(rtl_dir),
        cycle_budget=options.cycle_budget,
    )
    if options.serial:
        backend.set_serial_mode(True)
    return backend


BACKENDS = ("verilator", "cocotb", "icarus")


def rtl_backend(program: Program, model: IlaModel, options: RunOptions) -> Backend:
    """The RTL backend `options.backend` names, for a Program."""
    if options.backend == "verilator":
        return verilator_backend(program, model, options)
    if options.backend not in BACKENDS:
        raise ValueError(f"backend {options.backend!r}: expected one of {list(BACKENDS)}")
    from harness.cocotb_backend import CocotbBackend

    acc = accelerator(program.accelerator)
    rtl_dir = options.rtl_dir or acc.rtl_dir
    backend = CocotbBackend(
        rtl_dir=rtl_dir,
        top=acc.top,
        parameters=acc.verilog_parameters(program),
        layout={name: (var.dtype, var.shape) for name, var in model.state_vars.items()},
        refinement=refinement_map(rtl_dir),
        cycle_budget=options.cycle_budget,
        simulator="verilator" if options.backend == "cocotb" else "icarus",
    )
    if options.serial:
        backend.set_serial_mode(True)
    return backend


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
                    "reference", f"output {region.name!r}: {count} element(s) of the ILA's result differ from the reference",
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
    if mismatch.kind not in ("state", "quiescent") or mismatch.state is None:
        return False
    if mismatch.kind == "state" and compared is not None and compared[0] == mismatch.state:
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


def run_program(program: Program, options: RunOptions | None = None, rtl: Backend | None = None) -> RunReport:
    """Run `program` on its ILA and its RTL in lockstep; `rtl` overrides the backend `options.backend` names."""
    options = options or RunOptions()
    acc = accelerator(program.accelerator)
    rtl_dir = options.rtl_dir or acc.rtl_dir
    start = time.perf_counter()
    model = acc.model_for(program)
    ila = IlaBackend(model)
    ila.load(program)
    refinement = refinement_map(rtl_dir)
    backend = rtl or rtl_backend(program, model, options)
    try:
        backend.reset()
        backend.load(program)
        engine = Lockstep(
            program, ila, backend, compared_state(refinement), options.full_every, options.keep_going
        )
        result = engine.run()
        if options.artifacts_dir is not None and result.mismatches:
            save_difference(
                options.artifacts_dir / f"{program.name}.diff.npz", result.mismatches[0], ila, backend,
                compared=engine.first_rows,
            )  # fmt: skip
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
        rtl_hash=source_hash(rtl_dir),
        git_revision=git_revision(rtl_dir),
        backend=getattr(backend, "name", type(backend).__name__),
        mismatches=mismatches,
    )
