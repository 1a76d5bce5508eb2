"""The Program file: round trip, and clear errors naming the field for malformed files."""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections import Counter

import numpy as np
import pytest

from ila_models import registry
from ila_models import vta_isa as isa
from ila_models.program import MemoryImage, OutputRegion, Program, ProgramError, Span, check_name
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
        (
            lambda a: a.__setitem__("header", np.frombuffer(b"{not json", np.uint8)),
            r"'header' is not valid JSON",
        ),
        (
            _header_edit(lambda h: h.__setitem__("format", "other")),
            r"'format'='other': expected 'tandem-program'",
        ),
        (_header_edit(lambda h: h.__setitem__("version", 99)), r"'version'=99: this Tandem reads up to 1"),
        (_header_edit(lambda h: h.pop("accelerator")), r"'accelerator' is missing"),
        (
            _header_edit(lambda h: h["config"].__setitem__("block_in", "4")),
            r"'config.block_in'='4': expected an integer",
        ),
        (
            lambda a: a.__setitem__("commands", a["commands"].astype(np.uint16)),
            r"'commands' is uint16\[.*expected uint8",
        ),
        (lambda a: a.pop("mem.dram"), r"field 'mem.dram' is missing"),
        (
            _header_edit(lambda h: h["outputs"][0].__setitem__("offset", 10**9)),
            r"'outputs\[0\]' \('C'\) covers bytes",
        ),
        (
            _header_edit(lambda h: h["outputs"][0].__setitem__("memory", "sram")),
            r"'outputs\[0\].memory'='sram'",
        ),
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


# --- Program.load raises only ProgramError, naming the field (issue 19, item 4) ---------------------


def _raw_header(text):
    """Replace the header member by these raw bytes (after `text(old)` when callable)."""

    def edit(arrays):
        old = arrays["header"].tobytes()
        new = text(old) if callable(text) else text
        arrays["header"] = np.frombuffer(new, dtype=np.uint8)

    return edit


def _set(path, value):
    """Set the header value at dotted `path` (list indexes as numbers) to `value`."""

    def change(header):
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = header
        for p in parents:
            node = node[p]
        node[last] = value

    return _header_edit(change)


def _without(key):
    return _header_edit(lambda h: h.pop(key))


HEADER_CASES = [
    # wrong types and ranges
    (
        _set("provenance.seed", "abc"),
        r"header field 'provenance.seed'='abc': expected an integer in 0\.\.\d+, or null",
    ),
    (_set("provenance.seed", -1), r"'provenance.seed'=-1: expected an integer in 0\.\."),
    (_set("provenance.seed", 1.5), r"'provenance.seed'=1.5: expected an integer"),
    (_set("config", [1]), r"'config'=\[1\]: expected an object of integers by name"),
    (
        _set("config.block_in", 2**40),
        r"'config.block_in'=1099511627776: expected an integer in -2147483648\.\.4294967295",
    ),
    (_set("config.block_in", True), r"'config.block_in'=True: expected an integer"),
    (_set("config.bad key", 1), r"'config.bad key'='bad key': expected a name of letters"),
    (_set("command_bytes", 0), r"'command_bytes'=0: expected an integer in 1\.\.4096"),
    (_set("command_bytes", 5000), r"'command_bytes'=5000: expected an integer in 1\.\.4096"),
    (
        _set("command_bytes", 8),
        r"'commands' is uint8\[\d+, 16\]: expected uint8\[N, 8\] \(header 'command_bytes'\)",
    ),
    (
        _set("num_commands", 10**30),
        r"'num_commands'=1000000000000000000000000000000: expected an integer in 1\.\.16777216",
    ),
    (_set("num_commands", 0), r"'num_commands'=0: expected an integer in 1\.\."),
    (_set("version", "1"), r"'version'='1': expected an integer in 1\.\.1"),
    (_set("version", 0), r"'version'=0: expected an integer in 1\.\.1"),
    (_without("format"), r"header field 'format' is missing: expected 'tandem-program'"),
    (_without("memories"), r"header field 'memories' is missing: expected an object of memories by name"),
    (_set("extra", 1), r"header field 'extra' is not a field here: expected only format, version, name"),
    (_set("memories.dram.dtype", "object"), r"'memories.dram.dtype'='object': expected one of 'int8'"),
    (_set("memories.dram.dtype", ">u2"), r"'memories.dram.dtype'='>u2': expected one of"),
    (
        _set("memories.dram.shape", [-1]),
        r"'memories.dram.shape'=\[-1\]: expected a list of at most 8 integers >= 0",
    ),
    (
        _set("memories.dram.shape", [2**20] * 3),
        r"'memories.dram.shape'=.*whose product is at most 4294967296",
    ),
    (
        _set("memories.dram.order", "F"),
        r"'memories.dram.order' is not a field here: expected only dtype, shape",
    ),
    (
        _set("memories.a/b", {"dtype": "uint8", "shape": [1]}),
        r"'memories.a/b'='a/b': expected a name of letters",
    ),
    (_set("outputs.0.offset", -1), r"'outputs\[0\].offset'=-1: expected an integer in 0\.\."),
    (_set("outputs.0.shape", "16x16"), r"'outputs\[0\].shape'='16x16': expected a list"),
    (
        _header_edit(lambda h: h["outputs"].append(dict(h["outputs"][0]))),
        r"'outputs\[1\].name'='C': expected a name no other",
    ),
    (
        _set("references", ["C", "C"]),
        r"'references\[1\]'='C': expected each value once \(it is also references\[0\]\)",
    ),
    (_set("references", ["C", "Z"]), r"'references\[1\]'='Z': expected the name of an output \['C'\]"),
    (_set("spans.0.start", float("nan")), r"'spans\[0\].start'=NaN: expected an integer in 0\.\."),
    (
        _set("spans.0.end", 10**6),
        r"'spans\[0\]' covers instructions 4\.\.1000000: expected start <= end <= num_commands",
    ),
    (_set("spans.0.start", 11), r"'spans\[0\]' covers instructions 11\.\.10: expected start <= end"),
    (_set("spans.1.op", "a\x00b"), r"'spans\[1\].op'='a\\x00b': expected printable text"),
    (_set("spans.0.model", 7), r"'spans\[0\].model'=7: expected printable text"),
    (_set("provenance.m", float("inf")), r"'provenance.m'=Infinity: expected a JSON value"),
    (
        _set("provenance.deep", [[[[[1]]]]]),
        r"'provenance.deep\[0\]\[0\]\[0\]\[0\]'=\[1\]: expected a JSON value .* nested at most 4",
    ),
    (_set("provenance.bad-key", 1), r"'provenance.bad-key'='bad-key': expected a name"),
    (_set("provenance.x", "y" * 70000), r"'provenance.x'='yyy.*': expected a JSON value"),
    (_set("accelerator", "VTA"), r"'accelerator'='VTA': expected an accelerator name: \[a-z\]\[a-z0-9_\]\*"),
    (
        _set("accelerator", "a" * 33),
        r"'accelerator'='aaa.*': expected an accelerator name.* at most 32 characters",
    ),
    (_set("accelerator", ["vta"]), r"'accelerator'=\['vta'\]: expected an accelerator name"),
    (_set("isa_version", "../v1"), r"'isa_version'='../v1': expected an ISA version"),
    # the name is a plain file name
    (
        _set("name", "../evil"),
        r"header field 'name'='../evil': it holds a path separator; expected a plain file name",
    ),
    (_set("name", "/etc/passwd"), r"'name'='/etc/passwd': it holds a path separator"),
    (_set("name", "a\\b"), r"'name'='a\\\\b': it holds a path separator"),
    (_set("name", "[/]"), r"'name'='\[/\]': it holds a path separator"),
    (_set("name", "[bold]x"), r"'name'='\[bold\]x': it holds '\['"),
    (_set("name", "a\x00b"), r"'name'='a\\x00b': it holds the control character '\\x00'"),
    (_set("name", "x" * 10_000), r"'name'='xxx.*': it has 10000 characters"),
    (_set("name", ""), r"'name'='': it is empty"),
    (_set("name", ".."), r"'name'='\.\.': it names a directory"),
    (_set("name", ".hidden"), r"'name'='\.hidden': it starts with '\.'"),
    (_set("name", 5), r"'name'=5: it is not a string"),
    (_without("name"), r"header field 'name' is missing: expected a plain file name"),
    # JSON the schema never sees
    (_set("outputs", [1, 2]), r"'outputs\[0\]'=1: expected an object with fields name, memory, offset"),
    (_raw_header(b"[1, 2]"), r"field 'header' is \[1, 2\]: expected a JSON object"),
    (
        _raw_header(lambda old: old.replace(b'"start": 4', b'"start": 1e999', 1)),
        r"'spans\[0\].start'=1e999: expected an integer",
    ),
    (
        _raw_header(lambda old: old.replace(b'"start": 4', b'"start": ' + b"9" * 100, 1)),
        r"'spans\[0\].start'=<a number of 100 characters>",
    ),
    (
        _raw_header(lambda old: old.replace(b'"seed": 0', b'"seed": -Infinity', 1)),
        r"'provenance.seed'=-Infinity: expected an integer",
    ),
    (
        _raw_header(lambda old: b'{"format": "x", ' + old[1:]),
        r"field 'header' has key 'format' twice in one object",
    ),
    (
        _raw_header(b'{"provenance": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        r"field 'header' nests lists and objects 100001 deep: expected at most 16",
    ),
    (
        _raw_header(b'{"a": "' + b"[" * 100_000 + b'"}'),
        r"header field 'format' is missing",
    ),  # brackets in a string are text
    (_raw_header(b"\xff\xfe{}"), r"field 'header' is not valid JSON: not UTF-8"),
    (
        lambda a: a.__setitem__("header", a["header"].astype(np.int16)),
        r"field 'header' is int16\[\d+\]: expected uint8\[N\]",
    ),
]


@pytest.mark.parametrize("edit, message", HEADER_CASES)
def test_malformed_headers_name_the_field(saved, edit, message):
    _, path = saved
    _rewrite(path, edit)
    with pytest.raises(ProgramError, match=message) as caught:
        Program.load(path)
    assert str(caught.value).startswith(f"{path}: ")


ARRAY_CASES = [
    (
        lambda a: (a.__setitem__("commands", np.zeros((0, 16), np.uint8)), _set("num_commands", 0)(a)),
        r"field 'commands' holds 0 instructions: expected at least 1",
    ),
    (
        lambda a: a.__setitem__("commands", np.zeros(16, np.uint8)),
        r"'commands' is uint8\[16\]: expected uint8\[N, command_bytes\]",
    ),
    (lambda a: a.pop("commands"), r"field 'commands' is missing"),
    (lambda a: a.__setitem__("extra", np.zeros(3, np.uint8)), r"field 'extra' is not part of this Program"),
    (
        lambda a: a.__setitem__("mem.dram", a["mem.dram"].view(">u2")),
        r"field 'mem.dram' is >u2\[\d+\]: expected uint8\[\d+\]",
    ),
    (
        lambda a: a.__setitem__("mem.dram", a["mem.dram"][:-1]),
        r"field 'mem.dram' is uint8\[\d+\]: expected uint8\[\d+\] \(header 'memories.dram'\)",
    ),
    (
        lambda a: a.__setitem__("ref.C", a["ref.C"].astype(np.complex64)),
        r"field 'ref.C' is complex64: expected one of int8",
    ),
    (lambda a: a.pop("ref.C"), r"field 'ref.C' is missing \(listed in header 'references'\)"),
]


@pytest.mark.parametrize("edit, message", ARRAY_CASES)
def test_malformed_arrays_name_the_field(saved, edit, message):
    _, path = saved
    _rewrite(path, edit)
    with pytest.raises(ProgramError, match=message):
        Program.load(path)


def test_object_array_in_a_member_is_refused(saved):
    _, path = saved
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    _rewrite(path, lambda a: a.pop("mem.dram"))
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("mem.dram.npy", buf.getvalue())
    with pytest.raises(ProgramError, match=r"field 'mem.dram' holds Python objects \(object\): refused"):
        Program.load(path)


def test_damaged_archives(saved, tmp_path):
    _, path = saved
    good = path.read_bytes()
    cases = {
        "empty": (b"", r"not a Program archive \(.npz\)"),
        "truncated": (good[: len(good) // 2], r"not a Program archive \(.npz\)"),
        "flipped": (
            good[:200] + bytes([good[200] ^ 1]) + good[201:],
            r"field '\w+(\.\w+)?' cannot be read: BadZipFile: Bad CRC-32",
        ),
    }
    for label, (data, message) in cases.items():
        bad = tmp_path / f"{label}.npz"
        bad.write_bytes(data)
        with pytest.raises(ProgramError, match=message):
            Program.load(bad)
    with pytest.raises(ProgramError, match="cannot be read"):
        Program.load(tmp_path)  # a directory


def _replace_member(path, key, npy_bytes):
    """The archive with member `key` replaced by raw `.npy` bytes (a file np.save could not write)."""
    _rewrite(path, lambda a: a.pop(key))
    with zipfile.ZipFile(path, "a") as z:
        z.writestr(f"{key}.npy", npy_bytes)


def test_member_claiming_more_data_than_it_has(saved):
    _, path = saved
    buf = io.BytesIO()
    np.save(buf, np.zeros(1000, np.uint8))
    _replace_member(path, "mem.dram", buf.getvalue()[:-10])
    with pytest.raises(ProgramError, match=r"field 'mem.dram' is truncated: 990 of 1000 bytes"):
        Program.load(path)


def test_member_claiming_a_huge_shape_is_refused_before_reading(saved):
    _, path = saved
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(huge, {"descr": "<u8", "fortran_order": False, "shape": (2**40,)})
    _replace_member(path, "mem.dram", huge.getvalue())
    with pytest.raises(
        ProgramError, match=r"field 'mem.dram' claims uint64\[1099511627776\].*expected at most 4294967296"
    ):
        Program.load(path)


def test_a_seed_may_be_null_and_provenance_free_form(saved):
    _, path = saved
    _rewrite(
        path, _header_edit(lambda h: h["provenance"].update(seed=None, adpfloat_bias={"x": 3}, scale=0.5))
    )
    loaded = Program.load(path)
    assert loaded.provenance["seed"] is None and loaded.provenance["adpfloat_bias"] == {"x": 3}


def test_loaded_arrays_are_writable_and_fortran_order_is_kept(tmp_path):
    image = np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3))
    program = Program("vta", "v1", {}, np.ones((2, 16), np.uint8), {"img": image}, name="fortran")
    loaded = Program.load(program.save(tmp_path / "f.npz"))
    assert np.array_equal(loaded.memories["img"], image) and loaded.memories["img"].dtype == np.int16
    loaded.memories["img"][0, 0] = 7
    loaded.commands[0, 0] = 9
    assert loaded.memories["img"][0, 0] == 7


# --- save refuses what load would refuse, and writes nothing -----------------------------------------


def _tiny(**changes):
    fields = {
        "accelerator": "vta",
        "isa_version": "v1",
        "config": {"block_in": 4},
        "commands": np.ones((3, 16), np.uint8),
        "memories": {"dram": np.zeros(64, np.uint8)},
        "name": "tiny",
    }
    return Program(**{**fields, **changes})


@pytest.mark.parametrize(
    "program, message",
    [
        (
            _tiny(commands=np.zeros((0, 16), np.uint8)),
            r"field 'commands' holds 0 instructions: expected at least 1",
        ),
        (_tiny(provenance={"seed": "abc"}), r"header field 'provenance.seed'='abc': expected an integer"),
        (_tiny(provenance={"x": float("nan")}), r"header field 'provenance.x'=nan: expected a JSON value"),
        (_tiny(provenance={"x": np.int64(3)}), r"header field 'provenance.x'=.*3.*: expected a JSON value"),
        (_tiny(config={"block_in": np.int32(4)}), r"header field 'config.block_in'=.*: expected an integer"),
        (
            _tiny(accelerator="My Accel"),
            r"header field 'accelerator'='My Accel': expected an accelerator name",
        ),
        (
            _tiny(memories={"dram": np.zeros(4, np.complex64)}),
            r"header field 'memories.dram.dtype'='complex64'",
        ),
        (_tiny(spans=[Span(0, 9)]), r"header field 'spans\[0\]' covers instructions 0\.\.9"),
        (
            _tiny(outputs=[OutputRegion("C", "dram", 60, "int32", (2,))]),
            r"'outputs\[0\]' \('C'\) covers bytes 60\.\.68",
        ),
    ],
)
def test_save_refuses_what_load_would_refuse(tmp_path, program, message):
    with pytest.raises(ProgramError, match=message):
        program.save(tmp_path / "p.npz")
    assert list(tmp_path.iterdir()) == []


def test_name_is_checked_when_constructing_and_saving(tmp_path):
    with pytest.raises(
        ProgramError, match=r"Program name '\.\./x': it holds a path separator; expected a plain file name"
    ):
        _tiny(name="../x")
    program = _tiny()
    program.name = "a b"
    with pytest.raises(ProgramError, match=r"header field 'name'='a b': it holds ' '"):
        program.save(tmp_path / "p.npz")
    assert list(tmp_path.iterdir()) == []


# --- the name rule -----------------------------------------------------------------------------------

GOOD_NAMES = [
    "matmul_64x64x64",
    "conv2d_64x14x14_to_64",
    "conv3x1_s2_c16to8_7x6_acc_w16",
    "flexnlp_lstm_10ts_clustered",
    "resnet20_003_dense",
    "mobilenet_v2_012_conv2d",
    "matmul_64x64x64.repro",
    "matmul_64x64x64.repro.repro",
    "a+b-c.d",
    "x",
    "9lives",
    "A" * 128,
]

BAD_NAMES = [
    ("", "it is empty"),
    ("A" * 129, "it has 129 characters"),
    ("../evil", "it holds a path separator"),
    ("/abs", "it holds a path separator"),
    ("a\\b", "it holds a path separator"),
    ("C:\\x", "it holds a path separator"),
    (".", "it names a directory"),
    ("..", "it names a directory"),
    (".hidden", "it starts with '.'"),
    ("a\x00b", r"it holds the control character '\\x00'"),
    ("a\nb", r"it holds the control character '\\n'"),
    ("a\x7fb", r"it holds the control character '\\x7f'"),
    ("a\u200bb", r"it holds the control character '\\u200b'"),
    ("a b", "it holds ' '"),
    ("[bold]x", r"it holds '\['"),
    ("x:y", "it holds ':'"),
    ("café", "it holds 'é'"),
    (None, "it is not a string"),
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_names(name):
    assert check_name(name) == name


@pytest.mark.parametrize("name, reason", BAD_NAMES)
def test_bad_names(name, reason):
    with pytest.raises(
        ProgramError, match=rf"^Program name .*: {reason}; expected a plain file name: 1 to 128"
    ):
        check_name(name)


# --- every generated Program round-trips -------------------------------------------------------------


@pytest.mark.parametrize("accel", registry.names())
def test_every_generated_program_round_trips(tmp_path, accel):
    made = registry.accelerator(accel).generated_programs()
    assert made
    for program in made:
        assert check_name(program.name) == program.name
        loaded = Program.load(program.save(tmp_path / f"{program.name}.npz"))
        assert loaded.header() == program.header()
        assert np.array_equal(loaded.commands, program.commands)
        for k, v in program.memories.items():
            assert np.array_equal(loaded.memories[k], v) and loaded.memories[k].dtype == v.dtype
        for k, v in program.references.items():
            assert np.array_equal(loaded.references[k], v) and loaded.references[k].dtype == v.dtype


# --- fuzz: damaged files raise ProgramError or load as a valid Program ------------------------------


def _load_or_refuse(path, tmp_path):
    """Program.load either raises ProgramError or returns a Program that saves and loads unchanged."""
    try:
        program = Program.load(path)
    except ProgramError as exc:
        assert str(exc).startswith(f"{path}: ")
        return "refused"
    again = Program.load(program.save(tmp_path / "again.npz"))
    assert again.header() == program.header()
    return "loaded"


JUNK = [
    None,
    True,
    -1,
    0,
    2**70,
    1.5,
    float("nan"),
    float("inf"),
    "",
    "../x",
    "[/]",
    "a\x00",
    "x" * 5000,
    [],
    [-1],
    {},
    {"a": 1},
    [[[[[[]]]]]],
]


def _mutate(value, rng):
    """`value` with one randomly chosen leaf or container replaced by junk, or a key added or dropped."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        roll = rng.random()
        if roll < 0.1:
            return {k: v for k, v in value.items() if k != key}
        if roll < 0.15:
            return {**value, "zz_extra": rng.choice(JUNK)}
        return {**value, key: _mutate(value[key], rng)}
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = rng.randrange(len(value))
        return [*value[:i], _mutate(value[i], rng), *value[i + 1 :]]
    return rng.choice(JUNK)


def test_fuzz_damaged_files(saved, tmp_path):
    rng = random.Random(19)
    _, path = saved
    good = path.read_bytes()
    header = json.loads(np.load(path)["header"].tobytes())
    outcomes = Counter()
    bad = tmp_path / "bad.npz"
    for case in range(600):
        kind = case % 4
        if kind == 0:  # truncated
            bad.write_bytes(good[: rng.randrange(len(good))])
        elif kind == 1:  # a few bits flipped, half of them in the zip's headers and directory
            data = bytearray(good)
            for _ in range(rng.randint(1, 3)):
                near_end = len(data) - 1 - rng.randrange(400)
                at = rng.choice([rng.randrange(len(data)), rng.randrange(120), near_end])
                data[at] ^= 1 << rng.randrange(8)
            bad.write_bytes(bytes(data))
        elif kind == 2:  # a header value replaced by junk, CRCs intact
            bad.write_bytes(good)
            changed = json.dumps(_mutate(header, rng)).encode()
            _rewrite(
                bad, lambda a, changed=changed: a.__setitem__("header", np.frombuffer(changed, np.uint8))
            )
        else:  # header bytes changed, CRCs intact
            text = bytearray(json.dumps(header).encode())
            for _ in range(rng.randint(1, 4)):
                text[rng.randrange(len(text))] = rng.choice(b'{}[]",:0123456789-eE.Na\\ \x00\xff')
            bad.write_bytes(good)
            _rewrite(bad, lambda a, text=bytes(text): a.__setitem__("header", np.frombuffer(text, np.uint8)))
        outcomes[kind, _load_or_refuse(bad, tmp_path)] += 1
    assert all(outcomes[kind, "refused"] > 50 for kind in range(4)), outcomes


def test_save_takes_integer_commands_that_fit_in_bytes(tmp_path):
    loaded = Program.load(_tiny(commands=np.full((2, 16), 255, np.int64)).save(tmp_path / "p.npz"))
    assert loaded.commands.dtype == np.uint8 and loaded.commands.max() == 255
    for commands, message in [
        (np.full((2, 16), 256, np.int64), r"'commands' is int64\[2, 16\]: expected uint8"),
        (np.ones(16, np.uint8), r"'commands' is uint8\[16\]: expected uint8\[N, command_bytes\]"),
    ]:
        with pytest.raises(ProgramError, match=message):
            _tiny(commands=commands).save(tmp_path / "q.npz")
