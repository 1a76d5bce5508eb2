"""The Program file: what the compiler hands the harness, and the only thing that crosses.

A `.npz` archive (numpy arrays only, loaded with allow_pickle=False, so an
untrusted file cannot run code) holding:
- `header`: UTF-8 JSON (as a uint8 array) with format, version, accelerator,
  ISA version, configuration, memory and output descriptions, provenance;
- `commands`: uint8 (N, command_bytes), each command's little-endian bytes;
- `mem.<name>`: the initial memory images;
- `ref.<name>`: optional reference values of output regions (e.g. numpy's result).

It lives in `ila_models` because both the compiler and the harness use it, and
`ila_models` is the one package both may import.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "tandem-program"
VERSION = 1


class ProgramError(ValueError):
    """A malformed Program file; the message names the field."""


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

    def __len__(self) -> int:
        return int(self.commands.shape[0])

    def span_of(self, index: int) -> Span | None:
        """The provenance span holding instruction `index`, if any."""
        for span in self.spans:
            if span.start <= index < span.end:
                return span
        return None

    def header(self) -> dict[str, Any]:
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
        """Write the Program atomically (temporary file, then rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"header": np.frombuffer(json.dumps(self.header()).encode(), dtype=np.uint8)}
        arrays["commands"] = np.ascontiguousarray(self.commands, dtype=np.uint8)
        arrays.update({f"mem.{k}": v for k, v in self.memories.items()})
        arrays.update({f"ref.{k}": v for k, v in self.references.items()})
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)  # type: ignore[arg-type]
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> Program:
        """Read and validate a Program file; a malformed one raises ProgramError naming the field."""
        path = Path(path)
        try:
            archive = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise ProgramError(f"{path}: no such file") from None
        except (ValueError, OSError, zipfile.BadZipFile) as exc:
            raise ProgramError(f"{path}: not a Program archive (.npz): {exc}") from None
        with archive:
            return _from_archive(path, {k: _read(path, archive, k) for k in archive.files})


def _read(path: Path, archive: Any, key: str) -> np.ndarray:
    try:
        return np.asarray(archive[key])
    except ValueError as exc:  # object arrays need pickle, which we refuse
        raise ProgramError(f"{path}: field {key!r}: {exc}") from None


def _need(path: Path, header: dict, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if key not in header:
        raise ProgramError(f"{path}: header field {key!r} is missing: expected {what}")
    value = header[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ProgramError(f"{path}: header field {key!r}={value!r}: expected {what}")
    return value


def _from_archive(path: Path, arrays: dict[str, np.ndarray]) -> Program:
    if "header" not in arrays:
        raise ProgramError(f"{path}: field 'header' is missing: expected a JSON header")
    try:
        header = json.loads(arrays["header"].astype(np.uint8).tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProgramError(f"{path}: field 'header' is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ProgramError(f"{path}: field 'header': expected a JSON object")
    if header.get("format") != FORMAT:
        raise ProgramError(f"{path}: header field 'format'={header.get('format')!r}: expected {FORMAT!r}")
    version = _need(path, header, "version", int, f"an integer <= {VERSION}")
    if version > VERSION:
        raise ProgramError(f"{path}: header field 'version'={version}: this Tandem reads up to {VERSION}")
    accelerator = _need(path, header, "accelerator", str, "an accelerator name")
    isa_version = _need(path, header, "isa_version", str, "an ISA version string")
    config = _need(path, header, "config", dict, "an object of integer parameters")
    for k, v in config.items():
        if not isinstance(v, int) or isinstance(v, bool):
            raise ProgramError(f"{path}: header field 'config.{k}'={v!r}: expected an integer")
    command_bytes = _need(path, header, "command_bytes", int, "bytes per command")
    commands = arrays.get("commands")
    if commands is None:
        raise ProgramError(f"{path}: field 'commands' is missing")
    if commands.dtype != np.uint8 or commands.ndim != 2 or commands.shape[1] != command_bytes:
        raise ProgramError(
            f"{path}: field 'commands' is {commands.dtype}{list(commands.shape)}: "
            f"expected uint8[N, {command_bytes}]"
        )
    if header.get("num_commands", commands.shape[0]) != commands.shape[0]:
        raise ProgramError(
            f"{path}: header field 'num_commands'={header['num_commands']!r} but 'commands' holds {commands.shape[0]}"
        )
    memories = {}
    for name, desc in _need(path, header, "memories", dict, "an object of memory descriptions").items():
        arr = arrays.get(f"mem.{name}")
        if arr is None:
            raise ProgramError(f"{path}: field 'mem.{name}' is missing (listed in header 'memories')")
        if str(arr.dtype) != desc.get("dtype") or list(arr.shape) != desc.get("shape"):
            raise ProgramError(
                f"{path}: field 'mem.{name}' is {arr.dtype}{list(arr.shape)}: "
                f"header says {desc.get('dtype')}{desc.get('shape')}"
            )
        memories[name] = arr
    outputs = []
    for i, o in enumerate(header.get("outputs", [])):
        try:
            region = OutputRegion(
                o["name"], o["memory"], int(o["offset"]), str(o["dtype"]), tuple(o["shape"])
            )
            np.dtype(region.dtype)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProgramError(f"{path}: header field 'outputs[{i}]'={o!r}: {exc}") from None
        mem = memories.get(region.memory)
        if mem is None:
            raise ProgramError(
                f"{path}: header field 'outputs[{i}].memory'={region.memory!r}: no such memory"
            )
        if region.offset < 0 or region.offset + region.nbytes > mem.nbytes:
            raise ProgramError(
                f"{path}: header field 'outputs[{i}]' ({region.name!r}) covers bytes "
                f"{region.offset}..{region.offset + region.nbytes} of {region.memory!r}, which has {mem.nbytes}"
            )
        outputs.append(region)
    references = {}
    by_name = {o.name: o for o in outputs}
    for name in header.get("references", []):
        arr = arrays.get(f"ref.{name}")
        if arr is None or name not in by_name:
            raise ProgramError(f"{path}: field 'ref.{name}': expected an array for a declared output")
        if arr.shape != by_name[name].shape:
            raise ProgramError(
                f"{path}: field 'ref.{name}' has shape {list(arr.shape)}: expected {list(by_name[name].shape)}"
            )
        references[name] = arr
    spans = []
    for i, s in enumerate(header.get("spans", [])):
        try:
            spans.append(
                Span(int(s["start"]), int(s["end"]), s.get("model", ""), s.get("layer", ""), s.get("op", ""))
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProgramError(f"{path}: header field 'spans[{i}]'={s!r}: {exc}") from None
    return Program(
        accelerator=accelerator,
        isa_version=isa_version,
        config=config,
        commands=commands,
        memories=memories,
        outputs=outputs,
        references=references,
        provenance=header.get("provenance", {}),
        spans=spans,
        name=str(header.get("name", path.stem)),
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
