"""`make check-rtl`: a designer's RTL change against a base revision, on the same Programs.

The base revision's `rtl/<accel>/` is taken from git (`git archive`, into build/check-rtl/) and run
as one run; the working tree's (or `--rtl`'s) as a second run, on the same suite's Programs. The
comparison (harness/history.py) lists the new failures (with their first mismatch and
reproducer), the fixes, and each Program whose cycle count changed: a performance regression
or improvement. Both runs stay in the results store, so the dashboard shows them too.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import replace
from pathlib import Path

from harness.history import Comparison, compare
from harness.options import RunOptions
from harness.pipeline import REPO_ROOT, Reporter, new_run_id
from harness.regress import regress, regress_plan
from harness.results_store import ResultsStore
from ila_models.registry import accelerator


class CheckError(RuntimeError):
    """The base revision or the RTL folder cannot be had; the message says why."""


def base_rtl(accel: str, rev: str, cache: Path) -> Path:
    """`rtl/<accel>/` as it is at git revision `rev`, extracted under `cache`."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise CheckError(f"--base {rev!r}: not a git revision of {REPO_ROOT} ({exc})") from None
    folder = accelerator(accel).rtl.resolve().relative_to(REPO_ROOT)
    dest = cache / commit[:12] / folder
    if dest.is_dir():
        return dest
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, str(folder)], cwd=REPO_ROOT, capture_output=True, check=True
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise CheckError(f"revision {rev} has no {folder}/: {exc.stderr.decode(errors='replace').strip()}") from None
    tmp = cache / f".{commit[:12]}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp, filter="data")
    dest.parent.mkdir(parents=True, exist_ok=True)
    (tmp / folder).rename(dest)
    shutil.rmtree(tmp, ignore_errors=True)
    return dest


def check_rtl(
    accel: str,
    base: str,
    rtl: Path | None,
    suite: str,
    options: RunOptions,
    results: Path,
    workers: int,
    reporters: list[Reporter],
    threshold: float = 0.0,
) -> Comparison:
    """Run `suite` for `accel` on the base revision's RTL and on `rtl` (the working tree's), and compare."""
    new_rtl = (rtl or accelerator(accel).rtl).resolve()
    if not new_rtl.is_dir():
        raise CheckError(f"--rtl {str(new_rtl)!r}: no such folder")
    old_rtl = base_rtl(accel, base, REPO_ROOT / "build" / "check-rtl")
    stamp = new_run_id()
    run_ids = {}
    for label, folder in (("base", old_rtl), ("new", new_rtl)):
        plan = regress_plan(
            suite, replace(options, rtl_dir=folder), results, workers, accelerators=[accel],
            run_id=f"{stamp}-check-{label}", command=f"check-rtl {accel} {label}: {folder}",
        )  # fmt: skip
        regress(plan, reporters)
        run_ids[label] = plan.run_id
    return compare(ResultsStore(results), run_ids["base"], run_ids["new"], threshold)
