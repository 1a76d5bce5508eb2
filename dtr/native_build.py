"""Build the compiled runtime core (see dtr.native): `python -m dtr.native_build`.

A no-op when a build of the current sources exists. The build goes to a temporary directory
and is renamed into place when complete, so an interrupted build is never used.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dtr.native import CORE, GROUP, PACKAGE, build_dir

# Modules outside the core (the package's __init__ imports torch) are not analysed: mypy would
# spend minutes on torch, which the core does not use; to the core they are untyped.
_MYPY_FLAGS = ["--follow-imports=skip"]

_SETUP = """
import sys
from setuptools import setup
from mypyc.build import mypycify
sources, flags, group = sys.argv[1], sys.argv[2], sys.argv[3]
setup(name=group, ext_modules=mypycify(flags.split() + sources.split(), group_name=group, opt_level="3"),
      script_args=sys.argv[4:])
"""


def build(force: bool = False, quiet: bool = False) -> Path:
    """Compile the core if this version of its sources has no build yet; returns the build directory."""
    target = build_dir()
    if (target / "COMPLETE").is_file() and not force:
        return target
    root = PACKAGE.parent
    target.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as tmp:
        out = Path(tmp) / "lib"
        sources = " ".join(f"dtr/{name}.py" for name in CORE)
        cmd = [sys.executable, "-c", _SETUP, sources, " ".join(_MYPY_FLAGS), GROUP,
               "build_ext", "--build-lib", str(out), "--build-temp", str(Path(tmp) / "tmp")]
        if not quiet:
            print(f"compiling the DTR runtime core with mypyc ({len(CORE)} modules) ...", flush=True)
        r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout[-4000:] + r.stderr[-4000:])
            raise RuntimeError(f"mypyc build of the DTR core failed (exit {r.returncode}); the Python core still works")
        (out / "COMPLETE").write_text(" ".join(CORE) + "\n")
        if target.exists():
            shutil.rmtree(target)
        out.rename(target)
    for old in target.parent.iterdir():  # builds of earlier sources are never loaded again
        if old.is_dir() and old != target and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    if not quiet:
        print(f"built {target} in {time.time() - t0:.0f} s")
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild even if a build of these sources exists")
    args = ap.parse_args(argv)
    build(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
