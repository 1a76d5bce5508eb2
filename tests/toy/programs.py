"""The toy accelerator's Programs (its plug-in's `generators`), each with numpy references of its outputs.

Inputs lie in DRAM; a Program loads them into the scratchpad, computes, and stores its results to
the output regions, whose references numpy computes independently of the ILA.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ila_models.program import MemoryImage, OutputRegion, Program, Span

from .toy import ISA_VERSION, LANES, ROW_BYTES, commands_array, encode

# Lane values that exercise the wrap-around (0xffff + 1, 0x8000 << 1, ...) besides random ones.
EDGES = np.array([0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x00FF, 0xFF00, 0x1234], dtype=np.uint16)


def _values(rng: np.random.Generator, rows: int) -> np.ndarray:
    values = rng.integers(0, 1 << 16, size=(rows, LANES), dtype=np.uint16)
    values[0] = EDGES
    return values


def _program(name: str, words: list[int], image: MemoryImage, outputs: list[OutputRegion],
             references: dict[str, np.ndarray], seed: int) -> Program:  # fmt: skip
    return Program(
        accelerator="toy",
        isa_version=ISA_VERSION,
        config={},
        commands=commands_array(words),
        memories={"dram": image.build()},
        outputs=outputs,
        references=references,
        provenance={"generator": f"tests.toy.programs.{name}", "seed": seed},
        spans=[Span(0, len(words), model="toy", layer=name, op=name)],
        name=f"toy_{name}",
    )


def add_xor(rows: int = 4, seed: int = 0) -> Program:
    """sum = a + b and xor = a ^ b, lane-wise, for `rows` rows of each (rows <= 4)."""
    rng = np.random.default_rng(seed)
    a, b = _values(rng, rows), _values(rng, rows)[::-1].copy()
    image = MemoryImage()
    a_at, b_at = image.place(a, ROW_BYTES), image.place(b, ROW_BYTES)
    sum_at, xor_at = image.reserve(a.nbytes, ROW_BYTES), image.reserve(a.nbytes, ROW_BYTES)
    words = []
    for r in range(rows):  # a in r0..r3, b in r4..r7, sums in r8..r11, xors in r12..r15
        words += [
            encode("LOAD", rd=r, addr=a_at + r * ROW_BYTES),
            encode("LOAD", rd=4 + r, addr=b_at + r * ROW_BYTES),
            encode("ADD", rd=8 + r, rs1=r, rs2=4 + r),
            encode("XOR", rd=12 + r, rs1=r, rs2=4 + r),
            encode("STORE", rs1=8 + r, addr=sum_at + r * ROW_BYTES),
            encode("STORE", rs1=12 + r, addr=xor_at + r * ROW_BYTES),
        ]
    outputs = [
        OutputRegion("sum", "dram", sum_at, "uint16", (rows, LANES)),
        OutputRegion("xor", "dram", xor_at, "uint16", (rows, LANES)),
    ]
    references = {
        "sum": ((a.astype(np.uint32) + b) & 0xFFFF).astype(np.uint16),
        "xor": a ^ b,
    }
    return _program("add_xor", words, image, outputs, references, seed)


def mac_shift(terms: int = 4, shift: int = 3, seed: int = 1) -> Program:
    """out = ((sum over k of x[k] * w[k]) << shift) + bias, lane-wise mod 2^16 (terms <= 6)."""
    rng = np.random.default_rng(seed)
    x, w, bias = _values(rng, terms), _values(rng, terms), _values(rng, 1)
    image = MemoryImage()
    x_at, w_at, bias_at = (image.place(v, ROW_BYTES) for v in (x, w, bias))
    out_at = image.reserve(ROW_BYTES, ROW_BYTES)
    acc, xr, wr, br = 0, 1, 2, 3
    words = [encode("XOR", rd=acc, rs1=acc, rs2=acc)]  # the accumulator starts at 0 whatever it held
    for k in range(terms):
        words += [
            encode("LOAD", rd=xr, addr=x_at + k * ROW_BYTES),
            encode("LOAD", rd=wr, addr=w_at + k * ROW_BYTES),
            encode("MAC", rd=acc, rs1=xr, rs2=wr),
        ]
    words += [
        encode("SHL", rd=acc, rs1=acc, shamt=shift),
        encode("LOAD", rd=br, addr=bias_at),
        encode("ADD", rd=acc, rs1=acc, rs2=br),
        encode("STORE", rs1=acc, addr=out_at),
    ]
    dot = (x.astype(np.uint64) * w).sum(axis=0)
    out = (((dot << np.uint64(shift)) + bias[0]) & 0xFFFF).astype(np.uint16)
    outputs = [OutputRegion("out", "dram", out_at, "uint16", (1, LANES))]
    return _program("mac_shift", words, image, outputs, {"out": out[None, :]}, seed)


def shifts(seed: int = 2) -> Program:
    """Every shift amount 0..15 of one row: out[s] = a << s, through all 16 scratchpad rows."""
    rng = np.random.default_rng(seed)
    a = _values(rng, 1)
    image = MemoryImage()
    a_at = image.place(a, ROW_BYTES)
    out_at = image.reserve(16 * ROW_BYTES, ROW_BYTES)
    words = [encode("LOAD", rd=0, addr=a_at)]
    for s in range(15, -1, -1):  # r0 is shifted last, so it still holds a for the others
        words += [encode("SHL", rd=s, rs1=0, shamt=s), encode("STORE", rs1=s, addr=out_at + s * ROW_BYTES)]
    ref = ((a.astype(np.uint32) << np.arange(16, dtype=np.uint32)[:, None]) & 0xFFFF).astype(np.uint16)
    outputs = [OutputRegion("shifted", "dram", out_at, "uint16", (16, LANES))]
    return _program("shifts", words, image, outputs, {"shifted": ref}, seed)


GENERATED: list[Callable[[], Program]] = [add_xor, mac_shift, shifts]
