"""Op traces in the DTR prototype's JSON-lines log format: parse and write.

One instruction per line, tensors named by strings:

    {"INSTRUCTION": "CONSTANT", "NAME": "x1"}          then MEMORY for x1
    {"INSTRUCTION": "MEMORY", "NAME": "x1", "MEMORY": "4096"}          (bytes of its storage)
    {"INSTRUCTION": "CALL", "NAME": "aten::mm", "ARGS": ["x1", "x2"], "RESULT": ["x3"], "TIME": "733881"}
                                                       then, per result, MEMORY and ALIAS
    {"INSTRUCTION": "ALIAS", "NAME": "x3", "ALIAS": "-1"}   (index of the input it views, or -1)
    {"INSTRUCTION": "MUTATE", "NAME": "aten::add_", "ARGS": [...], "MUTATE": [0], "TIME": "..."}
    {"INSTRUCTION": "COPY", "DST": "x4", "SRC": "x3"}       x4 is a new reference to x3's tensor
    {"INSTRUCTION": "COPY_FROM", "DST": "x4", "SRC": "x5"}  rebind x4 to x5's tensor
    {"INSTRUCTION": "RELEASE", "NAME": "x3"}
    {"INSTRUCTION": "ANNOTATE", "ANNOTATION": "BACKWARD"}

    {"INSTRUCTION": "ANNOTATE", "ANNOTATION": "PIN", "NAME": "x4"}   (extension, see below)

TIME is op wall time in nanoseconds. Numbers may be JSON strings (as the prototype writes them)
or numbers. Extension: a MUTATE may be followed by one MEMORY line per mutated argument giving
the size of the copy-on-write copy; without them the copy is as large as the argument's storage.
Extension: ANNOTATE PIN with a NAME turns that tensor into a pinned root (no recipe), as the
PyTorch integration does for state written in place outside autograd (optimizer buffers).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dtr.errors import TraceFormatError


@dataclass(frozen=True)
class Constant:
    line: int
    name: str
    size: int


@dataclass(frozen=True)
class Call:
    line: int
    op: str
    args: tuple[str, ...]
    results: tuple[str, ...]
    time: float
    sizes: tuple[int, ...]
    aliases: tuple[int, ...]


@dataclass(frozen=True)
class Mutate:
    line: int
    op: str
    args: tuple[str, ...]
    mutated: tuple[int, ...]
    time: float
    sizes: tuple[int, ...] | None  # None: each copy is as large as the mutated argument's storage


@dataclass(frozen=True)
class Copy:
    line: int
    dst: str
    src: str


@dataclass(frozen=True)
class CopyFrom:
    line: int
    dst: str
    src: str


@dataclass(frozen=True)
class Release:
    line: int
    name: str


@dataclass(frozen=True)
class Annotate:
    line: int
    annotation: str
    name: str = ""  # for PIN


Instruction = Constant | Call | Mutate | Copy | CopyFrom | Release | Annotate

KINDS = ("CONSTANT", "MEMORY", "CALL", "ALIAS", "MUTATE", "COPY", "COPY_FROM", "RELEASE", "ANNOTATE")


def _field(rec: dict[str, Any], key: str, line: int) -> Any:
    if key not in rec:
        raise TraceFormatError(line, f"{rec.get('INSTRUCTION')} is missing field {key!r}")
    return rec[key]


def _name(rec: dict[str, Any], key: str, line: int) -> str:
    v = _field(rec, key, line)
    if not isinstance(v, str) or not v:
        raise TraceFormatError(line, f"field {key!r} must be a non-empty tensor name string, got {v!r}")
    return v


def _names(rec: dict[str, Any], key: str, line: int) -> tuple[str, ...]:
    v = _field(rec, key, line)
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        raise TraceFormatError(line, f"field {key!r} must be a list of tensor names, got {v!r}")
    return tuple(v)


def _number(rec: dict[str, Any], key: str, line: int, *, integer: bool, minimum: int) -> float:
    v = _field(rec, key, line)
    try:
        x = int(v) if integer else float(v)
    except (TypeError, ValueError):
        kind = "an integer" if integer else "a number"
        raise TraceFormatError(line, f"field {key!r} must be {kind} (or a string of one), got {v!r}") from None
    if isinstance(v, bool) or x < minimum or x != x:
        raise TraceFormatError(line, f"field {key!r} must be >= {minimum}, got {v!r}")
    return x


def _records(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            rec = json.loads(text)
        except json.JSONDecodeError as e:
            raise TraceFormatError(n, f"not valid JSON ({e.msg} at column {e.colno}): {text.strip()[:80]!r}") from None
        if not isinstance(rec, dict):
            raise TraceFormatError(n, f"expected a JSON object, got {type(rec).__name__}")
        kind = rec.get("INSTRUCTION")
        if kind not in KINDS:
            raise TraceFormatError(n, f"unknown INSTRUCTION {kind!r}; expected one of {list(KINDS)}")
        yield n, rec


def parse_trace(lines: Iterable[str]) -> list[Instruction]:
    """Parse JSON-lines text into instructions; errors name the offending line."""
    out: list[Instruction] = []
    recs = _records(lines)
    pending: tuple[int, dict[str, Any]] | None = None

    def next_rec() -> tuple[int, dict[str, Any]] | None:
        nonlocal pending
        if pending is not None:
            r, pending = pending, None
            return r
        return next(recs, None)

    def expect(kind: str, name: str, after: int) -> tuple[int, dict[str, Any]]:
        r = next_rec()
        if r is None:
            raise TraceFormatError(after, f"expected a {kind} line for {name!r} after this line, got end of trace")
        n, rec = r
        if rec["INSTRUCTION"] != kind:
            raise TraceFormatError(n, f"expected {kind} for {name!r}, got {rec['INSTRUCTION']}")
        if _name(rec, "NAME", n) != name:
            raise TraceFormatError(n, f"{kind} names {rec['NAME']!r}, expected {name!r}")
        return n, rec

    while (r := next_rec()) is not None:
        n, rec = r
        kind = rec["INSTRUCTION"]
        if kind == "CONSTANT":
            name = _name(rec, "NAME", n)
            m, mem = expect("MEMORY", name, n)
            out.append(Constant(n, name, int(_number(mem, "MEMORY", m, integer=True, minimum=0))))
        elif kind == "CALL":
            op = _name(rec, "NAME", n)
            results = _names(rec, "RESULT", n)
            args = _names(rec, "ARGS", n)
            t = _number(rec, "TIME", n, integer=False, minimum=0)
            sizes: list[int] = []
            aliases: list[int] = []
            for res in results:
                m, mem = expect("MEMORY", res, n)
                sizes.append(int(_number(mem, "MEMORY", m, integer=True, minimum=0)))
                a, al = expect("ALIAS", res, m)
                alias = int(_number(al, "ALIAS", a, integer=True, minimum=-1))
                if alias >= len(args):
                    raise TraceFormatError(a, f"ALIAS {alias} of {res!r} is out of range: the call has {len(args)} args")
                aliases.append(alias)
            out.append(Call(n, op, args, results, t, tuple(sizes), tuple(aliases)))
        elif kind == "MUTATE":
            op = _name(rec, "NAME", n)
            args = _names(rec, "ARGS", n)
            t = _number(rec, "TIME", n, integer=False, minimum=0)
            mutated = _field(rec, "MUTATE", n)
            if not isinstance(mutated, list) or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(args) for i in mutated
            ):
                raise TraceFormatError(n, f"MUTATE must list argument indices in [0, {len(args)}), got {mutated!r}")
            msizes: list[int] = []
            for i in mutated:
                nxt = next_rec()
                if nxt is not None and nxt[1]["INSTRUCTION"] == "MEMORY" and nxt[1].get("NAME") == args[i]:
                    msizes.append(int(_number(nxt[1], "MEMORY", nxt[0], integer=True, minimum=0)))
                else:
                    pending = nxt
                    break
            if msizes and len(msizes) != len(mutated):
                raise TraceFormatError(n, f"MUTATE has MEMORY lines for {len(msizes)} of its {len(mutated)} mutated args")
            out.append(Mutate(n, op, args, tuple(mutated), t, tuple(msizes) if msizes else None))
        elif kind == "COPY":
            out.append(Copy(n, _name(rec, "DST", n), _name(rec, "SRC", n)))
        elif kind == "COPY_FROM":
            out.append(CopyFrom(n, _name(rec, "DST", n), _name(rec, "SRC", n)))
        elif kind == "RELEASE":
            out.append(Release(n, _name(rec, "NAME", n)))
        elif kind == "ANNOTATE":
            ann = _field(rec, "ANNOTATION", n)
            if not isinstance(ann, str):
                raise TraceFormatError(n, f"ANNOTATION must be a string, got {ann!r}")
            out.append(Annotate(n, ann, _name(rec, "NAME", n) if ann == "PIN" else ""))
        else:
            raise TraceFormatError(n, f"{kind} line outside a CONSTANT or CALL it belongs to")
    return out


def read_trace(path: str | Path) -> list[Instruction]:
    """Parse a trace file."""
    with open(path, encoding="utf-8") as f:
        return parse_trace(f)


class TraceWriter:
    """Writes instructions as JSON lines, numbers as strings like the prototype."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def _emit(self, **rec: Any) -> None:
        self.out.write(json.dumps(rec) + "\n")

    def constant(self, name: str, size: int) -> None:
        self._emit(INSTRUCTION="CONSTANT", NAME=name)
        self._emit(INSTRUCTION="MEMORY", NAME=name, MEMORY=str(int(size)))

    def call(self, op: str, args: Iterable[str], results: Iterable[str], time_ns: float,
             sizes: Iterable[int], aliases: Iterable[int]) -> None:
        results = list(results)
        self._emit(INSTRUCTION="CALL", NAME=op, ARGS=list(args), RESULT=results, TIME=str(int(time_ns)))
        for r, size, alias in zip(results, sizes, aliases, strict=True):
            self._emit(INSTRUCTION="MEMORY", NAME=r, MEMORY=str(int(size)))
            self._emit(INSTRUCTION="ALIAS", NAME=r, ALIAS=str(int(alias)))

    def mutate(self, op: str, args: list[str], mutated: list[int], time_ns: float,
               sizes: list[int] | None = None) -> None:
        self._emit(INSTRUCTION="MUTATE", NAME=op, ARGS=args, MUTATE=mutated, TIME=str(int(time_ns)))
        for i, size in zip(mutated, sizes or [], strict=False):
            self._emit(INSTRUCTION="MEMORY", NAME=args[i], MEMORY=str(int(size)))

    def copy(self, dst: str, src: str) -> None:
        self._emit(INSTRUCTION="COPY", DST=dst, SRC=src)

    def copy_from(self, dst: str, src: str) -> None:
        self._emit(INSTRUCTION="COPY_FROM", DST=dst, SRC=src)

    def release(self, name: str) -> None:
        self._emit(INSTRUCTION="RELEASE", NAME=name)

    def annotate(self, annotation: str) -> None:
        self._emit(INSTRUCTION="ANNOTATE", ANNOTATION=annotation)

    def pin(self, name: str) -> None:
        self._emit(INSTRUCTION="ANNOTATE", ANNOTATION="PIN", NAME=name)
