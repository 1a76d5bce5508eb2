"""Write an accelerator's generated Programs to a folder: `python -m testbenches.generate --accel vta --out DIR`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ila_models.accelerator import PluginError
from ila_models.registry import accelerator, names


def main(argv: list[str] | None = None) -> int:
    """Generate the Programs of one accelerator (its plug-in's generators)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accel", default="vta", help=f"one of {names()} (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the .npz Programs")
    args = parser.parse_args(argv)
    try:
        programs = accelerator(args.accel).generated_programs()
    except PluginError as exc:
        parser.error(f"--accel: {exc}")
    for program in programs:
        path = program.save(args.out / f"{program.name}.npz")
        print(f"wrote {path} ({len(program)} instructions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
