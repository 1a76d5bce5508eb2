"""RunReport and the results table: one row per Program per run, appended atomically."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.counts import RunCounts
from harness.mismatch import Mismatch

RESULTS = Path(__file__).resolve().parent.parent / "results"


@dataclass(kw_only=True)
class RunReport(RunCounts):
    """The outcome of running one Program in lockstep."""

    program: str
    accelerator: str
    passed: bool
    wall_seconds: float = 0.0
    seed: int | None = None
    rtl_hash: str = ""
    git_revision: str = ""
    backend: str = "verilator"
    mismatches: list[Mismatch] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    path: str = ""

    @property
    def first(self) -> Mismatch | None:
        return self.mismatches[0] if self.mismatches else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["mismatches"] = [m.to_json() for m in self.mismatches]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunReport:
        data = dict(data)
        data["mismatches"] = [
            Mismatch(**{**m, "element": tuple(m["element"]) if m.get("element") is not None else None})
            for m in data.get("mismatches", [])
        ]
        return cls(**data)

    def row(self) -> dict[str, Any]:
        """The results-table row."""
        first = self.first
        return {
            "run_id": self.run_id,
            "program": self.program,
            "path": self.path,
            "accelerator": self.accelerator,
            "backend": self.backend,
            "passed": self.passed,
            "failure": first.kind if first else "",
            "mismatch": first.headline() if first else "",
            "instructions": self.instructions,
            "retired": self.retired,
            "cycles": self.cycles,
            "comparisons": self.comparisons,
            "elements_compared": self.elements_compared,
            "ila_seconds": self.ila_seconds,
            "rtl_seconds": self.rtl_seconds,
            "wall_seconds": self.wall_seconds,
            "seed": self.seed,
            "rtl_hash": self.rtl_hash,
            "git_revision": self.git_revision,
            "artifacts": json.dumps(self.artifacts),
        }


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so a reader sees the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def append_rows(rows: list[dict[str, Any]], table: Path | None = None) -> Path:
    """Append rows to the results table (Parquet), atomically and under a lock."""
    table = table or RESULTS / "runs.parquet"
    table.parent.mkdir(parents=True, exist_ok=True)
    with open(table.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        frame = pd.DataFrame(rows)
        if table.exists():
            frame = pd.concat([pd.read_parquet(table), frame], ignore_index=True)
        fd, tmp = tempfile.mkstemp(dir=table.parent, prefix=f".{table.name}.")
        os.close(fd)
        try:
            frame.to_parquet(tmp, index=False)
            os.replace(tmp, table)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return table


def source_hash(folder: Path) -> str:
    """A short content hash of every file in an RTL folder (identifies the RTL a run used)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def git_revision(folder: Path) -> str:
    """The checkout's commit, with `+dirty` when `folder` has uncommitted changes; '' outside git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return rev + ("+dirty" if dirty else "")
