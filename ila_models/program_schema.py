"""The Program header's schema: each field's type, range and presence, in one table the loader walks.

`HEADER` describes a version-1 header: what `Program.header()` writes, `Program.save` checks before
writing and `Program.load` checks after reading. `validate_header` walks it and raises ProgramError
naming the field by its dotted path (`spans[2].start`, `provenance.seed`) and what was expected.

Unknown fields are rejected everywhere but in `provenance`: a header that needs a new field is a new
`version`. `provenance` is free-form (JSON values of bounded depth and size under short keys), except
that `seed`, when present, is an integer >= 0 or null. Absent optional fields (`outputs`,
`references`, `provenance`, `spans`) mean empty.

Checks that relate two fields (spans within `num_commands`, outputs within their memory, references
naming outputs) or a field and an array are the loader's (`ila_models/program.py`), after this walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ila_models.schema import (
    Const,
    Field,
    Int,
    Invalid,
    Json,
    ListOf,
    Nullable,
    OneOf,
    Record,
    Shape,
    Text,
    short_repr,
)

FORMAT = "tandem-program"
VERSION = 1

MAX_NAME_LENGTH = 128
MAX_COMMANDS = 2**24
MAX_COMMAND_BYTES = 4096
MAX_ARRAY_BYTES = 2**32
"""The most bytes one array (memory image, reference, commands) may hold."""
DTYPES = (
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
)
"""The element types of memories, output regions and references: little-endian numeric types only."""

NAME_RULE = f"a plain file name: 1 to {MAX_NAME_LENGTH} characters from A-Z a-z 0-9 '.' '_' '+' '-', not starting with '.'"
_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-")


class ProgramError(ValueError):
    """A malformed Program (a file, or an object about to be saved); the message names the field."""


def name_problem(name: object) -> str | None:
    """What keeps `name` from being a Program name (see NAME_RULE), or None when it is one."""
    if not isinstance(name, str):
        return "it is not a string"
    if not name:
        return "it is empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"it has {len(name)} characters"
    if "/" in name or "\\" in name:
        return "it holds a path separator"
    if name in (".", ".."):
        return "it names a directory"
    if name.startswith("."):
        return "it starts with '.'"
    for character in name:
        if not character.isprintable():
            return f"it holds the control character {character!r}"
        if character not in _NAME_CHARACTERS:
            return f"it holds {character!r}"
    return None


def check_name(name: object) -> str:
    """`name` if it is a valid Program name, else ProgramError saying why.

    A Program's name becomes a file name (`<name>.npz`, `<name>.repro.npz`) and is printed in reports,
    so it is a plain file name from a conservative allow-list: 1 to 128 characters from
    `A-Z a-z 0-9 . _ + -`, not starting with `.` (so never `.`, `..` or a hidden file). That rules out
    path separators, absolute paths, spaces, control characters (NUL, newline, DEL) and markup (`[/]`).
    """
    problem = name_problem(name)
    if problem is not None:
        raise ProgramError(f"Program name {short_repr(name)}: {problem}; expected {NAME_RULE}")
    assert isinstance(name, str)
    return name


@dataclass(frozen=True)
class FileName:
    """A Program name (see `check_name`)."""

    @property
    def expected(self) -> str:
        return NAME_RULE

    def check(self, value: Any, path: str) -> None:
        problem = name_problem(value)
        if problem is not None:
            raise Invalid(path, f"={short_repr(value)}: {problem}; expected {NAME_RULE}")


IDENTIFIER = Text(
    64, "a name of letters, digits and '_', not starting with a digit", r"[A-Za-z_][A-Za-z0-9_]*"
)
ACCELERATOR = Text(32, "an accelerator name: [a-z][a-z0-9_]*", r"[a-z][a-z0-9_]*")
ISA_VERSION = Text(64, "an ISA version: [A-Za-z0-9][A-Za-z0-9._+-]*", r"[A-Za-z0-9][A-Za-z0-9._+-]*")
DTYPE = OneOf(DTYPES)
SHAPE = Shape(MAX_ARRAY_BYTES)
SPAN_TEXT = Text(1024, "printable text", printable=True)

MEMORY = Record({"dtype": Field(DTYPE), "shape": Field(SHAPE)})
OUTPUT = Record(
    {
        "name": Field(IDENTIFIER),
        "memory": Field(IDENTIFIER),
        "offset": Field(Int(0, MAX_ARRAY_BYTES)),
        "dtype": Field(DTYPE),
        "shape": Field(SHAPE),
    }
)
SPAN = Record(
    {
        "start": Field(Int(0, MAX_COMMANDS)),
        "end": Field(Int(0, MAX_COMMANDS)),
        "model": Field(SPAN_TEXT, required=False),
        "layer": Field(SPAN_TEXT, required=False),
        "op": Field(SPAN_TEXT, required=False),
    }
)
PROVENANCE = Record(
    {"seed": Field(Nullable(Int(0, 2**63 - 1)), required=False)},  # the results store's int64 column
    rest=Json(max_depth=4, max_items=2**20, max_text=2**16),
    rest_key=IDENTIFIER,
    what="an object of JSON values by name",
)

HEADER = Record(
    {
        "format": Field(Const(FORMAT)),
        "version": Field(Int(1, VERSION, above=f"this Tandem reads up to {VERSION}")),
        "name": Field(FileName()),
        "accelerator": Field(ACCELERATOR),
        "isa_version": Field(ISA_VERSION),
        "config": Field(
            Record(rest=Int(-(2**31), 2**32 - 1), rest_key=IDENTIFIER, what="an object of integers by name")
        ),
        "command_bytes": Field(Int(1, MAX_COMMAND_BYTES)),
        "num_commands": Field(Int(1, MAX_COMMANDS)),
        "memories": Field(
            Record(rest=MEMORY, rest_key=IDENTIFIER, max_items=64, what="an object of memories by name")
        ),
        "outputs": Field(ListOf(OUTPUT, 1024), required=False),
        "references": Field(ListOf(IDENTIFIER, 1024, unique=True), required=False),
        "provenance": Field(PROVENANCE, required=False),
        "spans": Field(ListOf(SPAN, 2**20), required=False),
    }
)
"""The schema of a version-1 Program header."""


def validate_header(header: Any, source: str) -> None:
    """ProgramError naming `source` and the first field of `header` that does not conform to HEADER."""
    if not isinstance(header, dict):
        raise ProgramError(f"{source}: field 'header' is {short_repr(header)}: expected a JSON object")
    try:
        HEADER.check(header, "")
    except Invalid as bad:
        raise ProgramError(f"{source}: header field {bad.path!r}{bad.detail}") from None
