"""MMIO command streams, shared by every accelerator programmed through AXI-style register writes.

One command is one 128-bit AXI beat written to (or read from) a 32-bit address.
In a Program it is 24 bytes, little endian: data [127:0], addr [159:128],
wr [160], rd [161] (the rest zero). The RTL's command port (`CMD_BITS` = 192)
carries exactly these bits. An `AddressMap` turns an address into a named
region and an offset, with a clear error for an unmapped address.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from ila_models.bitfields import Field, Layout, word_from_bytes, word_to_bytes
from ila_models.language import DecodeError

COMMAND_BYTES = 24
COMMAND_BITS = 8 * COMMAND_BYTES
BEAT_BYTES = 16
LAYOUT = Layout(
    "MmioCommand",
    COMMAND_BITS,
    [Field("data", 0, 128), Field("addr", 128, 32), Field("wr", 160, 1), Field("rd", 161, 1)],
)


@dataclass(frozen=True)
class MmioCommand:
    """One parsed MMIO command."""

    wr: bool
    rd: bool
    addr: int
    data: int

    def data_bytes(self) -> np.ndarray:
        """The 16 data bytes; byte k is the beat's bits [8k+7:8k] (data_in_k in the ILA sources)."""
        return np.frombuffer(word_to_bytes(self.data, BEAT_BYTES), dtype=np.uint8)


def write(addr: int, data: int | bytes | np.ndarray) -> int:
    """A write command word; `data` as an int or up to 16 little-endian bytes."""
    if not isinstance(data, int):
        raw = bytes(np.asarray(data, dtype=np.uint8).reshape(-1)) if not isinstance(data, bytes) else data
        if len(raw) > BEAT_BYTES:
            raise ValueError(f"MMIO write data has {len(raw)} bytes: expected at most {BEAT_BYTES}")
        data = word_from_bytes(raw)
    return LAYOUT.pack(data=data, addr=addr, wr=1)


def read(addr: int) -> int:
    """A read command word."""
    return LAYOUT.pack(addr=addr, rd=1)


def commands_array(words: list[int]) -> np.ndarray:
    """Command words as the Program's uint8 (N, 24) command array."""
    out = np.zeros((len(words), COMMAND_BYTES), dtype=np.uint8)
    for i, w in enumerate(words):
        out[i] = np.frombuffer(word_to_bytes(w, COMMAND_BYTES), dtype=np.uint8)
    return out


def parse(command: np.ndarray) -> MmioCommand:
    """One command's fields; a command that is neither (or both) a read and a write is a DecodeError."""
    f = LAYOUT.unpack(word_from_bytes(np.asarray(command, dtype=np.uint8).tobytes()))
    if f["wr"] == f["rd"]:
        raise DecodeError("wr/rd", (f["wr"], f["rd"]), "exactly one of write (wr=1) or read (rd=1)")
    return MmioCommand(bool(f["wr"]), bool(f["rd"]), f["addr"], f["data"])


@dataclass(frozen=True)
class Region:
    """A named address range [base, base + size)."""

    name: str
    base: int
    size: int

    def __contains__(self, addr: int) -> bool:
        return self.base <= addr < self.base + self.size


class AddressMap:
    """Named regions of an accelerator's address space."""

    def __init__(self, accelerator: str, regions: list[Region]):
        self.accelerator = accelerator
        self.regions = sorted(regions, key=lambda r: r.base)
        self._bases = [r.base for r in self.regions]
        for a, b in zip(self.regions, self.regions[1:], strict=False):
            if a.base + a.size > b.base:
                raise ValueError(f"{accelerator} address map: {a.name!r} overlaps {b.name!r}")

    def lookup(self, addr: int) -> tuple[Region, int]:
        """The region holding `addr` and the offset in it; DecodeError for an unmapped address."""
        at = bisect.bisect_right(self._bases, addr) - 1  # the last region starting at or below addr
        if at >= 0 and addr in self.regions[at]:
            return self.regions[at], addr - self.regions[at].base
        raise DecodeError(
            "addr", f"{addr:#010x}", f"an address mapped by {self.accelerator} ({self.describe()})"
        )

    def describe(self) -> str:
        return ", ".join(f"{r.name} {r.base:#x}..{r.base + r.size - 1:#x}" for r in self.regions[:6]) + (
            ", ..." if len(self.regions) > 6 else ""
        )
