"""The Program file: round trip, and clear errors naming the field for malformed files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from ila_models import vta_isa as isa
from ila_models.program import MemoryImage, Program, ProgramError
from testbenches.vta import programs

SMALL = isa.VtaConfig(block_in=4, block_out=4, uop_depth=256, inp_depth=256, wgt_depth=128, acc_depth=256)


@pytest.fixture
def saved(tmp_path):
    program = programs.matmul(m=16, k=16, n=16, chunk_rows=8, config=SMALL)
    return program, program.save(tmp_path / "p.npz")


def test_round_trip(saved):
    program, path = saved
    loaded = Program.load(path)
    assert loaded.accelerator == "vta" and loaded.config == SMALL.to_dict()
    assert np.array_equal(loaded.commands, program.commands)
    assert np.array_equal(loaded.memories["dram"], program.memories["dram"])
    assert loaded.outputs == program.outputs
    assert np.array_equal(loaded.references["C"], program.references["C"])
    assert loaded.spans == program.spans
    assert loaded.provenance["seed"] == 0


def _rewrite(path, edit):
    """Re-pack the archive after `edit(arrays)` changes its members."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    edit(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _header_edit(change):
    def edit(arrays):
        header = json.loads(arrays["header"].tobytes())
        change(header)
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a: a.pop("header"), r"field 'header' is missing"),
        (lambda a: a.__setitem__("header", np.frombuffer(b"{not json", np.uint8)), r"'header' is not valid JSON"),
        (_header_edit(lambda h: h.__setitem__("format", "other")), r"'format'='other': expected 'tandem-program'"),
        (_header_edit(lambda h: h.__setitem__("version", 99)), r"'version'=99: this Tandem reads up to 1"),
        (_header_edit(lambda h: h.pop("accelerator")), r"'accelerator' is missing"),
        (_header_edit(lambda h: h["config"].__setitem__("block_in", "4")), r"'config.block_in'='4': expected an integer"),
        (lambda a: a.__setitem__("commands", a["commands"].astype(np.uint16)), r"'commands' is uint16\[.*expected uint8"),
        (lambda a: a.pop("mem.dram"), r"field 'mem.dram' is missing"),
        (_header_edit(lambda h: h["outputs"][0].__setitem__("offset", 10**9)), r"'outputs\[0\]' \('C'\) covers bytes"),
        (_header_edit(lambda h: h["outputs"][0].__setitem__("memory", "sram")), r"'outputs\[0\].memory'='sram'"),
        (lambda a: a.__setitem__("ref.C", np.zeros((2, 2), np.int8)), r"'ref.C' has shape \[2, 2\]"),
        (_header_edit(lambda h: h.__setitem__("num_commands", 3)), r"'num_commands'=3 but 'commands' holds"),
    ],
)
def test_malformed_files_name_the_field(saved, edit, message):
    _, path = saved
    _rewrite(path, edit)
    with pytest.raises(ProgramError, match=message):
        Program.load(path)


def test_object_arrays_are_refused_not_unpickled(saved):
    _, path = saved
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("payload.npy", buf.getvalue())
    with pytest.raises(ProgramError, match="payload"):
        Program.load(path)


def test_not_an_archive(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_text("hello")
    with pytest.raises(ProgramError, match="not a Program archive"):
        Program.load(bad)
    with pytest.raises(ProgramError, match="no such file"):
        Program.load(tmp_path / "missing.npz")


def test_memory_image_alignment():
    image = MemoryImage()
    assert image.place(np.ones(3, np.uint8), 4) == 0
    assert image.place(np.arange(2, dtype=np.int32), 16) == 16
    assert image.reserve(5, 8) == 24
    built = image.build(64)
    assert built.size == 64 and list(built[16:24].view(np.int32)) == [0, 1]
