"""The Program file: what the compiler hands the harness, and the only thing that crosses.

A `.npz` archive (numpy arrays only, never unpickled, so an
untrusted file cannot run code) holding:
- `header`: UTF-8 JSON (as a uint8 array) with format, version, accelerator,
  ISA version, configuration, memory and output descriptions, provenance;
- `commands`: uint8 (N, command_bytes), each command's little-endian bytes;
- `mem.<name>`: the initial memory images;
- `ref.<name>`: optional reference values of output regions (e.g. numpy's result).

The header's fields, their types and ranges are one table, `program_schema.HEADER`; reading an
archive without trusting it is `program_archive`. `Program.load` raises only ProgramError for a bad
file, naming the file and the field; `Program.save` refuses what `load` would refuse. A Program's
`name` is a plain file name (`check_name`).

It lives in `ila_models` because both the compiler and the harness use it, and
`ila_models` is the one package both may import.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ila_models.atomic_write import write_atomic
from ila_models.program_archive import MAX_HEADER_BYTES, ProgramArchive, header_bytes, parse_header
from ila_models.program_schema import (
    DTYPES,
    FORMAT,
    VERSION,
    ProgramError,
    check_name,
    validate_header,
)

__all__ = [
    "FORMAT",
    "VERSION",
    "MemoryImage",
    "OutputRegion",
    "Program",
    "ProgramError",
    "Span",
    "check_name",
]


@dataclass(frozen=True)
class OutputRegion:
    """A region of a memory that holds a result: `length` elements from `offset`, viewed as dtype/shape."""

    name: str
    memory: str
    offset: int
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize

    def view(self, memory: np.ndarray) -> np.ndarray:
        """This region of a byte memory, as its dtype and shape."""
        raw = np.ascontiguousarray(memory).reshape(-1).view(np.uint8)[self.offset : self.offset + self.nbytes]
        return raw.view(self.dtype).reshape(self.shape)


@dataclass(frozen=True)
class Span:
    """Provenance of a run of instructions [start, end): which model, layer and op they come from."""

    start: int
    end: int
    model: str = ""
    layer: str = ""
    op: str = ""


@dataclass
class Program:
    """A self-contained accelerator program."""

    accelerator: str
    isa_version: str
    config: dict[str, int]
    commands: np.ndarray
    memories: dict[str, np.ndarray]
    outputs: list[OutputRegion] = field(default_factory=list)
    references: dict[str, np.ndarray] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    name: str = "program"

    def __post_init__(self) -> None:
        check_name(self.name)

    def __len__(self) -> int:
        return int(self.commands.shape[0])

    def span_of(self, index: int) -> Span | None:
        """The provenance span holding instruction `index`, if any."""
        for span in self.spans:
            if span.start <= index < span.end:
                return span
        return None

    def header(self) -> dict[str, Any]:
        """The JSON header `save` writes (it conforms to `program_schema.HEADER` for a valid Program)."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "name": self.name,
            "accelerator": self.accelerator,
            "isa_version": self.isa_version,
            "config": self.config,
            "command_bytes": int(self.commands.shape[1]),
            "num_commands": len(self),
            "memories": {
                k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in self.memories.items()
            },
            "outputs": [
                {
                    "name": o.name,
                    "memory": o.memory,
                    "offset": o.offset,
                    "dtype": o.dtype,
                    "shape": list(o.shape),
                }
                for o in self.outputs
            ],
            "references": sorted(self.references),
            "provenance": self.provenance,
            "spans": [vars(s) for s in self.spans],
        }

    def save(self, path: str | Path) -> Path:
        """Write the Program atomically (temporary file, then rename), after checking that `load` will
        accept it: anything it would refuse is a ProgramError here, and no file is written."""
        path = Path(path)
        arrays = {"commands": _as_bytes(self.commands)}
        arrays.update({f"mem.{k}": v for k, v in self.memories.items()})
        arrays.update({f"ref.{k}": v for k, v in self.references.items()})
        _commands(str(path), _InMemory(arrays))  # before header(), which needs a 2-D array
        header = self.header()
        _decode(str(path), header, _InMemory(arrays))
        arrays = {"header": header_bytes(header), **arrays}
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        write_atomic(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: str | Path) -> Program:
        """Read and validate a Program file.

        Any problem with the file (missing, unreadable, damaged or truncated archive, a missing or
        malformed array, a header that does not conform to `program_schema.HEADER`) raises
        ProgramError naming the file and the field; no other exception escapes for a bad file.
        """
        path = Path(path)
        try:
            with ProgramArchive(path) as archive:
                if "header" not in archive:
                    raise ProgramError(f"{path}: field 'header' is missing: expected a JSON header")
                header = parse_header(archive.array("header", MAX_HEADER_BYTES), str(path))
                return _decode(str(path), header, archive)
        except ProgramError:
            raise
        except Exception as exc:  # whatever else a damaged file makes zipfile, zlib or numpy raise
            raise ProgramError(
                f"{path}: not a readable Program archive: {type(exc).__name__}: {exc}"
            ) from None


class _Members(Protocol):
    """Where a Program's arrays come from: an archive being loaded, or a Program being saved."""

    def names(self) -> list[str]: ...

    def __contains__(self, key: str) -> bool: ...

    def array(self, key: str) -> np.ndarray: ...


class _InMemory:
    """A Program's own arrays, checked before `save` writes them."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self._arrays = arrays

    def names(self) -> list[str]:
        return ["header", *self._arrays]

    def __contains__(self, key: str) -> bool:
        return key in self._arrays

    def array(self, key: str) -> np.ndarray:
        return np.asarray(self._arrays[key])


def _as_bytes(commands: np.ndarray) -> np.ndarray:
    """Integer commands as uint8 when every value fits in a byte; any others as they are, for the check."""
    commands = np.ascontiguousarray(commands)
    if commands.dtype.kind in "iu" and commands.size and commands.min() >= 0 and commands.max() <= 255:
        return commands.astype(np.uint8, copy=False)
    return commands


def _commands(source: str, members: _Members) -> np.ndarray:
    if "commands" not in members:
        raise ProgramError(f"{source}: field 'commands' is missing: expected uint8[N, command_bytes]")
    commands = members.array("commands")
    if commands.dtype != np.uint8 or commands.ndim != 2:
        raise ProgramError(
            f"{source}: field 'commands' is {commands.dtype}{list(commands.shape)}: "
            "expected uint8[N, command_bytes] (N instructions of command_bytes bytes)"
        )
    if commands.shape[0] == 0:
        raise ProgramError(f"{source}: field 'commands' holds 0 instructions: expected at least 1")
    return commands


def _decode(source: str, header: Any, members: _Members) -> Program:
    """The Program a header and its arrays describe; ProgramError naming the field otherwise.

    `validate_header` checks each header field on its own; this checks fields against each other
    and against the arrays.
    """
    commands = _commands(source, members)
    validate_header(header, source)
    if commands.shape[1] != header["command_bytes"]:
        raise ProgramError(
            f"{source}: field 'commands' is {commands.dtype}{list(commands.shape)}: "
            f"expected uint8[N, {header['command_bytes']}] (header 'command_bytes')"
        )
    if header["num_commands"] != commands.shape[0]:
        raise ProgramError(
            f"{source}: header field 'num_commands'={header['num_commands']!r} but 'commands' holds "
            f"{commands.shape[0]} instructions: expected the same count"
        )
    outputs_desc = header.get("outputs", [])
    references_listed = header.get("references", [])
    expected = {"header", "commands", *(f"mem.{k}" for k in header["memories"])}
    expected.update(f"ref.{k}" for k in references_listed)
    for key in members.names():
        if key not in expected:
            raise ProgramError(
                f"{source}: field {key!r} is not part of this Program: expected only 'header', 'commands' "
                "and the 'mem.<name>' and 'ref.<name>' arrays its header lists"
            )
    memories = {}
    for name, desc in header["memories"].items():
        if f"mem.{name}" not in members:
            raise ProgramError(f"{source}: field 'mem.{name}' is missing (listed in header 'memories')")
        arr = members.array(f"mem.{name}")
        if str(arr.dtype) != desc["dtype"] or list(arr.shape) != list(desc["shape"]):
            raise ProgramError(
                f"{source}: field 'mem.{name}' is {arr.dtype}{list(arr.shape)}: "
                f"expected {desc['dtype']}{list(desc['shape'])} (header 'memories.{name}')"
            )
        memories[name] = arr
    outputs: list[OutputRegion] = []
    for i, o in enumerate(outputs_desc):
        region = OutputRegion(o["name"], o["memory"], o["offset"], o["dtype"], tuple(o["shape"]))
        if any(region.name == other.name for other in outputs):
            raise ProgramError(
                f"{source}: header field 'outputs[{i}].name'={region.name!r}: expected a name no other output has"
            )
        mem = memories.get(region.memory)
        if mem is None:
            raise ProgramError(
                f"{source}: header field 'outputs[{i}].memory'={region.memory!r}: "
                f"expected one of the memories {sorted(memories)}"
            )
        if region.offset + region.nbytes > mem.nbytes:
            raise ProgramError(
                f"{source}: header field 'outputs[{i}]' ({region.name!r}) covers bytes "
                f"{region.offset}..{region.offset + region.nbytes} of {region.memory!r}, which has {mem.nbytes}"
            )
        outputs.append(region)
    references = {}
    by_name = {o.name: o for o in outputs}
    for i, name in enumerate(references_listed):
        if name not in by_name:
            raise ProgramError(
                f"{source}: header field 'references[{i}]'={name!r}: expected the name of an output {sorted(by_name)}"
            )
        if f"ref.{name}" not in members:
            raise ProgramError(f"{source}: field 'ref.{name}' is missing (listed in header 'references')")
        arr = members.array(f"ref.{name}")
        if arr.shape != by_name[name].shape:
            raise ProgramError(
                f"{source}: field 'ref.{name}' has shape {list(arr.shape)}: expected {list(by_name[name].shape)}"
            )
        if str(arr.dtype) not in DTYPES:
            raise ProgramError(
                f"{source}: field 'ref.{name}' is {arr.dtype}: expected one of {', '.join(DTYPES)}"
            )
        references[name] = arr
    spans = []
    for i, s in enumerate(header.get("spans", [])):
        if not s["start"] <= s["end"] <= len(commands):
            raise ProgramError(
                f"{source}: header field 'spans[{i}]' covers instructions {s['start']}..{s['end']}: "
                f"expected start <= end <= num_commands ({len(commands)})"
            )
        spans.append(Span(s["start"], s["end"], s.get("model", ""), s.get("layer", ""), s.get("op", "")))
    return Program(
        accelerator=header["accelerator"],
        isa_version=header["isa_version"],
        config=dict(header["config"]),
        commands=commands,
        memories=memories,
        outputs=outputs,
        references=references,
        provenance=dict(header.get("provenance", {})),
        spans=spans,
        name=header["name"],
    )


class MemoryImage:
    """Builds a flat byte memory (e.g. DRAM) by placing arrays at aligned offsets."""

    def __init__(self) -> None:
        self._placed: list[tuple[int, np.ndarray]] = []
        self.size = 0

    def reserve(self, nbytes: int, align: int) -> int:
        """Byte offset of a zeroed region of `nbytes`, aligned to `align`."""
        offset = -(-self.size // align) * align
        self.size = offset + nbytes
        return offset

    def place(self, data: np.ndarray, align: int) -> int:
        """Byte offset at which `data` (its raw little-endian bytes) now lies."""
        raw = np.ascontiguousarray(data).view(np.uint8).reshape(-1)
        offset = self.reserve(raw.size, align)
        self._placed.append((offset, raw))
        return offset

    def build(self, align: int = 64) -> np.ndarray:
        """The image as uint8, its size rounded up to `align`."""
        image = np.zeros(-(-self.size // align) * align, dtype=np.uint8)
        for offset, raw in self._placed:
            image[offset : offset + raw.size] = raw
        return image
