"""History over the results store: one line per run, and what changed between two runs.

`runs_summary` is `python -m harness history`; `compare` is `python -m harness compare A B` and
the heart of `check-rtl`: Programs are matched by (suite, accelerator, program, backend), and
the comparison lists new failures, fixes, Programs only one run has, and cycle-count changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.results_store import ResultsStore

KEY = ["suite", "accelerator", "program", "backend"]


def runs_summary(store: ResultsStore, last: int | None = None) -> Any:
    """One row per run, newest last: Programs, passed, failed, suites, accelerators, cycles per second."""
    limit = f"LIMIT {int(last)}" if last else ""
    return store.query(
        f"""
        SELECT * FROM (
            SELECT run_id,
                   count(*) AS programs,
                   count(*) FILTER (WHERE passed) AS passed,
                   count(*) FILTER (WHERE NOT passed) AS failed,
                   string_agg(DISTINCT coalesce(nullif(suite, ''), '-'), ',' ORDER BY coalesce(nullif(suite, ''), '-')) AS suites,
                   string_agg(DISTINCT coalesce(nullif(accelerator, ''), '?'), ',' ORDER BY coalesce(nullif(accelerator, ''), '?')) AS accelerators,
                   sum(cycles) AS cycles,
                   sum(cycles) / nullif(sum(rtl_seconds + ila_seconds), 0) AS cycles_per_second,
                   sum(wall_seconds) AS wall_seconds
            FROM runs GROUP BY run_id ORDER BY run_id DESC {limit}
        ) ORDER BY run_id
        """
    )


@dataclass
class Comparison:
    """What changed from run `before` to run `after`."""

    before: str
    after: str
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[dict[str, Any]] = field(default_factory=list)
    only_before: list[dict[str, Any]] = field(default_factory=list)
    only_after: list[dict[str, Any]] = field(default_factory=list)
    cycle_changes: list[dict[str, Any]] = field(default_factory=list)  # both passed, cycles differ
    unchanged: int = 0


def compare(store: ResultsStore, before: str, after: str, threshold: float = 0.0) -> Comparison:
    """Compare two runs of the store (ValueError naming a run id with no rows).

    threshold: the relative cycle-count change (0.01 = 1%) above which a change is listed.
    """
    rows = {}
    for run_id in (before, after):
        table = store.table(run_id)
        if not len(table):
            raise ValueError(f"run {run_id!r} has no rows in {store.root}; `python -m harness history` lists the runs")
        table["suite"] = table["suite"].fillna("")
        rows[run_id] = {tuple(r[k] for k in KEY): r for r in table.to_dict("records")}
    a, b = rows[before], rows[after]
    result = Comparison(before, after)
    for key in sorted(a.keys() | b.keys(), key=str):
        old, new = a.get(key), b.get(key)
        if old is None:
            result.only_after.append(_entry(key, b[key]))
        elif new is None:
            result.only_before.append(_entry(key, old))
        elif old["passed"] and not new["passed"]:
            result.new_failures.append(_entry(key, new))
        elif new["passed"] and not old["passed"]:
            result.fixes.append(_entry(key, new, was=old["mismatch"]))
        elif old["passed"] and new["passed"] and old["cycles"] != new["cycles"]:
            change = (new["cycles"] - old["cycles"]) / max(old["cycles"], 1)
            if abs(change) > threshold:
                result.cycle_changes.append(_entry(key, new, before_cycles=int(old["cycles"]), change=change))
            else:
                result.unchanged += 1
        else:
            result.unchanged += 1
    result.cycle_changes.sort(key=lambda e: -abs(e["change"]))
    return result


def _entry(key: tuple[Any, ...], row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        **dict(zip(KEY, key, strict=True)),
        "mismatch": row["mismatch"],
        "cycles": None if row["cycles"] != row["cycles"] or row["cycles"] is None else int(row["cycles"]),
        "artifacts": row["artifacts"],
        **extra,
    }
