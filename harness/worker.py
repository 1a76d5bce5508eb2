"""The worker process: runs one Program in lockstep and writes its RunReport as JSON.

The session runs each Program in its own worker so that a simulator that crashes
(a segfault in the verilated model) or hangs is reported and the run goes on.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from harness.results import write_atomic
from harness.runner import RunOptions, run_program
from ila_models.program import Program


def options_to_json(options: RunOptions) -> str:
    """RunOptions for the worker's command line."""
    data = {f.name: getattr(options, f.name) for f in fields(options)}
    data["rtl_dir"] = str(options.rtl_dir) if options.rtl_dir else None
    data["artifacts_dir"] = str(options.artifacts_dir) if options.artifacts_dir else None
    return json.dumps(data)


def options_from_json(text: str) -> RunOptions:
    data = json.loads(text)
    data["rtl_dir"] = Path(data["rtl_dir"]) if data.get("rtl_dir") else None
    data["artifacts_dir"] = Path(data["artifacts_dir"]) if data.get("artifacts_dir") else None
    return RunOptions(**data)


def run_worker(file: Path, report_path: Path, options: str, progress: Path | None = None) -> int:
    """Run `file` and write its report; exit status 0 whether it passed or not (the report says).

    progress: a file the session polls for the number of instructions retired so far.
    """
    program = Program.load(file)
    opts = options_from_json(options)
    rtl = None
    if progress is not None:
        from harness.accelerators import accelerator
        from harness.progress import ProgressBackend
        from harness.runner import rtl_backend

        model = accelerator(program.accelerator).model_for(program)
        rtl = ProgressBackend(rtl_backend(program, model, opts), progress, len(program))
    report = run_program(program, opts, rtl=rtl)
    report.path = str(file)
    if not report.passed and opts.artifacts_dir is not None:
        from harness.artifacts import collect

        collect(program, opts, report)
    write_atomic(report_path, json.dumps(report.to_json(), indent=1).encode())
    return 0
