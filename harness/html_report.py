"""The static HTML page of a run (`<run folder>/index.html`), rendered from harness/templates/run.html.j2.

One self-contained file, no scripts: what was tested (date, command line, Tandem's and each RTL's
revision and hash, options), the summary of every Program, and for each failure the mismatch,
the differing elements, the expected-vs-actual picture (embedded PNG), the last instructions
retired, the provenance, and links to the artifacts. Links are relative to the run folder, so
a moved or archived run folder still opens in a browser. Jinja2 escapes every value.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from harness.results import RunReport
from ila_models.atomic_write import write_atomic

LINKS = (
    ("waves", "waveform (FST)"), ("gtkw", "GTKWave save file"), ("reproducer", "reproducer"),
    ("report", "JSON report"), ("difference", "expected/actual arrays (.npz)"),
)  # fmt: skip

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class TestedRtl:
    """One RTL a run used."""

    accelerator: str
    folder: str
    hash: str
    revision: str


@dataclass(frozen=True)
class RunHeader:
    """What a run tested, for the top of its page."""

    run_id: str
    started: str
    command: str
    tandem_revision: str
    options: dict[str, Any]
    rtl: list[TestedRtl] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # suite parts whose inputs are not on this machine


def _hex(v: int | None) -> str:
    if v is None:
        return "?"
    return f"{v:#x}" if v >= 0 else f"-{-v:#x}"


def _measured(report: RunReport, value: int) -> str:
    return f"{value:,}" if report.measured else "—"


def render(run_dir: Path, header: RunHeader, reports: list[RunReport], pending: int = 0) -> str:
    """The page's HTML."""
    pictures = {}
    for r in reports:
        picture = run_dir / r.artifacts["picture"] if "picture" in r.artifacts else None
        pictures[r.program] = base64.b64encode(picture.read_bytes()).decode() if picture and picture.exists() else ""
    passed = sum(r.passed for r in reports)
    return _ENV.get_template("run.html.j2").render(
        run=header, reports=reports, passed=passed, failed=len(reports) - passed, pending=pending,
        pictures=pictures, links=LINKS, hex=_hex, measured=_measured,
    )  # fmt: skip


def write_index(run_dir: Path, header: RunHeader, reports: list[RunReport], pending: int = 0) -> Path:
    """Write (atomically) run_dir/index.html for the reports so far."""
    path = run_dir / "index.html"
    write_atomic(path, render(run_dir, header, reports, pending).encode())
    return path
