"""Write an accelerator's generated Programs to a folder: `python -m testbenches.generate --accel vta --out DIR`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ila_models.program import Program
from testbenches.flexasr import programs as flexasr_programs
from testbenches.hlscnn import programs as hlscnn_programs
from testbenches.vta import programs as vta_programs

GENERATORS: dict[str, list[Callable[[], Program]]] = {
    "vta": [vta_programs.matmul, vta_programs.conv2d],
    "hlscnn": hlscnn_programs.GENERATED,
    "flexasr": flexasr_programs.GENERATED,
}


def main(argv: list[str] | None = None) -> int:
    """Generate the Programs of one accelerator."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accel", default="vta", help=f"one of {sorted(GENERATORS)}")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .npz Programs")
    args = parser.parse_args(argv)
    if args.accel not in GENERATORS:
        parser.error(f"--accel {args.accel!r}: no program generator; expected one of {sorted(GENERATORS)}")
    for make in GENERATORS[args.accel]:
        program = make()
        path = program.save(args.out / f"{program.name}.npz")
        print(f"wrote {path} ({len(program)} instructions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
