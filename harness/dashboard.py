"""`make report`: the static, offline history page `results/index.html` over every run in the store.

Queried with DuckDB (harness/results_store.py), rendered from harness/templates/dashboard.html.j2:
new failures, fixes and cycle-count changes since the previous run; every run with its counts and
a link to its own page; pass/fail per accelerator and suite over time; plots (matplotlib, embedded
PNG) of failures per run, throughput (simulated cycles per second of ILA + RTL time) per run, and
the cycle count of the Programs seen most often over time.
"""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import jinja2

from harness.history import compare, runs_summary
from harness.results_store import ResultsStore
from ila_models.atomic_write import write_atomic

PLOTTED_PROGRAMS = 8

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "templates"), autoescape=True, undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)  # fmt: skip


def write_dashboard(results: Path) -> Path:
    """Write results/index.html from every run in the store; its path."""
    store = ResultsStore(results)
    runs = runs_summary(store)
    run_ids = list(runs["run_id"])
    previous = _previous(runs)
    comparison = compare(store, previous, run_ids[-1]) if previous else None
    rows = store.query("SELECT * FROM runs")
    html = _ENV.get_template("dashboard.html.j2").render(
        results=str(results), made=time.strftime("%Y-%m-%d %H:%M:%S %Z"), rows=len(rows),
        runs=[_run(results, r) for r in runs.to_dict("records")], comparison=comparison,
        **_matrix(rows, run_ids), plots=_plots(runs, rows), coverage=_coverage(rows),
    )  # fmt: skip
    path = results / "index.html"
    write_atomic(path, html.encode())
    return path


def _previous(runs: Any) -> str | None:
    """The run the newest one is compared with: the newest earlier run of the same suites and
    accelerators (a nightly with last night's), else simply the one before it."""
    if len(runs) < 2:
        return None
    newest = runs.iloc[-1]
    alike = runs.iloc[:-1][(runs["suites"] == newest["suites"]) & (runs["accelerators"] == newest["accelerators"])]
    return str((alike if len(alike) else runs.iloc[:-1])["run_id"].iloc[-1])


def _run(results: Path, row: dict[str, Any]) -> dict[str, Any]:
    rate = row["cycles_per_second"]
    return {
        **row,
        "page": (results / row["run_id"] / "index.html").exists(),
        "rate": f"{rate:,.0f}" if rate == rate and rate else "—",
    }


def _matrix(rows: Any, run_ids: list[str]) -> dict[str, Any]:
    """(total, passed) per run and accelerator/suite group."""
    rows = rows.assign(group=rows["accelerator"].fillna("?") + "/" + rows["suite"].fillna("").replace("", "-"))
    counts = rows.groupby(["run_id", "group"])["passed"].agg(["count", "sum"])
    groups = sorted(rows["group"].unique())
    matrix = []
    for run_id in run_ids:
        cells = []
        for group in groups:
            key = (run_id, group)
            cells.append((int(counts.loc[key, "count"]), int(counts.loc[key, "sum"])) if key in counts.index else None)
        matrix.append((run_id, cells))
    return {"groups": groups, "matrix": matrix}


def _plots(runs: Any, rows: Any) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = list(range(len(runs)))
    labels = [r[-22:] for r in runs["run_id"]]
    plots = []
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.bar(x, runs["passed"], color="#08700d", label="passed")
    ax.bar(x, runs["failed"], bottom=runs["passed"], color="#b00020", label="failed")
    _finish(ax, x, labels, "Programs")
    plots.append(("Programs passed and failed per run", _png(fig)))
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot(x, runs["cycles_per_second"].fillna(0), marker="o")
    _finish(ax, x, labels, "cycles / s")
    plots.append(("Throughput: simulated cycles per second of ILA + RTL time", _png(fig)))
    measured = rows.dropna(subset=["cycles"])
    common = measured.groupby("program")["run_id"].nunique().sort_values(ascending=False).index[:PLOTTED_PROGRAMS]
    fig, ax = plt.subplots(figsize=(9, 3.5))
    order = {run_id: i for i, run_id in enumerate(runs["run_id"])}
    for program in common:
        series = measured[measured["program"] == program].groupby("run_id")["cycles"].max()
        ax.plot([order[r] for r in series.index], list(series), marker=".", label=program)
    _finish(ax, x, labels, "cycles")
    if len(common):
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    plots.append(("Cycle count per Program over time", _png(fig)))
    return plots


def _finish(ax: Any, x: list[int], labels: list[str], ylabel: str) -> None:
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _coverage(rows: Any) -> str:
    if "coverage" in rows.columns and rows["coverage"].notna().any():
        return f"mean functional coverage of the latest run: {rows['coverage'].dropna().iloc[-1]:.1%}"
    return "No run has recorded functional coverage yet (the constrained-random suite records it)."
