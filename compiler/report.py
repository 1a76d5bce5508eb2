"""`make compile-report`: per application x accelerator, operators offloaded with exact and with flexible
matching, compile time, and application-level error.

The error is ILA-backed (`error_source` 'ila') for accelerators with a codegen: every offloaded call runs
as a Program on the ILA model. Elsewhere it is 'emulated': the accelerator's numerics in numpy."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from compiler.hooks import targeted
from compiler.models import APPLICATIONS, build
from compiler.pipeline import compile_application, frontend
from compiler.validation import validate

COLUMNS = [
    "application", "accelerator", "exact_offloaded", "flexible_offloaded", "host_ops_flexible",
    "compile_s", "top1_agreement", "relative_error", "error_source",
]


def compile_report(apps: tuple[str, ...] = APPLICATIONS, accelerators: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Measure every row of the report (slow: builds and runs each offloaded program).

    accelerators: those to compile for; every accelerator the compiler targets by default.
    """
    accelerators = tuple(targeted()) if accelerators is None else accelerators
    rows = []
    for name in apps:
        imported, frontend_s = frontend(build(name))
        for accel in accelerators:
            exact = compile_application(name, accel, flexible=False, imported=imported)
            start = time.perf_counter()
            flexible = compile_application(name, accel, flexible=True, imported=imported)
            compile_s = frontend_s + (time.perf_counter() - start)
            checked = validate(flexible)
            err = checked.error
            rows.append(
                {
                    "application": name,
                    "accelerator": accel,
                    "exact_offloaded": exact.result.offloaded_total,
                    "flexible_offloaded": flexible.result.offloaded_total,
                    "host_ops_flexible": sum(flexible.result.host_ops.values()),
                    "compile_s": round(compile_s, 2),
                    "top1_agreement": round(err.top1_agreement, 3),
                    "relative_error": round(err.relative_error, 4),
                    "error_source": checked.source,
                }
            )
            print(" ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
    return pd.DataFrame(rows, columns=COLUMNS)


def error_sources(table: pd.DataFrame) -> str:
    """One line saying which accelerators' error columns are ILA-backed and which are emulated."""
    by = table.groupby("error_source").accelerator.unique()
    parts = [f"{src}: {', '.join(sorted(by[src]))}" for src in sorted(by.index)]
    return "application error from " + "; ".join(parts) + " (ila = offloaded calls run as Programs on the ILA model)"


def wins(table: pd.DataFrame) -> int:
    """Applications where flexible matching offloads strictly more than exact on some accelerator."""
    better = table[table.flexible_offloaded > table.exact_offloaded]
    return int(better.application.nunique())


def save(table: pd.DataFrame, out_dir: Path) -> Path:
    """Write the table as CSV and Markdown under out_dir (atomically: temp file then rename)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv = out_dir / "compile_report.csv"
    tmp = csv.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(csv)
    md = out_dir / "compile_report.md"
    body = table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False)
    md.write_text(f"{body}\n\n{error_sources(table)}\n")
    return csv


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
