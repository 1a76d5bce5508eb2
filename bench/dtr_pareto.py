"""DTR Pareto bench: compute overhead vs memory budget per heuristic and model, plus the targets.

Run as `python -m bench.dtr_pareto` (or `make dtr-pareto`). Prints tables and writes
results/dtr_pareto.png, results/dtr_pareto.csv and results/dtr_traces/<model>.jsonl.

Protocol (the DTR simulator's): budgets are 0.1..1.0 x the unconstrained replay's peak memory
(constants included); overhead = total compute (base + rematerialization) / base compute;
a run is "thrash" once rematerialization exceeds the base compute (overhead > 2x) and "OOM"
when nothing is left to evict. As in the simulator's default output condition, the step's
results still referenced at the end (the parameter gradients) are rematerialized if evicted,
and that recomputation counts. Op costs are wall times measured on this CPU, the median of
five recordings of the same step.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import math
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from dtr import native
from dtr.checkpointing import chen_sqrt_n, evaluate_schedule
from dtr.graphs import linear_chain, random_dag, to_trace, unet
from dtr.milp import solve_milp
from dtr.models import WORKLOADS, record_trace
from dtr.simulator import baseline, simulate
from dtr.torch_ops import clear_plan_cache
from dtr.torch_session import budget
from dtr.trace import Call, Instruction, Mutate, parse_trace

RATIOS = [round(0.1 * i, 1) for i in range(1, 11)]
HEURISTICS = ["dtr", "dtr_eq", "dtr_local", "msps", "lru", "size", "rand"]
LABELS = {"dtr": "h_DTR", "dtr_eq": "h_DTR^eq", "dtr_local": "h_DTR^local", "msps": "h_MSPS",
          "lru": "h_LRU", "size": "h_size", "rand": "h_rand"}
RAND_TRIALS = 5
RESULTS = Path("results")


def recorded_trace(name: str, reps: int = 5) -> tuple[list[Instruction], list[list[Instruction]]]:
    """The step's trace with each op's cost the median of `reps` recordings, and the recordings."""
    runs = []
    for _ in range(reps):
        buf = io.StringIO()
        record_trace(name, buf)
        runs.append((buf.getvalue(), parse_trace(buf.getvalue().splitlines())))
    text, trace = runs[0]
    recordings = [t for _, t in runs]
    if any(len(t) != len(trace) for _, t in runs):
        return trace, recordings  # the recordings differ in shape: keep the first as is
    out: list[Instruction] = []
    for k, ins in enumerate(trace):
        if isinstance(ins, Call | Mutate):
            times = [t[k].time for _, t in runs]  # type: ignore[union-attr]
            ins = replace(ins, time=float(statistics.median(times)))
        out.append(ins)
    (RESULTS / "dtr_traces").mkdir(parents=True, exist_ok=True)
    (RESULTS / "dtr_traces" / f"{name}.jsonl").write_text(text)
    return out, recordings


def sweep(trace: list[Instruction]) -> dict[str, dict[float, tuple[str, float]]]:
    """(status, overhead) per heuristic and budget ratio."""
    base = baseline(trace)
    table: dict[str, dict[float, tuple[str, float]]] = {}
    for h in HEURISTICS:
        table[h] = {}
        for ratio in RATIOS:
            trials = RAND_TRIALS if h == "rand" else 1
            results = [simulate(trace, h, ratio * base.peak_memory, remat_limit=base.base_compute, seed=s,
                                outputs="rematerialize") for s in range(trials)]
            ok = [r.total_compute / base.base_compute for r in results if r.status == "ok"]
            if len(ok) * 2 > trials:
                table[h][ratio] = ("ok", statistics.fmean(ok))
            else:
                failed = [r.status for r in results if r.status != "ok"]
                table[h][ratio] = (max(set(failed), key=failed.count), math.nan)
    return table


def cell(status: str, overhead: float) -> str:
    return f"{overhead:5.2f}" if status == "ok" else (" thr " if status == "thrash" else " OOM ")


def target_cell(trace: list[Instruction]) -> str:
    """h_DTR^eq at 0.4x peak on one trace, under the sweep's protocol."""
    base = baseline(trace)
    r = simulate(trace, "dtr_eq", 0.4 * base.peak_memory, remat_limit=base.base_compute, outputs="rematerialize")
    return cell(r.status, r.total_compute / base.base_compute).strip()


def print_table(name: str, table: dict[str, dict[float, tuple[str, float]]]) -> None:
    print(f"\n{name}: overhead (total compute / base compute) by budget (x peak); thr = thrashing (>2x)")
    print(f"{'heuristic':<12}" + "".join(f"{r:>6}" for r in RATIOS))
    for h in HEURISTICS:
        print(f"{LABELS[h]:<12}" + "".join(" " + cell(*table[h][r]) for r in RATIOS))


def plot(tables: dict[str, dict[str, dict[float, tuple[str, float]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(tables)
    fig, axes = plt.subplots(2, (n + 1) // 2, figsize=(5 * ((n + 1) // 2), 8), squeeze=False)
    for ax, (name, table) in zip(axes.flat, tables.items(), strict=False):
        for h in HEURISTICS:
            xs = [r for r in RATIOS if table[h][r][0] == "ok"]
            line = ax.plot(xs, [table[h][r][1] for r in xs], marker="o", ms=3, label=LABELS[h])[0]
            for status, marker, y in (("thrash", "x", 2.1), ("oom", "v", 2.2)):
                bad = [r for r in RATIOS if table[h][r][0] == status]
                ax.scatter(bad, [y] * len(bad), marker=marker, color=line.get_color(), s=25)
        ax.axhline(2.0, color="grey", lw=0.5, ls="--")
        ax.set_title(name)
        ax.set_xlabel("budget / peak memory")
        ax.set_ylabel("overhead (x = thrash, v = OOM)")
        ax.set_ylim(0.95, 2.3)
    axes.flat[0].legend(fontsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def milp_section() -> list[float]:
    """h_DTR^eq (and h_DTR) against the MILP optimum on graphs the MILP solves."""
    print("\nMILP optimum vs heuristics (total compute; budgets from the smallest feasible to the peak)")
    print(f"{'graph':<10}{'budget':>7}{'MILP':>8}{'solve s':>9}{'h_DTR':>8}{'h_DTR^eq':>9}{'eq/MILP':>9}")
    ratios = []
    graphs = {"chain8": linear_chain(8), "unet3": unet(3), "random7a": random_dag(7, 0), "random7b": random_dag(7, 3)}
    for name, g in graphs.items():
        trace = to_trace(g)
        peak = baseline(trace).peak_memory
        for b in range(1, peak + 1):
            opt = solve_milp(g, b, time_limit=60)
            if opt.status != "optimal":
                continue
            full, eq = simulate(trace, "dtr", b), simulate(trace, "dtr_eq", b)
            r = eq.total_compute / opt.cost if eq.status == "ok" else math.inf
            ratios.append(r)
            print(f"{name:<10}{b:>7}{opt.cost:>8.0f}{opt.solve_seconds:>9.2f}"
                  f"{full.total_compute if full.status == 'ok' else math.inf:>8.0f}"
                  f"{eq.total_compute if eq.status == 'ok' else math.inf:>9.0f}{r:>9.3f}")
        cost, mem = evaluate_schedule(g, *chen_sqrt_n(g))
        print(f"{name:<10} Chen sqrt(N): compute {cost:.0f} at peak {mem} (no-remat compute {g.total_cost:.0f}, peak {peak})")
    return ratios


def bookkeeping_section(traces: dict[str, list[Instruction]]) -> None:
    print("\nBookkeeping vs op time at 0.5x peak, h_DTR^eq")
    print("simulator (bookkeeping = Python time of the runtime replaying the trace; op time = the trace's measured op time;"
          " a thrashing run stops at 2x; min and median of 5 replays, each after gc.collect(), so that a full\n"
          "collection of the interpreter's heap (torch's objects included) does not land in one replay;"
          " scored/evict = heuristic cost evaluations per eviction, ranked/evict = pool entries ranked per eviction,"
          " which a linear scan would each have scored)")
    print(f"{'model':<12}{'status':>7}{'remat %':>9}{'search %':>10}{'metadata %':>12}{'bookkeeping %':>15}"
          f"{'median bk %':>13}{'scored/evict':>14}{'ranked/evict':>14}")
    for name, trace in traces.items():
        base = baseline(trace)
        runs = []
        for _ in range(5):
            gc.collect()
            runs.append(simulate(trace, "dtr_eq", 0.5 * base.peak_memory, remat_limit=base.base_compute,
                                 outputs="rematerialize"))
        runs.sort(key=lambda r: r.stats.bookkeeping_time)
        r = runs[0]
        op_s = base.base_compute / 1e9
        st = r.stats
        n = max(1, st.evictions)
        print(f"{name:<12}{r.status:>7}{100 * st.remat_compute / base.base_compute:>9.1f}"
              f"{100 * st.search_time / op_s:>10.1f}{100 * st.metadata_time / op_s:>12.1f}"
              f"{100 * st.bookkeeping_time / op_s:>15.1f}{100 * runs[2].stats.bookkeeping_time / op_s:>13.1f}"
              f"{st.numerators_computed / n:>14.1f}{st.candidates_ranked / n:>14.1f}")
    print("PyTorch runtime, one forward+backward under dtr.budget, median of 3 runs (wall time; interception = "
          "dispatch time outside ops and the DTR runtime: pytree, meta planning, wrappers); each run starts with\n"
          "an empty meta-plan cache, as the first step of a process does; warm interception % = the same with the plans"
          " cached by earlier steps, as every later step of a training loop")
    print(f"{'model':<12}{'sampling':>9}{'remat %':>9}{'search %':>10}{'metadata %':>12}{'interception %':>16}"
          f"{'warm interception %':>21}")
    bookkeeping: dict[str, float] = {}
    for name in ("resnet32", "transformer"):
        buf = io.StringIO()
        peak = record_trace(name, buf).peak_memory
        w = WORKLOADS[name]
        torch.manual_seed(0)
        model = w.model()
        g = torch.Generator().manual_seed(0)
        x, y = w.batch(g)
        w.loss(model(x), y).backward()  # warm-up
        for sampling in (False, True):
            rows = []
            for warm in (False, False, False, True, True, True):
                model.zero_grad()
                if not warm:
                    clear_plan_cache()
                gc.collect()
                with budget(0.5 * peak, "dtr_eq", sampling=sampling) as s:
                    w.loss(model(x), y).backward()
                st = s.stats
                base_s = st.op_time - st.remat_time
                intercept = s.dispatch_time - st.op_time - st.bookkeeping_time
                rows.append([st.remat_time / base_s, st.search_time / base_s, st.metadata_time / base_s, intercept / base_s])
            med = [100 * statistics.median(col) for col in zip(*rows[:3], strict=True)]
            warm_ic = 100 * statistics.median(r[3] for r in rows[3:])
            print(f"{name:<12}{sampling!s:>9}{med[0]:>9.1f}{med[1]:>10.1f}{med[2]:>12.1f}{med[3]:>16.1f}{warm_ic:>21.1f}")
            if not sampling:
                bookkeeping[name] = med[1] + med[2]
        model.zero_grad()
    print(f"  bookkeeping (search + metadata) of the PyTorch runtime at 0.5x peak, h_DTR^eq, full search, {native.describe()}: "
          + ", ".join(f"{k} {v:.1f}%" for k, v in bookkeeping.items())
          + f" of op time (target < 10%): {'met' if max(bookkeeping.values()) < 10 else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="*", default=list(WORKLOADS), help=f"subset of {list(WORKLOADS)}")
    ap.add_argument("--no-milp", action="store_true")
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    torch.set_num_threads(1)  # the machine is shared; one thread keeps op timings steadier
    t0 = time.time()
    print(f"DTR runtime: {native.describe()}")
    traces = {}
    recordings = {}
    tables = {}
    for name in args.models:
        traces[name], recordings[name] = recorded_trace(name)
        base = baseline(traces[name])
        print(f"\n[{name}] {sum(isinstance(i, Call | Mutate) for i in traces[name])} ops, peak {base.peak_memory / 2**20:.2f} MiB,"
              f" base compute {base.base_compute / 1e6:.1f} ms")
        tables[name] = sweep(traces[name])
        print_table(name, tables[name])
    with open(RESULTS / "dtr_pareto.csv", "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["model", "heuristic", "budget_ratio", "status", "overhead"])
        for name, table in tables.items():
            for h in HEURISTICS:
                for r in RATIOS:
                    wr.writerow([name, h, r, *table[h][r]])
    plot(tables, RESULTS / "dtr_pareto.png")
    print("\nTargets")
    for name in ("resnet32", "transformer"):
        if name in tables:
            status, ov = tables[name]["dtr_eq"][0.4]
            verdict = "met" if status == "ok" and ov <= 1.5 else "MISSED"
            base = baseline(traces[name])
            kept = simulate(traces[name], "dtr_eq", 0.4 * base.peak_memory, remat_limit=base.base_compute)
            held = simulate(traces[name], "dtr_eq", 0.4 * base.peak_memory, remat_limit=base.base_compute,
                            outputs="hold")
            print(f"  h_DTR^eq at 0.4x peak on {name}: {cell(status, ov).strip()} (target <= 1.5x): {verdict}"
                  f"  [without rematerializing evicted results at the end: {cell(kept.status, kept.total_compute / base.base_compute).strip()};"
                  f" outputs (gradients) never evicted, outputs='hold': {cell(held.status, held.total_compute / base.base_compute).strip()}]")
            print(f"    the same on each of the {len(recordings[name])} recordings (its own costs, its own peak):"
                  f" {', '.join(target_cell(t) for t in recordings[name])}")
    if not args.no_milp:
        ratios = milp_section()
        finite = [r for r in ratios if math.isfinite(r)]
        print(f"  h_DTR^eq / MILP optimum over {len(ratios)} solved (graph, budget) pairs: "
              f"max {max(finite):.3f}, mean {statistics.fmean(finite):.3f}, heuristic failed on {len(ratios) - len(finite)}"
              f" (target <= 1.3x): {'met' if finite and max(finite) <= 1.3 and len(finite) == len(ratios) else 'MISSED'}")
    bookkeeping_section({k: v for k, v in traces.items()})
    print(f"\nwrote {RESULTS / 'dtr_pareto.png'} and {RESULTS / 'dtr_pareto.csv'} in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
