"""Reading a Program archive without trusting it: members, arrays and the JSON header.

A Program file is a zip of `.npy` members (what `np.savez` writes). This reads it without
`np.load`: each member's `.npy` header is read first and its size checked against MAX_ARRAY_BYTES
before any data is, object arrays are refused (no pickle, ever), and every member is read to its
end so a damaged one fails its CRC check. The JSON header is parsed with its nesting depth checked
before parsing, duplicate keys refused, and NaN, infinities and huge numbers kept as `Unrepresentable`
so that the schema walk names the field that holds one.

Every problem is a ProgramError naming the file and the member; `Program.load` turns anything else
a damaged zip makes zipfile, zlib or numpy raise into one too.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ila_models.program_schema import MAX_ARRAY_BYTES, ProgramError

MAX_HEADER_BYTES = 16 * 2**20
MAX_JSON_DEPTH = 16
_NPY_HEADER_BYTES = 64 * 1024
_CHUNK = 1 << 20
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)  # possessive: linear on an unclosed string


class ProgramArchive:
    """The members of a Program archive by name (`header`, `commands`, `mem.<name>`, `ref.<name>`)."""

    def __init__(self, path: Path) -> None:
        self.source = str(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except FileNotFoundError:
            raise ProgramError(f"{path}: no such file") from None
        except zipfile.BadZipFile as exc:
            raise ProgramError(f"{path}: not a Program archive (.npz): {exc}") from None
        except OSError as exc:
            raise ProgramError(f"{path}: cannot be read: {exc}") from None
        self._members: dict[str, zipfile.ZipInfo] = {}
        try:
            for info in self._zip.infolist():
                key = info.filename.removesuffix(".npy")
                if key in self._members:
                    raise ProgramError(f"{path}: field {key!r} appears twice in the archive: expected once")
                self._members[key] = info
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> ProgramArchive:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._zip.close()

    def names(self) -> list[str]:
        """The members' names, without `.npy`."""
        return list(self._members)

    def __contains__(self, key: str) -> bool:
        return key in self._members

    def array(self, key: str, limit: int = MAX_ARRAY_BYTES) -> np.ndarray:
        """Member `key` as a (writable) array of at most `limit` bytes."""
        info = self._members[key]
        if not info.filename.endswith(".npy"):
            raise ProgramError(f"{self.source}: field {key!r} is {info.filename!r}: expected a .npy member")
        if info.file_size > limit + _NPY_HEADER_BYTES:
            raise ProgramError(
                f"{self.source}: field {key!r} holds {info.file_size} bytes: expected at most {limit}"
            )
        try:
            with self._zip.open(info) as fh:
                return _read_npy(fh, f"{self.source}: field {key!r}", limit)
        except ProgramError:
            raise
        except Exception as exc:  # a damaged member: BadZipFile (CRC), zlib.error, EOFError, ValueError...
            raise ProgramError(
                f"{self.source}: field {key!r} cannot be read: {type(exc).__name__}: {exc}"
            ) from None


def _read_npy(fh: Any, where: str, limit: int) -> np.ndarray:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise ProgramError(f"{where}: .npy format version {version}: expected (1, 0) or (2, 0)")
    if dtype.hasobject:
        raise ProgramError(
            f"{where} holds Python objects ({dtype}): refused, a Program never holds pickled data"
        )
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    if nbytes > limit or count > limit:
        raise ProgramError(
            f"{where} claims {dtype}{list(shape)} ({nbytes} bytes): expected at most {limit} bytes"
        )
    buffer = bytearray(nbytes)
    view = memoryview(buffer)
    got = 0
    while got < nbytes:
        n = fh.readinto(view[got : got + _CHUNK])
        if not n:
            raise ProgramError(f"{where} is truncated: {got} of {nbytes} bytes of {dtype}{list(shape)}")
        got += n
    if fh.read(1):  # also reads to the end, so zipfile checks the member's CRC
        raise ProgramError(f"{where} has bytes after its {dtype}{list(shape)} data: expected none")
    array = np.frombuffer(buffer, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C")


class Unrepresentable:
    """A JSON number Python would read as NaN, an infinity or a huge integer: kept as its text, which
    no schema rule accepts, so the walk names the field holding it."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return self.token if len(self.token) <= 24 else f"<a number of {len(self.token)} characters>"


class _Duplicate(Exception):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return result


def _number(token: str) -> float | Unrepresentable:
    value = float(token)
    return value if math.isfinite(value) else Unrepresentable(token)


def _integer(token: str) -> int | Unrepresentable:
    return int(token) if len(token) <= 40 else Unrepresentable(token)


def nesting_depth(raw: bytes) -> int:
    """How deep JSON text `raw` nests lists and objects (brackets inside strings do not count)."""
    text = np.frombuffer(_STRING.sub(b'""', raw), dtype=np.uint8)
    opens = (text == ord("[")) | (text == ord("{"))
    closes = (text == ord("]")) | (text == ord("}"))
    steps = opens.astype(np.int64) - closes
    return int(np.cumsum(steps).max(initial=0))


def parse_header(raw: np.ndarray, source: str) -> Any:
    """The JSON value a header member holds (the schema walk decides whether it is a valid header)."""
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ProgramError(
            f"{source}: field 'header' is {raw.dtype}{list(raw.shape)}: expected uint8[N] (UTF-8 JSON)"
        )
    data = raw.tobytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProgramError(f"{source}: field 'header' is not valid JSON: not UTF-8 ({exc})") from None
    depth = nesting_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise ProgramError(
            f"{source}: field 'header' nests lists and objects {depth} deep: expected at most {MAX_JSON_DEPTH}"
        )
    try:
        return json.loads(
            text,
            parse_constant=Unrepresentable,
            parse_float=_number,
            parse_int=_integer,
            object_pairs_hook=_object,
        )
    except _Duplicate as exc:
        raise ProgramError(
            f"{source}: field 'header' has key {exc.args[0]!r} twice in one object: expected once"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ProgramError(f"{source}: field 'header' is not valid JSON: {exc}") from None


def header_bytes(header: dict[str, Any]) -> np.ndarray:
    """A header as the `header` member stores it (UTF-8 JSON as uint8)."""
    return np.frombuffer(json.dumps(header, allow_nan=False).encode(), dtype=np.uint8)
