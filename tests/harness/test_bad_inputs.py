"""Seeded fuzz of a run's inputs (issue 19): damaged and hostile Program files among good ones.

One `python -m harness run` gets three good Programs (one per accelerator) and about forty files
made from them with a fixed seed: bit flips, truncations, an empty and a non-zip file, and header
fields rewritten inside the archive (wrong types, NaN, huge and negative numbers, hostile names,
deep nesting, bad configurations, zero instructions). Every input must get exactly one row, the
run must not crash, and nothing may be written outside the results folder.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from harness_fixtures import ROOT, SMALL

from harness.results_store import ResultsStore
from ila_models.registry import accelerator
from testbenches.hlscnn import programs as hlscnn_programs
from testbenches.vta import programs as vta_programs

SEED = 19
BIT_FLIPS = 8
TRUNCATIONS = 4
MARKUP_FILE = "name-[bold]markup[red]"  # a file name with rich markup: the console must print it as text
Header = dict[str, Any]


def _good_programs(folder: Path) -> dict[str, Path]:
    """One small good Program file per accelerator."""
    (attention,) = [p for p in accelerator("flexasr").generated_programs() if p.name == "attention"]
    return {
        "vta": vta_programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL).save(
            folder / "good-vta.npz"
        ),
        "hlscnn": hlscnn_programs.fc(batch=1, in_features=16, out_features=8).save(
            folder / "good-hlscnn.npz"
        ),
        "flexasr": attention.save(folder / "good-flexasr.npz"),
    }


# -- rewriting an archive -------------------------------------------------------------------------------
def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _npy(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array, allow_pickle=array.dtype.hasobject)
    return out.getvalue()


def _zip(members: dict[str, bytes], dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return dest


def _header(members: dict[str, bytes]) -> Header:
    raw = np.load(io.BytesIO(members["header.npy"]))
    header: Header = json.loads(raw.tobytes())
    return header


def _with_header_text(members: dict[str, bytes], text: bytes) -> dict[str, bytes]:
    return {**members, "header.npy": _npy(np.frombuffer(text, dtype=np.uint8))}


def _edited(edit: Callable[[Header], Any]) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    """A mutation that edits the JSON header in place; `json.dumps` writes NaN and Infinity as such."""

    def mutate(members: dict[str, bytes]) -> dict[str, bytes]:
        header = _header(members)
        edit(header)
        return _with_header_text(members, json.dumps(header).encode())

    return mutate


def _set(*keys: str | int, value: Any) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def edit(header: Header) -> None:
        node: Any = header
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return _edited(edit)


def _deep_list(members: dict[str, bytes]) -> dict[str, bytes]:
    header = _header(members)
    header["provenance"]["deep"] = "@DEEP@"
    text = json.dumps(header).replace('"@DEEP@"', "[" * 10_000 + "]" * 10_000)
    return _with_header_text(members, text.encode())


def _duplicate_key(members: dict[str, bytes]) -> dict[str, bytes]:
    text = json.dumps(_header(members))
    return _with_header_text(members, ('{"name": "twice", ' + text[1:]).encode())


def _zero_instructions(members: dict[str, bytes]) -> dict[str, bytes]:
    header = _header(members)
    header["num_commands"] = 0
    header["spans"] = []
    empty = np.zeros((0, header["command_bytes"]), dtype=np.uint8)
    return {**_with_header_text(members, json.dumps(header).encode()), "commands.npy": _npy(empty)}


def _pickled_commands(members: dict[str, bytes]) -> dict[str, bytes]:
    return {**members, "commands.npy": _npy(np.array([[1, 2]], dtype=object))}


@dataclass(frozen=True)
class Mutation:
    """A damaged copy of one good file, and what its rejection message must name."""

    name: str
    source: str  # accelerator of the good file it is made from
    mutate: Callable[[dict[str, bytes]], dict[str, bytes]]
    names: str  # a substring of the `FAIL input` message: the field at fault


HEADER_MUTATIONS = [
    Mutation("num-commands-string", "vta", _set("num_commands", value="19"), "'num_commands'"),
    Mutation("memories-list", "hlscnn", _set("memories", value=[]), "'memories'"),
    Mutation("config-nan", "vta", _set("config", "block_in", value=float("nan")), "'config.block_in'"),
    Mutation(
        "command-bytes-infinity", "hlscnn", _set("command_bytes", value=float("inf")), "'command_bytes'"
    ),
    Mutation("num-commands-huge", "flexasr", _set("num_commands", value=10**30), "'num_commands'"),
    Mutation("offset-huge", "hlscnn", _set("outputs", 0, "offset", value=10**30), "'outputs[0].offset'"),
    Mutation(
        "dram-negative-dim", "vta", _set("memories", "dram", "shape", value=[-1]), "'memories.dram.shape'"
    ),
    Mutation(
        "output-negative-dim",
        "hlscnn",
        _set("outputs", 0, "shape", value=[1, 1, 1, -8]),
        "'outputs[0].shape'",
    ),
    Mutation("seed-abc", "flexasr", _set("provenance", "seed", value="abc"), "'provenance.seed'"),
    Mutation("seed-negative", "vta", _set("provenance", "seed", value=-1), "'provenance.seed'"),
    Mutation("deep-list", "vta", _deep_list, "'header' nests"),
    Mutation("name-dotdot", "vta", _set("name", value="../x"), "'name'"),
    Mutation("name-absolute", "hlscnn", _set("name", value="/tmp/abs"), "'name'"),
    Mutation(MARKUP_FILE, "flexasr", _set("name", value="[/]"), "'name'='[/]'"),
    Mutation("name-nul", "vta", _set("name", value="a\x00b"), "'name'"),
    Mutation("name-long", "hlscnn", _set("name", value="n" * 10_000), "'name'"),
    Mutation("accelerator-nope", "flexasr", _set("accelerator", value="nope"), "'accelerator'"),
    Mutation("config-not-power-of-two", "vta", _set("config", "block_in", value=3), "'config'"),
    Mutation("config-weight-bits", "hlscnn", _set("config", "weight_bits", value=7), "'config'"),
    Mutation("config-string", "vta", _set("config", "acc_depth", value="256"), "'config.acc_depth'"),
    Mutation("config-unknown-key", "hlscnn", _set("config", "bogus", value=1), "'config'"),
    Mutation("config-list", "vta", _set("config", value=[4, 4]), "'config'"),
    Mutation("zero-instructions", "vta", _zero_instructions, "'commands'"),
    Mutation("version-2", "flexasr", _set("version", value=2), "'version'"),
    Mutation("span-past-end", "vta", _set("spans", 0, "end", value=10**6), "'spans[0]'"),
    Mutation("reference-unknown", "hlscnn", _set("references", value=["Y", "nope"]), "'references[1]'"),
    Mutation("header-array", "flexasr", lambda m: _with_header_text(m, b"[1, 2]"), "'header'"),
    Mutation("header-not-utf8", "hlscnn", lambda m: _with_header_text(m, b'{"name": "\xff"}'), "'header'"),
    Mutation("duplicate-key", "flexasr", _duplicate_key, "'name' twice"),
    Mutation("no-header", "vta", lambda m: {k: v for k, v in m.items() if k != "header.npy"}, "'header'"),
    Mutation("extra-member", "hlscnn", lambda m: {**m, "evil.npy": m["commands.npy"]}, "'evil'"),
    Mutation("pickled-commands", "flexasr", _pickled_commands, "'commands'"),
]


def _damaged_files(good: dict[str, Path], folder: Path) -> tuple[dict[Path, str], list[Path]]:
    """The mutated files: those the loader must reject (with what the message names), and bit flips."""
    rng = random.Random(SEED)
    rejected: dict[Path, str] = {}
    for m in HEADER_MUTATIONS:
        rejected[_zip(m.mutate(_members(good[m.source])), folder / f"{m.name}.npz")] = m.names
    sources = list(good.values())
    for i in range(TRUNCATIONS):
        data = sources[i % len(sources)].read_bytes()
        path = folder / f"truncated-{i}.npz"
        path.write_bytes(data[: rng.randrange(1, len(data))])  # the zip's directory is at the end
        rejected[path] = "not a Program archive"
    (folder / "empty.npz").write_bytes(b"")
    (folder / "not-a-zip.npz").write_text("PK? no: a text file\n")
    rejected[folder / "empty.npz"] = rejected[folder / "not-a-zip.npz"] = "not a Program archive"
    flipped = []
    for i in range(BIT_FLIPS):
        damaged = bytearray(sources[i % len(sources)].read_bytes())
        offset = rng.randrange(len(damaged))
        damaged[offset] ^= 1 << rng.randrange(8)
        path = folder / f"bitflip-{i}-at-{offset}.npz"
        path.write_bytes(bytes(damaged))
        flipped.append(path)
    return rejected, flipped


def _tree(folder: Path, skip: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if skip not in (p, *p.parents)}


def _harness(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "harness", "run", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )  # fmt: skip


def test_every_damaged_input_gets_one_row_and_the_run_stays_inside_its_results_folder(tmp_path):
    inputs, cwd = tmp_path / "inputs", tmp_path / "cwd"
    inputs.mkdir()
    cwd.mkdir()
    good = _good_programs(inputs)
    rejected, flipped = _damaged_files(good, inputs)
    files = [*good.values(), *rejected, *flipped]
    assert 40 <= len(files) <= 50
    results = cwd / "R"
    before, tmp_before = _tree(tmp_path, results), set(os.listdir("/tmp"))

    out = _harness(
        [*map(str, files), "--results", str(results), "-j", "2", "--no-reproduce", "--wave-window", "0"], cwd
    )

    console = out.stdout + out.stderr
    assert "Traceback" not in console, console[-4000:]
    assert out.returncode == 1, console[-4000:]
    table = ResultsStore(results).table()
    assert sorted(table["path"]) == sorted(str(f.resolve()) for f in files)  # one row per input, by its path
    rows = table.set_index("path")
    for path in good.values():
        assert rows.loc[str(path), "passed"], rows.loc[str(path), "mismatch"]
    wrong = []
    for path, names in rejected.items():
        row = rows.loc[str(path)]
        if row["failure"] != "input" or str(path) not in row["mismatch"] or names not in row["mismatch"]:
            wrong.append(f"{path.name}: expected `input: {path}: ...{names}...`, got {row['mismatch']!r}")
        assert pd.isna(row["instructions"])  # nothing measured for a file that never ran
    assert not wrong, "\n".join(wrong)
    for path in flipped:  # a flip may land where nothing reads it; a damaged one is an input failure
        row = rows.loc[str(path)]
        assert row["passed"] or row["failure"] == "input", (path.name, row["mismatch"])
        if not row["passed"]:
            assert str(path) in row["mismatch"]
    assert f"{int(table['passed'].sum())} passed, {int((~table['passed']).sum())} failed" in out.stdout

    # markup in a file name is printed as text, and a markup Program name is rejected for its name
    assert MARKUP_FILE in out.stdout and "'name'='[/]'" in out.stdout

    # nothing outside the results folder: not in the working folder, the inputs' folder, or /tmp
    assert _tree(tmp_path, results) == before
    assert not {n for n in set(os.listdir("/tmp")) - tmp_before if n.split(".")[0] in ("abs", "x")}
    (run_dir,) = (p for p in results.iterdir() if p.name != "runs")
    assert sorted(p.name for p in results.iterdir()) == sorted(["runs", run_dir.name])
    reports = sorted(p.name for p in run_dir.iterdir() if p.suffix == ".json")
    assert len(reports) == len(files)
    assert {p.name for p in run_dir.iterdir()} - set(reports) <= {"index.html"}


# -- known harness bugs found by this fuzzing: each input still owes exactly one row ----------------------
@pytest.fixture
def one_run(tmp_path: Path) -> Callable[[list[Path]], tuple[subprocess.CompletedProcess[str], Any]]:
    def run(files: list[Path]) -> tuple[subprocess.CompletedProcess[str], Any]:
        results = tmp_path / "R"
        out = _harness([*map(str, files), "--results", str(results), "-j", "1", "--no-reproduce", "--wave-window", "0"], tmp_path)  # fmt: skip
        return out, ResultsStore(results).table()

    return run


def test_a_zero_dimensional_memory_is_an_input_failure(tmp_path, one_run):
    good = _good_programs(tmp_path)

    def scalar_dram(header: Header) -> None:
        header["memories"]["dram"]["shape"] = []
        header["outputs"], header["references"] = [], []

    members = {
        k: v for k, v in _edited(scalar_dram)(_members(good["vta"])).items() if not k.startswith("ref.")
    }
    bad = _zip({**members, "mem.dram.npy": _npy(np.array(7, dtype=np.uint8))}, tmp_path / "scalar-dram.npz")
    out, table = one_run([bad, good["hlscnn"]])
    assert "Traceback" not in out.stdout + out.stderr
    assert sorted(table["failure"]) == ["", "input"]


def test_a_seed_above_int64_still_gets_its_row(tmp_path, one_run):
    good = _good_programs(tmp_path)
    big = _zip(
        _set("provenance", "seed", value=2**64 - 1)(_members(good["hlscnn"])), tmp_path / "big-seed.npz"
    )
    out, table = one_run([big, good["vta"]])
    assert sorted(table["path"]) == sorted([str(big), str(good["vta"])]), out.stdout[-2000:]


def test_the_path_column_is_resolved_for_rejected_inputs_too(tmp_path, one_run):
    good = _good_programs(tmp_path)
    (tmp_path / "junk.npz").write_text("junk")
    out, table = one_run([Path("junk.npz"), Path(good["vta"].name)])  # relative to the run's working folder
    assert sorted(table["path"]) == sorted([str(tmp_path / "junk.npz"), str(good["vta"])]), out.stdout[-2000:]
