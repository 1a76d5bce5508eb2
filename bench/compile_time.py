"""Compile time per application, measured in one run: frontend (torch.export -> Relax -> terms), flexible
matching per accelerator, and VTA codegen (host build, then one inference lowering every offloaded call to a
Program, written to a temporary folder). Target: ResNet-20 matching plus codegen under 60 s."""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

from compiler.codegen import compile_programs
from compiler.hooks import targeted
from compiler.models import APPLICATIONS, build
from compiler.pipeline import compile_application, frontend

TARGET_S = 60.0


def main() -> None:
    warnings.simplefilter("ignore")
    accelerators = tuple(targeted())
    print(
        f"{'application':<16} {'frontend_s':>10} "
        + " ".join(f"{a + '_match_s':>16}" for a in accelerators)
        + f" {'vta_codegen_s':>14} {'vta_programs':>12}"
    )
    totals: dict[str, float] = {}
    for name in APPLICATIONS:
        imported, front_s = frontend(build(name))
        times = {}
        compiled = {}
        for accel in accelerators:
            start = time.perf_counter()
            compiled[accel] = compile_application(name, accel, flexible=True, imported=imported)
            times[accel] = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            out = compile_programs(name, Path(tmp), "vta", compiled=compiled["vta"])
            codegen_s = time.perf_counter() - start
        totals[name] = front_s + times["vta"] + codegen_s
        print(
            f"{name:<16} {front_s:>10.2f} "
            + " ".join(f"{times[a]:>16.2f}" for a in accelerators)
            + f" {codegen_s:>14.2f} {len(out.paths):>12}",
            flush=True,
        )
    total = totals["resnet20"]
    print(
        f"ResNet-20 on VTA, frontend + matching + codegen: {total:.1f} s "
        f"({total / TARGET_S:.0%} of the {TARGET_S:.0f} s target: {'met' if total < TARGET_S else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
