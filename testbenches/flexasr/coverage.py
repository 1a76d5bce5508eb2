"""Constrained-random FlexASR Programs for lockstep coverage: what the layer generators never reach.

- `gb_reduce_pad`: layer reduce mean and add, zero padding and layer norm on blocks of more
  than 16 timesteps (the grouping by 16), random codes and biases (saturation and clamping), and
  reads of every configuration register.
- `gb_control_mixed`: GB_CONTROL in bi-directional forward (1) and backward (2) and decode (3,
  small buffer) modes, over a subset of the PEs, clustered and plain weights, two managers with
  zero_active and is_zero_first, biases on and off, two PEs writing the same output vector (the
  later PE wins), and random activation micro-programs using every micro-op.

Random draws only choose operands within the ISA's constraints, so every command decodes; there
is no float reference (the ILA is the reference): these Programs are for ILA-vs-RTL lockstep.
"""

from __future__ import annotations

import numpy as np

from ila_models import flexasr
from ila_models import flexasr_isa as isa
from ila_models.program import Program, Span

ALU_OPS = (0x7, 0x8, 0x9, 0xA, 0xB, 0xC, 0xD)  # COPY EADD EMUL SIGM TANH RELU ONEX
LOAD, STORE, INPE, OUTGB = 0x1, 0x2, 0x3, 0x4


def _codes(rng: np.random.Generator, n: int, max_exp: int = 7) -> np.ndarray:
    """Random AdaptivFloat codes with exponents up to `max_exp` (zero codes included)."""
    sign = rng.integers(0, 2, (n, 16)) << 7
    exp = rng.integers(0, max_exp + 1, (n, 16)) << 4
    return (sign | exp | rng.integers(0, 16, (n, 16))).astype(np.uint8)


def _program(name: str, words: list[int], spans: list[Span], seed: int) -> Program:
    provenance = {"generator": f"testbenches.flexasr.coverage.{name}", "seed": seed}
    return flexasr.program(f"{name}_s{seed}", words, spans, provenance)


def _gb_write(words: list[int], offset: int, data: np.ndarray | bytes) -> None:
    words.append(isa.write(isa.gb_addr(offset), data))


def gb_reduce_pad(seed: int = 1) -> Program:
    """Layer reduce mean/add, zero padding and layer norm on 20-timestep blocks, then reads."""
    rng = np.random.default_rng(seed)
    words: list[int] = []
    nt, nv = 20, 3
    bases = [16, 2000, 4000, 7000]
    cfg = {f"num_vector_{j}": nv for j in range(4)} | {f"base_large_{j}": b for j, b in enumerate(bases)}
    _gb_write(words, 0x00400010, isa.pack_config("mem_mngr_large", **cfg))
    for base in bases:
        for t in range(nt):
            for row, codes in zip(isa.timestep_rows(base, nv, t), _codes(rng, nv), strict=True):
                _gb_write(words, 0x00500000 + 16 * int(row), codes)
    _gb_write(words, 0x00400020, isa.pack_config("mem_mngr_small", base_small_5=100, base_small_6=200))
    for v in range(nv):
        _gb_write(words, 0x00600000 + 16 * (100 + v), _codes(rng, 1)[0])
        _gb_write(words, 0x00600000 + 16 * (200 + v), _codes(rng, 1)[0])
    spans = [Span(0, len(words), "coverage", "gb", "setup")]
    ops = [
        (0x00800010, 0x20, "layer_reduce", {"mode": 1, "memory_index_1": 0, "num_vector_1": nv, "num_timestep_1": nt}),
        (0x00800010, 0x20, "layer_reduce", {"mode": 2, "memory_index_1": 1, "num_vector_1": nv, "num_timestep_1": nt - 1}),
        (0x00A00010, 0x40, "zero_padding", {"memory_index_1": 2, "num_vector_1": nv, "num_timestep_1": 5, "num_timestep_2": 18}),
        (0x00900010, 0x30, "layer_norm", {"memory_index_1": 3, "num_vector_1": nv, "num_timestep_1": nt,
                                          "adpbias_1": int(rng.integers(0, 8)), "adpbias_3": int(rng.integers(0, 8)),
                                          "adpbias_4": int(rng.integers(0, 8))}),
        (0x00900010, 0x30, "layer_norm", {"memory_index_1": 0, "num_vector_1": nv, "num_timestep_1": 3,
                                          "adpbias_1": 7, "adpbias_3": 0, "adpbias_4": 2}),
    ]  # fmt: skip
    for config_at, start_at, name, fields in ops:
        begin = len(words)
        _gb_write(words, config_at, isa.pack_config(name, is_valid=1, **fields))
        _gb_write(words, start_at, b"")
        spans.append(Span(begin, len(words), "coverage", "gb", name))
    begin = len(words)
    for base in bases:
        isa.read_timesteps(words, base, nv, nt)
    words += [isa.read(isa.gb_addr(off)) for off in isa.GB_CONFIGS.values()]
    words.append(isa.read(isa.gb_addr(0x00600000 + 16 * 201)))
    spans.append(Span(begin, len(words), "coverage", "gb", "reads"))
    return _program("gb_reduce_pad", words, spans, seed)


def _act_program(rng: np.random.Generator, n_inpe: int, length: int) -> list[int]:
    """A random micro-program: `n_inpe` INPE, random micro-ops of every kind that keep the first INPE's
    register r, one register-to-register op on r, and OUTGB r (so outputs depend on the core's)."""
    regs = [int(x) for x in rng.permutation(4)]
    r = regs[0]

    def inst(op: int, a2: int | None = None) -> int:
        dest = int(rng.choice(regs[1:])) if a2 is None else a2
        return (op << 4) | (dest << 2) | int(rng.integers(0, 4))

    body = [inst(int(op)) for op in rng.choice([*ALU_OPS, LOAD, STORE, OUTGB], length - n_inpe - 2)]
    return (
        [inst(INPE, regs[k]) for k in range(n_inpe)]
        + body
        + [inst(int(rng.choice(ALU_OPS)), r), inst(OUTGB, r)]
    )


def _pe_setup(
    words: list[int],
    rng: np.random.Generator,
    pe: int,
    *,
    cluster: bool,
    bias: bool,
    zero_first: bool,
    no: int,
    ni: tuple[int, int],
    out_base: int,
    act_outputs: int,
    n_inpe: int,
) -> None:
    """Configure PE `pe` (two managers), fill its buffers with random codes."""

    def pe_write(offset: int, data: np.ndarray | bytes) -> None:
        words.append(isa.write(isa.pe_addr(pe, offset), data))

    pe_write(0x00400010, isa.pack_config(
        "rnn_layer_sizing", is_valid=1, is_zero_first=int(zero_first), is_cluster=int(cluster),
        is_bias=int(bias), num_manager=2, num_output=no,
    ))  # fmt: skip
    block = 8 if cluster else 16
    base_weight = int(rng.integers(0, 1000))
    for m, (name, table) in enumerate((("mem_mngr_first", 0x00400030), ("mem_mngr_second", 0x00400050))):
        w_base = base_weight + m * no * ni[0] * block
        pe_write(0x00400020 + 0x20 * m, isa.pack_config(
            name, zero_active=m, adpfloat_bias_w=int(rng.integers(0, 4)), adpfloat_bias_b=int(rng.integers(0, 8)),
            adpfloat_bias_i=int(rng.integers(0, 4)), num_input=ni[m], base_weight=w_base,
            base_bias=100 + 10 * m, base_input=40 * m,
        ))  # fmt: skip
        pe_write(table, _codes(rng, 1, 3)[0])
        for r, codes in enumerate(_codes(rng, no * ni[m] * block, 7 if cluster else 3)):
            pe_write(0x00500000 + 16 * (w_base + r), codes)
    for row in [*range(100, 100 + no), *range(110, 110 + no), *range(0, 80, 7)]:
        pe_write(0x00600000 + 16 * row, _codes(rng, 1)[0])
    for row in range(32):
        pe_write(0x00900000 + 16 * row, _codes(rng, 1)[0])
    prog = bytes(_act_program(rng, n_inpe, 9))
    pe_write(0x00800010, isa.pack_config(
        "act_mngr", is_valid=1, is_zero_first=int(zero_first), adpfloat_bias=int(rng.integers(3, 8)),
        num_inst=len(prog), num_output=act_outputs, buffer_addr_base=int(rng.integers(0, 30)),
        output_addr_base=out_base,
    ))  # fmt: skip
    pe_write(0x00800020, prog.ljust(32, b"\0")[:16])
    pe_write(0x00800030, prog.ljust(32, b"\0")[16:])


def gb_control_mixed(seed: int = 1) -> Program:
    """GB_CONTROL in modes 1, 2 and 3 over PEs 0, 2, 3 (PE 1 invalid), then reads of everything written."""
    rng = np.random.default_rng(seed)
    words: list[int] = []
    nt, nv1, nv2 = 18, 2, 3
    _gb_write(words, 0x00400010, isa.pack_config(
        "mem_mngr_large", num_vector_0=nv1, base_large_0=0, num_vector_1=nv2, base_large_1=3000,
    ))  # fmt: skip
    _gb_write(words, 0x00400020, isa.pack_config("mem_mngr_small", base_small_0=10, base_small_1=500))
    for t in range(2 * nt):
        for row, codes in zip(isa.timestep_rows(0, nv1, t), _codes(rng, nv1, 4), strict=True):
            _gb_write(words, 0x00500000 + 16 * int(row), codes)
    for v, codes in enumerate(_codes(rng, nv1, 4)):
        _gb_write(words, 0x00600000 + 16 * (10 + v), codes)
    # no = 2 outputs x 2 managers = 4 core outputs; act: 2 outputs x 2 INPE each
    plans = {0: dict(cluster=False, bias=True, zero_first=True, out_base=0),
             2: dict(cluster=True, bias=False, zero_first=False, out_base=1),
             3: dict(cluster=True, bias=True, zero_first=True, out_base=1)}  # fmt: skip
    for pe, plan in plans.items():
        _pe_setup(words, rng, pe, no=2, ni=(nv1, nv2), act_outputs=2, n_inpe=2, **plan)  # type: ignore[arg-type]
    spans = [Span(0, len(words), "coverage", "gb_control", "setup")]
    for mode, steps in ((1, nt), (2, nt), (3, 3)):
        begin = len(words)
        _gb_write(words, 0x00700010, isa.pack_config(
            "gb_control", is_valid=1, mode=mode, is_rnn=1, memory_index_1=0, memory_index_2=1,
            num_vector_1=nv1, num_vector_2=nv2, num_timestep_1=steps,
        ))  # fmt: skip
        _gb_write(words, 0x10, b"")
        spans.append(Span(begin, len(words), "coverage", "gb_control", f"mode {mode}"))
    begin = len(words)
    isa.read_timesteps(words, 3000, nv2, 2 * nt)
    words += [isa.read(isa.gb_addr(0x00600000 + 16 * (500 + v))) for v in range(nv2)]
    for pe in range(4):
        words += [isa.read(isa.pe_addr(pe, off)) for off in isa.PE_CONFIGS.values()]
        words += [isa.read(isa.pe_addr(pe, 0x00600000 + 16 * r)) for r in (0, 1, 40, 41, 42)]
        words += [isa.read(isa.pe_addr(pe, 0x00900000 + 16 * r)) for r in range(0, 32, 5)]
        words.append(isa.read(isa.pe_addr(pe, 0x00500000 + 16 * 5)))
    spans.append(Span(begin, len(words), "coverage", "gb_control", "reads"))
    return _program("gb_control_mixed", words, spans, seed)


SEEDS = (1, 2)
COVERAGE = [gb_reduce_pad, gb_control_mixed]
