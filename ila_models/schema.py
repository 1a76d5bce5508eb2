"""A small declarative schema for JSON values: one rule per field, walked top to bottom.

Each rule (`Int`, `Text`, `Record`, ...) says in words what it accepts (`expected`) and checks a
value (`check`), raising `Invalid` with the value's dotted path (`spans[2].start`, `provenance.seed`)
and what is wrong (`=-1: expected an integer in 0..16777216`). The Program header's schema
(`ila_models/program_schema.py`) is built from these; a caller turns `Invalid` into its own error.

Rules accept what `json.loads` returns and what a Python caller builds before `json.dumps` (tuples
as lists); `bool` is never an integer, and no number may be NaN or infinite.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class Invalid(Exception):
    """A value that does not conform: its dotted path and what is wrong (`=value: expected ...`)."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(path, detail)
        self.path = path
        self.detail = detail


_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 6
_REPR.maxlevel = 3


def short_repr(value: object) -> str:
    """`repr(value)`, shortened: a 10,000-character name or a 100-digit number stays one line."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"<an integer of {value.bit_length()} bits>"
    return _REPR.repr(value)


def wrong(path: str, value: object, expected: str) -> Invalid:
    """The Invalid for `value` at `path` where `expected` was."""
    return Invalid(path, f"={short_repr(value)}: expected {expected}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Rule(Protocol):
    """What a field may hold: `expected` says it in words, `check` raises Invalid naming the path."""

    @property
    def expected(self) -> str: ...

    def check(self, value: Any, path: str) -> None: ...


@dataclass(frozen=True)
class Const:
    """Exactly this string."""

    value: str

    @property
    def expected(self) -> str:
        return repr(self.value)

    def check(self, value: Any, path: str) -> None:
        if not (isinstance(value, str) and value == self.value):
            raise wrong(path, value, self.expected)


@dataclass(frozen=True)
class Int:
    """An integer (not a bool) in lo..hi; `above`, when given, is said instead for a value above hi."""

    lo: int
    hi: int
    above: str = ""

    @property
    def expected(self) -> str:
        return f"an integer in {self.lo}..{self.hi}"

    def check(self, value: Any, path: str) -> None:
        if _is_int(value) and value > self.hi and self.above:
            raise Invalid(path, f"={short_repr(value)}: {self.above}")
        if not (_is_int(value) and self.lo <= value <= self.hi):
            raise wrong(path, value, self.expected)


@dataclass(frozen=True)
class Text:
    """A string of at most `max_length` characters, all of it matching `pattern` (when given) and
    printable (when `printable`); `what` says which strings, in words."""

    max_length: int
    what: str = "a string"
    pattern: str | None = None
    printable: bool = False

    @property
    def expected(self) -> str:
        return f"{self.what} of at most {self.max_length} characters"

    def check(self, value: Any, path: str) -> None:
        if (
            not isinstance(value, str)
            or len(value) > self.max_length
            or (self.pattern is not None and re.fullmatch(self.pattern, value) is None)
            or (self.printable and not value.isprintable())
        ):
            raise wrong(path, value, self.expected)


@dataclass(frozen=True)
class OneOf:
    """One of these strings."""

    values: tuple[str, ...]

    @property
    def expected(self) -> str:
        return "one of " + ", ".join(map(repr, self.values))

    def check(self, value: Any, path: str) -> None:
        if not (isinstance(value, str) and value in self.values):
            raise wrong(path, value, self.expected)


@dataclass(frozen=True)
class Nullable:
    """What `rule` accepts, or null."""

    rule: Rule

    @property
    def expected(self) -> str:
        return f"{self.rule.expected}, or null"

    def check(self, value: Any, path: str) -> None:
        if value is None:
            return
        try:
            self.rule.check(value, path)
        except Invalid:
            raise wrong(path, value, self.expected) from None


@dataclass(frozen=True)
class ListOf:
    """A list of at most `max_items` values `item` accepts; with `unique`, no value twice."""

    item: Rule
    max_items: int
    unique: bool = False

    @property
    def expected(self) -> str:
        return f"a list of at most {self.max_items} items, each {self.item.expected}"

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, list | tuple) or len(value) > self.max_items:
            raise wrong(path, value, self.expected)
        for i, item in enumerate(value):
            self.item.check(item, f"{path}[{i}]")
        if self.unique:
            first: dict[Any, int] = {}
            for i, item in enumerate(value):
                if item in first:
                    raise wrong(f"{path}[{i}]", item, f"each value once (it is also {path}[{first[item]}])")
                first[item] = i


@dataclass(frozen=True)
class Shape:
    """An array shape: at most `max_dimensions` sizes >= 0 whose product is at most `max_elements`."""

    max_elements: int
    max_dimensions: int = 8

    @property
    def expected(self) -> str:
        return f"a list of at most {self.max_dimensions} integers >= 0 whose product is at most {self.max_elements}"

    def check(self, value: Any, path: str) -> None:
        if (
            not isinstance(value, list | tuple)
            or len(value) > self.max_dimensions
            or not all(_is_int(n) and 0 <= n <= self.max_elements for n in value)
            or math.prod(value) > self.max_elements
        ):
            raise wrong(path, value, self.expected)


@dataclass(frozen=True)
class Json:
    """Any JSON value (null, bool, integer of at most 64 bits, finite number, string, list, object)
    nested at most `max_depth` deep, with at most `max_items` list items and object keys in all."""

    max_depth: int
    max_items: int
    max_text: int

    @property
    def expected(self) -> str:
        return (
            f"a JSON value (finite numbers, strings of at most {self.max_text} characters) nested at most "
            f"{self.max_depth} deep, of at most {self.max_items} items"
        )

    def check(self, value: Any, path: str) -> None:
        self._walk(value, path, self.max_depth, [self.max_items])

    def _walk(self, value: Any, path: str, depth: int, budget: list[int]) -> None:
        if value is None or isinstance(value, bool) or (isinstance(value, float) and math.isfinite(value)):
            return
        if (_is_int(value) and -(2**63) <= value < 2**64) or (
            isinstance(value, str) and len(value) <= self.max_text
        ):
            return
        if not isinstance(value, list | tuple | dict) or depth == 0:
            raise wrong(path, value, self.expected)
        budget[0] -= len(value)
        if budget[0] < 0:
            raise wrong(path, value, self.expected)
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or len(key) > self.max_text:
                    raise wrong(path, value, self.expected)
                self._walk(item, _join(path, key), depth - 1, budget)
        else:
            for i, item in enumerate(value):
                self._walk(item, f"{path}[{i}]", depth - 1, budget)


@dataclass(frozen=True)
class Field:
    """A field of a Record: its rule, and whether the record must hold it."""

    rule: Rule
    required: bool = True


@dataclass(frozen=True)
class Record:
    """A JSON object of at most `max_items` keys with these `fields`, checked in this order. Other keys
    are refused unless `rest` is given: then each other key must match `rest_key` and its value
    `rest`. `what` names it in messages."""

    fields: Mapping[str, Field] = field(default_factory=dict)
    rest: Rule | None = None
    rest_key: Rule | None = None
    max_items: int = 256
    what: str = ""

    @property
    def expected(self) -> str:
        return self.what or "an object with fields " + ", ".join(self.fields)

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, dict) or len(value) > self.max_items:
            raise wrong(path, value, self.expected)
        for key, spec in self.fields.items():
            if key in value:
                spec.rule.check(value[key], _join(path, key))
            elif spec.required:
                raise Invalid(_join(path, key), f" is missing: expected {spec.rule.expected}")
        for key, item in value.items():
            if key in self.fields:
                continue
            if self.rest is None or self.rest_key is None:
                allowed = ", ".join(self.fields)
                raise Invalid(_join(path, str(key)), f" is not a field here: expected only {allowed}")
            self.rest_key.check(key, _join(path, str(key)))
            self.rest.check(item, _join(path, key))
