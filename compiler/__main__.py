"""Command line: `python -m compiler report` and `python -m compiler compile --model NAME`."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from compiler.hooks import compiler_hooks, targeted
from compiler.models import APPLICATIONS


def main(argv: list[str] | None = None) -> int:
    accelerators = list(targeted())
    parser = argparse.ArgumentParser(prog="python -m compiler")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="exact vs flexible offload counts, compile time, application error")
    rep.add_argument("--apps", nargs="*", default=list(APPLICATIONS), choices=APPLICATIONS)
    rep.add_argument("--accels", nargs="*", default=accelerators, choices=accelerators)
    rep.add_argument("--out", type=Path, default=Path("results"))
    comp = sub.add_parser("compile", help="compile one application and write its accelerator Programs")
    comp.add_argument("--model", required=True, choices=APPLICATIONS)
    comp.add_argument("--accel", default="vta", choices=accelerators, help="the accelerator to compile for")
    comp.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.command == "report":
        from compiler.report import compile_report, error_sources, save, wins

        table = compile_report(tuple(args.apps), tuple(args.accels))
        print(table.to_string(index=False))
        print(error_sources(table))
        path = save(table, args.out)
        print(f"flexible offloads strictly more than exact on {wins(table)} of {table.application.nunique()} applications")
        print(f"saved {path}")
        return 0
    from compiler.codegen import compile_programs

    if not compiler_hooks(args.accel).lowered:
        parser.error(f"--accel {args.accel!r}: its codegen lowers no calls to Programs")
    out = args.out or Path("build/compiled") / args.accel / args.model
    result = compile_programs(args.model, out, args.accel)
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in result.seconds.items())
    print(f"wrote {len(result.paths)} Programs to {out} ({timing})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
