"""The results store: every Program of every run, one typed row each, in a Parquet dataset read with DuckDB.

Layout under the results folder (`results/` by default):
- `runs/<run id>.parts/<n>.parquet`: the rows of a run in progress, one small file per finished
  Program, each written atomically: appending is O(1), concurrent runs never touch each other's
  files, and a crash or kill loses nothing already finished;
- `runs/<run id>.parquet`: a finished run's rows in one file (`compact`, at the end of a run);
- `runs/legacy.parquet`: the rows of the single `runs.parquet` table of earlier versions, migrated
  once when the store is first opened.

Rows are checked against SCHEMA before anything is written: a bad value names its column and is
rejected, so one bad row can never make the dataset unreadable. Queries run on an embedded DuckDB
(no server) over a view `runs`.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ila_models.atomic_write import write_atomic

SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("seq", pa.int64()),  # order in which the run finished its Programs
        ("suite", pa.string()),
        ("program", pa.string()),
        ("path", pa.string()),
        ("accelerator", pa.string()),
        ("backend", pa.string()),
        ("passed", pa.bool_()),
        ("failure", pa.string()),
        ("mismatch", pa.string()),
        ("instructions", pa.int64()),
        ("retired", pa.int64()),
        ("cycles", pa.int64()),
        ("comparisons", pa.int64()),
        ("elements_compared", pa.int64()),
        ("ila_seconds", pa.float64()),
        ("rtl_seconds", pa.float64()),
        ("wall_seconds", pa.float64()),
        ("seed", pa.int64()),
        ("rtl_hash", pa.string()),
        ("git_revision", pa.string()),
        ("artifacts", pa.string()),
    ]
)
REQUIRED = frozenset({"run_id", "seq", "program", "passed"})
LEGACY = "runs.parquet"


class ResultsError(RuntimeError):
    """The results folder cannot be written, or a row does not fit the schema; the message says which."""


class ResultsStore:
    """One results folder's dataset (see the module docstring)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.dataset = self.root / "runs"

    # -- writing ----------------------------------------------------------------------------------------
    def check_writable(self) -> None:
        """Create the dataset folder and prove a file can be written there; ResultsError otherwise."""
        try:
            self.dataset.mkdir(parents=True, exist_ok=True)
            write_atomic(self.dataset / ".write-check", b"ok\n")
            (self.dataset / ".write-check").unlink()
        except OSError as exc:
            raise ResultsError(f"results folder {str(self.root)!r} is not writable: {exc.strerror or exc}") from None
        self._migrate()
        self._recover()

    def append(self, run_id: str, seq: int, row: dict[str, Any]) -> Path:
        """Write one row of run `run_id` (its `seq`-th finished Program) as its own file."""
        table = to_table([{**row, "run_id": run_id, "seq": seq}])
        path = self.dataset / f"{run_id}.parts" / f"{seq:07d}.parquet"
        write_atomic(path, _parquet_bytes(table))
        return path

    def compact(self, run_id: str) -> Path | None:
        """Merge a run's part files into `runs/<run id>.parquet` (its rows stay readable throughout)."""
        parts = self.dataset / f"{run_id}.parts"
        files = sorted(parts.glob("*.parquet")) if parts.is_dir() else []
        if not files:
            return None
        merged = self.dataset / f"{run_id}.parquet"
        table = pa.concat_tables(pq.read_table(f, schema=SCHEMA) for f in files)
        # The parts folder is renamed out of the dataset's globs before the merged file appears:
        # a reader sees the rows once (or, for that instant, not yet), never twice.
        done = parts.with_suffix(".compacted")
        os.replace(parts, done)
        write_atomic(merged, _parquet_bytes(table), durable=True)
        shutil.rmtree(done, ignore_errors=True)
        return merged

    def _recover(self) -> None:
        """Finish a compaction a crash interrupted."""
        for done in self.dataset.glob("*.compacted"):
            if (self.dataset / f"{done.stem}.parquet").exists():
                shutil.rmtree(done, ignore_errors=True)
            else:
                os.replace(done, done.with_suffix(".parts"))

    def _migrate(self) -> None:
        """Move the single table of earlier versions into the dataset, once."""
        legacy = self.root / LEGACY
        if not legacy.is_file():
            return
        frame = pq.read_table(legacy).to_pandas()
        frame["seq"] = range(len(frame))
        for column in SCHEMA.names:
            if column not in frame:
                frame[column] = None
        rows = [{k: _fitting(k, v) for k, v in row.items()} for row in frame[SCHEMA.names].to_dict("records")]
        write_atomic(self.dataset / "legacy.parquet", _parquet_bytes(to_table(rows)), durable=True)
        os.replace(legacy, legacy.with_name(LEGACY + ".migrated"))

    # -- reading ----------------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """The dataset's Parquet files: finished runs, then the parts of runs in progress."""
        if not self.dataset.is_dir():
            return []
        return sorted(self.dataset.glob("*.parquet")) + sorted(self.dataset.glob("*.parts/*.parquet"))

    def query(self, sql: str, parameters: list[Any] | None = None) -> Any:
        """Run `sql` on an embedded DuckDB in which `runs` is every row of the store; a pandas DataFrame."""
        import duckdb

        with duckdb.connect() as db:
            files = self.files()
            rows = db.read_parquet([str(f) for f in files], union_by_name=True) if files else db.from_arrow(SCHEMA.empty_table())
            rows.create_view("runs")
            return db.execute(sql, parameters or []).df()

    def table(self, run_id: str | None = None) -> Any:
        """Every row (of one run, when given), runs in the order they started, Programs as they finished."""
        if run_id is None:
            return self.query("SELECT * FROM runs ORDER BY run_id, seq")
        return self.query("SELECT * FROM runs WHERE run_id = ? ORDER BY seq", [run_id])


def to_table(rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Rows as a table of SCHEMA; ResultsError naming the column of the first value that does not fit."""
    rows = list(rows)
    unknown = sorted({key for row in rows for key in row} - set(SCHEMA.names))
    if unknown:
        raise ResultsError(f"results row: unknown column(s) {unknown}; the schema has {SCHEMA.names}")
    for column in SCHEMA:
        for row in rows:
            value = row.get(column.name)
            if value is None and column.name in REQUIRED:
                raise ResultsError(f"results row: column {column.name!r} is missing")
            if isinstance(value, bool) and column.type != pa.bool_():  # Arrow would take True as 1
                raise ResultsError(f"results row: column {column.name!r}={value!r}: expected {column.type}")
    try:
        return pa.Table.from_pylist(rows, schema=SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    for column in SCHEMA:  # name the column that does not fit
        try:
            pa.array([row.get(column.name) for row in rows], type=column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise ResultsError(f"results row: column {column.name!r}: {exc}; expected {column.type}") from None
    raise ResultsError("results row: does not fit the schema")


def _fitting(column: str, value: Any) -> Any:
    """`value` if it fits its column's type, else None (old tables could hold e.g. a string seed)."""
    if value is None or (isinstance(value, float) and value != value):  # NaN: pandas' missing value
        return None
    try:
        pa.array([value], type=SCHEMA.field(column).type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None
    return value


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
