"""Bit-field layouts of wide command words (instructions, micro-ops, MMIO data beats).

A layout names each field's low bit and width; packing checks every value fits,
unpacking reads them back. Words are Python ints (any width) or little-endian bytes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """A field of `width` bits starting at bit `lo`; `signed` fields are two's complement."""

    name: str
    lo: int
    width: int
    signed: bool = False

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1

    def extract(self, word: int) -> int:
        """This field's value in `word`."""
        v = (word >> self.lo) & ((1 << self.width) - 1)
        if self.signed and v >> (self.width - 1):
            v -= 1 << self.width
        return v

    def value_range(self) -> tuple[int, int]:
        """Smallest and largest value the field holds."""
        if self.signed:
            return -(1 << (self.width - 1)), (1 << (self.width - 1)) - 1
        return 0, self.mask


class Layout:
    """An ordered set of non-overlapping fields of a `bits`-wide word."""

    def __init__(self, name: str, bits: int, fields: list[Field]):
        self.name = name
        self.bits = bits
        self.fields = {f.name: f for f in fields}
        used = 0
        for f in fields:
            span = f.mask << f.lo
            if f.lo + f.width > bits:
                raise ValueError(
                    f"{name}: field {f.name!r} [{f.lo + f.width - 1}:{f.lo}] exceeds {bits} bits"
                )
            if used & span:
                raise ValueError(f"{name}: field {f.name!r} overlaps another field")
            used |= span

    def pack(self, **values: int) -> int:
        """The word with the given fields set (others 0); a value that does not fit is a ValueError."""
        word = 0
        for key, value in values.items():
            field = self.fields.get(key)
            if field is None:
                raise ValueError(f"{self.name}: no field {key!r}; fields are {sorted(self.fields)}")
            low, high = field.value_range()
            if not low <= int(value) <= high:
                raise ValueError(
                    f"{self.name}.{key}={value!r} does not fit its {field.width}-bit field: expected {low}..{high}"
                )
            word |= (int(value) & field.mask) << field.lo
        return word

    def unpack(self, word: int) -> dict[str, int]:
        """Every field's value in `word`."""
        return {name: f.extract(word) for name, f in self.fields.items()}


def word_from_bytes(data: bytes | bytearray | memoryview) -> int:
    """A little-endian byte string as an int."""
    return int.from_bytes(bytes(data), "little")


def word_to_bytes(word: int, nbytes: int) -> bytes:
    """An int as `nbytes` little-endian bytes."""
    return int(word).to_bytes(nbytes, "little")
