"""What a failing run leaves behind in its run folder: waveform window, reproducer, difference picture.

Called by the worker after `run_program` reports a mismatch. Each artifact is independent: one
that cannot be made (e.g. the mismatch has no cycle) is recorded in `report.artifacts` as
`<name>_error` with the reason, and the others are still made. Paths in `report.artifacts` are
relative to the run folder, so a moved or archived run folder keeps working.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path

from harness.results import RunReport
from harness.target import Target
from ila_models.program import Program

Phase = Callable[[str], None]


def difference_file(out: Path, program: Program) -> Path:
    """Where `run_program` saves the ILA and RTL rows around a state mismatch."""
    return out / f"{program.name}.diff.npz"


def collect(program: Program, target: Target, report: RunReport, out: Path, phase: Phase = lambda what: None) -> None:
    """Make the artifacts of a failed report into `out`; record their paths (relative to `out`) in it."""
    m = report.first
    if m is None:
        return
    options = target.options
    out.mkdir(parents=True, exist_ok=True)
    arts = report.artifacts
    diff = difference_file(out, program)
    if diff.exists():
        try:
            from harness.difference_picture import draw_difference

            arts["picture"] = draw_difference(diff, out / f"{program.name}.diff.png").name
            arts["difference"] = diff.name
        except Exception as exc:
            arts["picture_error"] = _reason(exc)
    if options.wave_window > 0:
        if m.cycle:
            phase("tracing waves")
            try:
                from harness.waves import wave_window

                window = wave_window(program, target, m, options.wave_window, out)
                arts["waves"] = window.fst.name
                arts["gtkw"] = window.gtkw.name
                arts["wave_cycles"] = f"{window.first}..{window.last}"
            except Exception as exc:
                arts["waves_error"] = _reason(exc)
        else:
            arts["waves_error"] = f"the {m.kind.value!r} mismatch has no RTL cycle to centre a window on"
    if options.reproduce:
        if m.kind.reproducible and m.index is not None:
            phase(f"minimizing {len(program)} instructions")
            try:
                from harness.reproducer import minimize

                reduction = minimize(program, options, m, max_seconds=options.repro_seconds)
                path = reduction.program.save(out / f"{program.name}.repro.npz")
                arts["reproducer"] = path.name
                arts["reproducer_command"] = options.replay_command(path.name)  # from the run folder
                arts["reproducer_instructions"] = f"{len(reduction.program)} of {reduction.original_instructions}"
                arts["reproducer_search"] = f"{reduction.tests} runs, {reduction.seconds:.1f} s: " + "; ".join(
                    reduction.steps
                )
            except Exception as exc:
                arts["reproducer_error"] = _reason(exc)
        else:
            arts["reproducer_error"] = f"a {m.kind.value!r} mismatch names no instruction to minimize towards"


def _reason(exc: Exception) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    return f"{type(exc).__name__}: {exc}" + (f" ({Path(where.filename).name}:{where.lineno})" if where else "")
