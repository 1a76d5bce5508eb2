"""Compile time per application: frontend (torch.export -> Relax -> terms) and flexible matching per
accelerator, measured in one run. Target: ResNet-20 on VTA under 60 s (matching; codegen not yet built)."""

from __future__ import annotations

import time
import warnings

from compiler.ir.terms import ACCELERATORS
from compiler.models import APPLICATIONS, build
from compiler.pipeline import compile_application, frontend


def main() -> None:
    warnings.simplefilter("ignore")
    print(f"{'application':<16} {'frontend_s':>10} " + " ".join(f"{a + '_match_s':>16}" for a in ACCELERATORS))
    for name in APPLICATIONS:
        imported, front_s = frontend(build(name))
        times = []
        for accel in ACCELERATORS:
            start = time.perf_counter()
            compile_application(name, accel, flexible=True, imported=imported)
            times.append(time.perf_counter() - start)
        print(f"{name:<16} {front_s:>10.2f} " + " ".join(f"{t:>16.2f}" for t in times), flush=True)


if __name__ == "__main__":
    main()
