"""What a failing run leaves behind in results/<run>/: waveform window, reproducer, difference picture.

Called by the worker after `run_program` reports a mismatch. Each artifact is independent: one
that cannot be made (e.g. the mismatch has no cycle) is recorded in `report.artifacts` as
`<name>_error` with the reason, and the others are still made.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from harness.results import RunReport
from harness.runner import RunOptions
from ila_models.program import Program

REPRODUCIBLE = ("state", "quiescent", "order", "unit", "hang", "missing")


def collect(program: Program, options: RunOptions, report: RunReport) -> None:
    """Make the artifacts of a failed report into options.artifacts_dir; record their paths in it."""
    m = report.first
    out = options.artifacts_dir
    if m is None or out is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    arts = report.artifacts
    diff = out / f"{program.name}.diff.npz"
    if diff.exists():
        try:
            from harness.difference_picture import draw_difference

            arts["picture"] = str(draw_difference(diff, out / f"{program.name}.diff.png"))
            arts["difference"] = str(diff)
        except Exception as exc:
            arts["picture_error"] = _reason(exc)
    if options.wave_window > 0:
        if m.cycle:
            try:
                from harness.waves import wave_window

                window = wave_window(program, options, m, options.wave_window, out)
                arts["waves"] = str(window.fst)
                arts["gtkw"] = str(window.gtkw)
                arts["wave_cycles"] = f"{window.first}..{window.last}"
            except Exception as exc:
                arts["waves_error"] = _reason(exc)
        else:
            arts["waves_error"] = f"the {m.kind!r} mismatch has no RTL cycle to centre a window on"
    if options.reproduce:
        if m.kind in REPRODUCIBLE and m.index is not None:
            try:
                from harness.reproducer import minimize, replay_command

                reduction = minimize(program, options, m, max_seconds=options.repro_seconds)
                path = reduction.program.save(out / f"{program.name}.repro.npz")
                arts["reproducer"] = str(path)
                arts["reproducer_command"] = replay_command(path, options)
                arts["reproducer_instructions"] = f"{len(reduction.program)} of {reduction.original_instructions}"
                arts["reproducer_search"] = f"{reduction.tests} runs, {reduction.seconds:.1f} s: " + "; ".join(
                    reduction.steps
                )
            except Exception as exc:
                arts["reproducer_error"] = _reason(exc)
        else:
            arts["reproducer_error"] = f"a {m.kind!r} mismatch names no instruction to minimize towards"


def _reason(exc: Exception) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    return f"{type(exc).__name__}: {exc}" + (f" ({Path(where.filename).name}:{where.lineno})" if where else "")
