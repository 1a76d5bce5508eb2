"""Suites: named sets of Programs for `make regress`, `make check-rtl` and the dashboard.

A suite makes its Program files under a folder (`build/suites/<suite>/<accelerator>/` by default;
the same names and contents each time, so a resumed regression recognises them) and says, loudly,
which of its parts could not be made here and why. The suites:
- `generated`: each accelerator's generators (its plug-in's `generators`: `make sim`'s Programs);
- `compiled`: the compiler's applications on every accelerator it targets;
- `training`: the Programs `make train-sim` saved (deduplicated) under results/train-sim/;
- any other name: the plug-ins' `program_sets` of that name (FlexASR's `streams`: its authors'
  command streams; `random` once the constrained-random generators register it).
`nightly` is all of them on the fast path, plus `generated` on cocotb + Verilator and cocotb +
Icarus. A new suite of a plug-in needs no change here.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.options import RunOptions, Simulator
from ila_models.accelerator import Accelerator, PluginError, ProgramSetMissing
from ila_models.program import Program, ProgramError
from ila_models.registry import registry

REPO_ROOT = Path(__file__).resolve().parent.parent
SUITES_DIR = REPO_ROOT / "build" / "suites"
TRAINING_DIR = REPO_ROOT / "results" / "train-sim"
BUILTIN_SUITES = ("generated", "compiled", "training")
# the nightly subset that also runs on the cocotb backends (slow: Python drives every clock edge)
COCOTB_SUITES = ("generated",)


@dataclass
class SuitePart:
    """One suite's Programs for one accelerator (or why there are none)."""

    suite: str
    accelerator: str
    paths: list[Path] = field(default_factory=list)
    missing: str | None = None  # why the part's inputs could not be made here
    required: bool = True  # False: its absence is reported but does not fail the run (no training run yet)


@dataclass(frozen=True)
class SuiteRun:
    """A suite's Programs on one simulator."""

    suite: str
    simulator: Simulator
    parts: tuple[SuitePart, ...]

    @property
    def paths(self) -> list[Path]:
        return [p for part in self.parts for p in part.paths]

    @property
    def missing(self) -> list[SuitePart]:
        return [part for part in self.parts if part.missing]


def suite_names() -> list[str]:
    """Every suite a user can name: the built-in ones, every plug-in's program sets, and `nightly`."""
    sets = {name for plugin in registry().values() for name in plugin.program_sets}
    return [*BUILTIN_SUITES, *sorted(sets - set(BUILTIN_SUITES)), "nightly"]


def expand(name: str) -> list[tuple[str, Simulator]]:
    """(suite, simulator) pairs a suite name stands for; ValueError naming the known ones."""
    names = suite_names()
    if name not in names:
        raise ValueError(f"suite {name!r}: expected one of {names}")
    if name != "nightly":
        return [(name, Simulator.VERILATOR)]
    plain = [n for n in names if n != "nightly"]
    return [(n, Simulator.VERILATOR) for n in plain] + [
        (n, sim) for sim in (Simulator.COCOTB, Simulator.ICARUS) for n in COCOTB_SUITES
    ]


def make_suite(name: str, folder: Path = SUITES_DIR, accelerators: list[str] | None = None) -> list[SuitePart]:
    """Make suite `name`'s Program files under `folder/<name>/`, one part per accelerator."""
    plugins = [p for n, p in sorted(registry().items()) if accelerators is None or n in accelerators]
    if name == "training":
        return [_training(plugin, TRAINING_DIR) for plugin in plugins]
    maker = _MAKERS.get(name)
    return [_part(name, plugin, folder / name / plugin.name, maker) for plugin in plugins]


def _part(
    suite: str, plugin: Accelerator, out: Path, maker: Callable[[Accelerator, Path], list[Path]] | None
) -> SuitePart:
    part = SuitePart(suite, plugin.name)
    try:
        if maker is not None:
            part.paths = maker(plugin, out)
        elif suite in plugin.program_sets:
            part.paths = _save(plugin.program_sets[suite].load()(), out)
        else:
            return part  # this accelerator has no such set: not a missing input, nothing to run
    except ProgramSetMissing as exc:
        part.missing = str(exc)
    except (PluginError, ProgramError, OSError, ValueError) as exc:
        part.missing = f"{type(exc).__name__}: {exc}"
    return part


def _save(programs: list[Program], out: Path) -> list[Path]:
    """Save `programs` into `out` (emptied first: a stale file never runs)."""
    if out.exists():
        shutil.rmtree(out)
    return [program.save(out / f"{program.name}.npz") for program in programs]


def _generated(plugin: Accelerator, out: Path) -> list[Path]:
    return _save(plugin.generated_programs(), out)


def _compiled(plugin: Accelerator, out: Path) -> list[Path]:
    """The compiler's applications for `plugin`, compiled once per version of the compiler's sources."""
    if plugin.compiler is None:
        return []
    from compiler.codegen import compile_programs
    from compiler.hooks import compiler_hooks
    from compiler.models import APPLICATIONS

    if not compiler_hooks(plugin.name).lowered:
        return []
    stamp = out / f".compiled-{_compiler_version()}"
    if not stamp.exists():
        if out.exists():
            shutil.rmtree(out)
        for model in APPLICATIONS:
            compile_programs(model, out / model, plugin.name)
        stamp.write_text("done\n")
    return sorted(out.glob("*/*.npz"))


def _compiler_version() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "compiler").rglob("*.py")) + sorted((REPO_ROOT / "ila_models").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _training(plugin: Accelerator, folder: Path) -> SuitePart:
    part = SuitePart("training", plugin.name)
    found = sorted(folder.glob(f"*/programs/{plugin.name}/*.npz")) if folder.is_dir() else []
    if not folder.is_dir():
        part.missing = f"no training run has saved Programs yet ({folder}; `make train-sim` saves them)"
        part.required = False
    part.paths = found
    return part


_MAKERS: dict[str, Callable[[Accelerator, Path], list[Path]]] = {"generated": _generated, "compiled": _compiled}


def suite_runs(name: str, folder: Path = SUITES_DIR, accelerators: list[str] | None = None) -> list[SuiteRun]:
    """Suite `name` made and paired with the simulators it runs on (each suite made once)."""
    made: dict[str, tuple[SuitePart, ...]] = {}
    runs = []
    for suite, simulator in expand(name):
        if suite not in made:
            made[suite] = tuple(make_suite(suite, folder, accelerators))
        runs.append(SuiteRun(suite, simulator, made[suite]))
    return runs


def options_for(run: SuiteRun, base: RunOptions) -> RunOptions:
    """`base` on the suite run's simulator."""
    from dataclasses import replace

    return replace(base, backend=run.simulator)
