"""VerilatorBackend on rtl/vta (small 4x4 configuration): state by name, VTA semantics against
numpy, concurrency of the load/compute/store units, serial mode, hangs, the C++-only run."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.backend import Retire, SimulatorHang
from harness.refinement import RefinementMap
from harness.verilator_backend import VerilatorBackend
from harness.verilator_build import VerilatedLibrary, build_library
from ila_models import vta_isa as isa

RTL_VTA = Path(__file__).resolve().parents[2] / "rtl" / "vta"
B = 4
DEPTHS = {"UOP_DEPTH": 128, "INP_DEPTH": 64, "WGT_DEPTH": 64, "ACC_DEPTH": 128}
PARAMS = {"BLOCK_IN": B, "BLOCK_OUT": B, **DEPTHS}
DRAM_BYTES = 4096
LAYOUT = {
    "dram": (np.uint8, (DRAM_BYTES,)),
    "uop": (np.uint32, (128,)),
    "inp": (np.int8, (64, B)),
    "wgt": (np.int8, (64, B * B)),
    "acc": (np.int32, (128, B)),
    "out": (np.int8, (128, B)),
    "tokens": (np.uint32, (4,)),
    "done": (np.uint8, (1,)),
}
REFINEMENT = RefinementMap.parse({
    "top": "vta_top",
    "units": ["load", "compute", "store"],
    "state": {
        "dram": {"harness": "dram"},
        "uop": {"scope": "TOP.vta_top.u_uop", "var": "mem"},
        "inp": {"scope": "TOP.vta_top.u_inp", "var": "mem"},
        "wgt": {"scope": "TOP.vta_top.u_wgt", "var": "mem"},
        "acc": {"scope": "TOP.vta_top.u_acc", "var": "mem"},
        "out": {"scope": "TOP.vta_top.u_out", "var": "mem"},
        "done": {"scope": "TOP.vta_top.u_compute", "var": "done"},
        "tokens": {"unmapped": "counters"},
    },
}, Path("test refinement"))  # fmt: skip


@dataclass
class FakeProgram:
    """What the backend may use of a Program: commands and the DRAM image."""

    commands: np.ndarray
    memories: dict[str, np.ndarray] = field(default_factory=dict)


@pytest.fixture(scope="module")
def library() -> VerilatedLibrary:
    return build_library(RTL_VTA, "vta_top", PARAMS)


@pytest.fixture
def backend(library: VerilatedLibrary) -> Iterator[VerilatorBackend]:
    be = VerilatorBackend(RTL_VTA, "vta_top", PARAMS, LAYOUT, REFINEMENT, cycle_budget=5000, library=library)
    be.reset()
    yield be
    be.close()


def program(words: list[int], dram: np.ndarray | None = None) -> Any:
    image = np.zeros(DRAM_BYTES, dtype=np.uint8) if dram is None else dram
    return FakeProgram(isa.commands_array(words), {"dram": image})


def drain(be: VerilatorBackend) -> list[Retire]:
    """Every retirement until the program is done."""
    out = []
    while (r := be.next_retirement()) is not None:
        out.append(r)
    return out


# ---- numpy reference of the few VTA operations the hand-made program uses ------------------------
def shr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    s = ((b.astype(np.int64) & 63) ^ 32) - 32  # low 6 bits, signed
    a64 = a.astype(np.int64)
    right = a64 >> np.clip(s, 0, 31)
    left = np.where(-s >= 32, 0, (a64 << np.clip(-s, 0, 31)) & 0xFFFFFFFF)
    return np.where(s >= 0, right, left).astype(np.uint32).view(np.int32) if np.ndim(a) else right


def wrap(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x, dtype=np.int64) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def test_state_is_read_by_name_in_the_ila_dtype_and_shape(backend: VerilatorBackend) -> None:
    for name, (dtype, shape) in LAYOUT.items():
        if name == "tokens":
            with pytest.raises(KeyError, match="not held by the RTL"):
                backend.read(name)
            continue
        value = backend.read(name)
        assert value.dtype == np.dtype(dtype) and value.shape == shape, name
        assert not value.any(), f"{name} is not zero after reset"
    assert backend.read("acc", slice(3, 7)).shape == (4, B)
    with pytest.raises(NotImplementedError, match="execute"):
        backend.execute(0)
    acc = np.arange(128 * B, dtype=np.int32).reshape(128, B) - 200
    backend.write("acc", acc)
    np.testing.assert_array_equal(backend.read("acc"), acc)
    np.testing.assert_array_equal(backend.read("acc", slice(5, 9)), acc[5:9])


def test_equals_compares_a_whole_state_with_the_ila_value_in_cpp(backend: VerilatorBackend) -> None:
    acc = np.arange(128 * B, dtype=np.int32).reshape(128, B) - 200
    backend.write("acc", acc)
    assert backend.equals("acc", acc)
    for row, lane in [(0, 0), (127, B - 1)]:
        other = acc.copy()
        other[row, lane] += 1
        assert not backend.equals("acc", other)
    assert not backend.equals("acc", acc[:64]) and not backend.equals("acc", acc.astype(np.int64))
    inp = np.full((64, B), -3, dtype=np.int8)  # 4-byte rows in wider RTL entries: only the row is compared
    backend.write("inp", inp)
    assert backend.equals("inp", inp) and not backend.equals("inp", inp + 1)
    dram = np.arange(DRAM_BYTES, dtype=np.uint8)
    backend.write("dram", dram)
    assert backend.equals("dram", dram)
    dram[DRAM_BYTES - 1] ^= 1
    assert not backend.equals("dram", dram) and not backend.equals("dram", dram[:-1])


def test_a_batch_captures_and_compares_watched_rows_at_retirement(library: VerilatedLibrary) -> None:
    # acc declared two lanes wide: the RTL's entries hold four, so 8 of each entry's 16 bytes are compared
    narrow = {**LAYOUT, "acc": (np.int32, (128, 2))}
    be = VerilatorBackend(RTL_VTA, "vta_top", PARAMS, narrow, REFINEMENT, cycle_budget=5000, library=library)
    try:
        for expected, differing in [([5, 5], 0), ([5, 6], 1)]:
            be.reset()
            be.set_serial_mode(True)
            be.load(program([isa.gemm(0, 1), isa.alu("ADD", 0, 1, imm=5), isa.finish()]))
            rows = bytearray(np.array([expected], dtype=np.int32).tobytes())
            be.start_batch(be.plan_batch(3, [(1, "acc", 0, 1, 0), (2, "acc", 0, 2, -1)], rows))
            outcome = be.finish_batch()
            assert [r.index for r in outcome.retirements()] == [0, 1, 2] and outcome.hang is None
            assert outcome.differing == differing
            np.testing.assert_array_equal(outcome.captured(0), [[5, 5]])
            np.testing.assert_array_equal(outcome.captured(1), [[5, 5], [0, 0]])
        acc = be.read("acc")
        assert be.equals("acc", acc)  # lanes 2 and 3 hold 5 too, outside the compared rows
        acc[0, 1] = 6
        assert not be.equals("acc", acc)
    finally:
        be.close()


def test_a_bad_refinement_entry_names_what_exists(library: VerilatedLibrary) -> None:
    bad = RefinementMap.parse(
        {"top": "vta_top", "units": list(REFINEMENT.units), "state": {"acc": {"scope": "TOP.vta_top.u_acc", "var": "storage"}}},
        Path("bad refinement"),
    )
    with pytest.raises(ValueError, match=r"acc.*no public variable 'storage'.*it has: mem"):
        VerilatorBackend(RTL_VTA, "vta_top", PARAMS, LAYOUT, bad, library=library)


def test_hand_made_program_matches_numpy(backend: VerilatorBackend) -> None:
    rng = np.random.default_rng(7)
    dram = np.zeros(DRAM_BYTES, dtype=np.uint8)
    # DRAM images (element sizes for B=4: inp 4 B, wgt 16 B, acc 16 B, uop 4 B, out 4 B)
    inp_src = rng.integers(-128, 128, size=(2, 5, B), dtype=np.int8)  # 2 rows, stride 5 elements
    dram[40 : 40 + inp_src.nbytes] = inp_src.view(np.uint8).reshape(-1)  # dram_base 10
    wgt_src = rng.integers(-128, 128, size=(4, B * B), dtype=np.int8)
    dram[320 : 320 + wgt_src.nbytes] = wgt_src.view(np.uint8).reshape(-1)  # dram_base 20
    acc_src = rng.integers(-(2**31), 2**31, size=(3, B), dtype=np.int64).astype(np.int32)
    dram[1120 : 1120 + acc_src.nbytes] = acc_src.view(np.uint8).reshape(-1)  # dram_base 70
    uops = np.array(
        [isa.uop(0, 0, 0), isa.uop(0, 7, 1), isa.uop(0, 8, 2), isa.uop(9, 10, 4), isa.uop(8, 0), isa.uop(0, 9),
         isa.uop(10, 1)],
        dtype=np.uint32,
    )  # fmt: skip
    dram[800 : 800 + uops.nbytes] = uops.view(np.uint8)  # dram_base 200
    deps_l2c, deps_pop_l = {"push_next": 1}, {"pop_prev": 1}
    words = [
        isa.load("INP", 2, 10, 2, 3, 5, pads=(1, 1, 1, 0), deps=deps_l2c),  # 0: 4x4 tile with padding
        isa.load("WGT", 1, 20, 1, 4, 4, deps=deps_l2c),  # 1
        isa.load("UOP", 0, 200, 1, 7, 7, deps=deps_pop_l),  # 2
        isa.load("ACC", 8, 70, 1, 3, 3, deps=deps_pop_l),  # 3
        isa.gemm(0, 1, 2, 1, dst=(1, 0), reset=True),  # 4: acc[0], acc[1] = 0
        isa.gemm(1, 3, 2, 2, dst=(1, 0), src=(4, 1), wgt=(0, 1)),  # 5: same row twice in a row
        isa.gemm(3, 4),  # 6: onto a row loaded from DRAM
        isa.alu("ADD", 4, 5, 3, 1, dst=(1, 0), imm=7),  # 7: rows 8..10 += 7
        isa.alu("MUL", 5, 6),  # 8: acc[0] *= acc[9]
        isa.alu("SHR", 4, 5, imm=-3),  # 9: acc[8] <<= 3
        isa.alu("SHR", 6, 7, imm=35),  # 10: acc[10]: 35 is -29 in 6 bits -> << 29
        isa.alu("SHR", 6, 7),  # 11: acc[10] shifted by acc[1] (either direction)
        isa.alu("MIN", 4, 5, 1, 2, dst=(0, 1), imm=-5),  # 12: rows 8, 9
        isa.alu("MAX", 5, 6),  # 13: acc[0] = max(acc[0], acc[9])
        isa.alu("SHR", 4, 5, imm=4),  # 14: acc[8] >>= 4 (arithmetic)
        isa.alu("SHR", 6, 7, imm=-32, deps={"push_next": 1}),  # 15: acc[10] = 0
        isa.store(0, 400, 1, 11, 11, deps={"pop_prev": 1}),  # 16: out rows 0..10
        isa.store(8, 500, 2, 2, 5, deps={"push_prev": 1}),  # 17: out rows 8..11, 2-D
        isa.finish(deps={"pop_next": 1}),  # 18
    ]
    backend.load(program(words, dram))
    retired = drain(backend)
    assert sorted(r.index for r in retired) == list(range(len(words)))
    units = {r.index: r.unit for r in retired}
    assert (units[0], units[2], units[16]) == ("load", "compute", "store")

    # ---- numpy reference
    inp = np.zeros((64, B), dtype=np.int8)
    tile = np.zeros((4, 4, B), dtype=np.int8)
    tile[1:3, 1:4] = inp_src[:, :3]
    inp[2:18] = tile.reshape(16, B)
    wgt = np.zeros((64, B * B), dtype=np.int8)
    wgt[1:5] = wgt_src
    acc = np.zeros((128, B), dtype=np.int32)
    acc[8:11] = acc_src
    written = np.zeros(128, dtype=bool)
    ul = [(int(u) & 0x7FF, (int(u) >> 11) & 0x7FF, int(u) >> 22) for u in uops]

    def gemm(
        ub: int,
        ue: int,
        it_o: int,
        it_i: int,
        d: tuple[int, int] = (0, 0),
        s: tuple[int, int] = (0, 0),
        w: tuple[int, int] = (0, 0),
        reset: bool = False,
    ) -> None:
        for o in range(it_o):
            for i in range(it_i):
                for dst, src, wg in ul[ub:ue]:
                    a, x, k = dst + o * d[0] + i * d[1], src + o * s[0] + i * s[1], wg + o * w[0] + i * w[1]
                    w2 = wgt[k].reshape(B, B).astype(np.int64)
                    acc[a] = 0 if reset else wrap(acc[a] + w2 @ inp[x].astype(np.int64))
                    written[a] = True

    def alu(
        fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
        ub: int,
        it_o: int = 1,
        it_i: int = 1,
        d: tuple[int, int] = (0, 0),
        imm: int | None = None,
    ) -> None:
        for o in range(it_o):
            for i in range(it_i):
                dst, src, _ = ul[ub]
                a, s = dst + o * d[0] + i * d[1], src + o * d[0] + i * d[1]
                b = np.full(B, imm, dtype=np.int32) if imm is not None else acc[s].copy()
                acc[a] = fn(acc[a], b)
                written[a] = True

    gemm(0, 1, 2, 1, d=(1, 0), reset=True)
    gemm(1, 3, 2, 2, d=(1, 0), s=(4, 1), w=(0, 1))
    gemm(3, 4, 1, 1)
    add = lambda a, b: wrap(a.astype(np.int64) + b)  # noqa: E731
    alu(add, 4, 3, 1, d=(1, 0), imm=7)
    alu(lambda a, b: wrap(a.astype(np.int64) * b), 5)
    alu(shr, 4, imm=-3)
    alu(shr, 6, imm=35)
    alu(shr, 6)
    for row in (8, 9):  # MIN imm over rows 8, 9 (dst factor_in 1)
        acc[row] = np.minimum(acc[row], -5)
    alu(np.maximum, 5)
    alu(shr, 4, imm=4)
    alu(shr, 6, imm=-32)
    out = np.zeros((128, B), dtype=np.int8)
    out[written] = acc[written].astype(np.int8)  # low 8 bits
    exp_dram = dram.copy()
    exp_dram[1600 : 1600 + 11 * B] = out[0:11].view(np.uint8).reshape(-1)
    for y in range(2):
        base = (500 + y * 5) * B
        exp_dram[base : base + 2 * B] = out[8 + 2 * y : 10 + 2 * y].view(np.uint8).reshape(-1)

    assert (acc[10] == 0).all() and not (acc[0] == 0).all()  # the program does what it says
    np.testing.assert_array_equal(backend.read("inp"), inp)
    np.testing.assert_array_equal(backend.read("wgt"), wgt)
    np.testing.assert_array_equal(backend.read("uop")[:7], uops)
    np.testing.assert_array_equal(backend.read("acc"), acc)
    np.testing.assert_array_equal(backend.read("out"), out)
    np.testing.assert_array_equal(backend.read("dram"), exp_dram)
    assert backend.read("done")[0] == 1
    assert backend.quiescent() and backend.dram_errors() == 0


def test_shr_reference_edge_cases() -> None:
    a = np.array([-1024, 1024, 3, -7], dtype=np.int32)
    np.testing.assert_array_equal(shr(a, np.full(4, 35)), wrap(a.astype(np.int64) << 29))
    np.testing.assert_array_equal(shr(a, np.full(4, -32)), np.zeros(4))
    np.testing.assert_array_equal(shr(a, np.full(4, 2)), a >> 2)


def independent_program() -> list[int]:
    """A long LOAD WGT, a short GEMM and a STORE with no tokens between them."""
    return [
        isa.load("WGT", 0, 0, 1, 64, 64),  # 64 beats on the load unit
        isa.gemm(0, 1),  # one iteration on the compute unit
        isa.store(0, 100, 1, 8, 8),  # 8 elements on the store unit
    ]


def test_units_run_concurrently(backend: VerilatorBackend) -> None:
    backend.load(program(independent_program()))
    retired = drain(backend)
    order = [r.index for r in retired]
    assert sorted(order) == [0, 1, 2] and order != [0, 1, 2]
    by = {r.index: r for r in retired}
    assert [by[i].unit for i in range(3)] == ["load", "compute", "store"]
    accept = {i: by[i].cycle - by[i].cycles for i in by}
    # the GEMM and the STORE both start and finish while the LOAD is in flight
    for i in (1, 2):
        assert accept[0] < accept[i] and by[i].cycle < by[0].cycle
    assert by[0].cycles >= 64


def test_serial_mode_retires_in_program_order(backend: VerilatorBackend) -> None:
    backend.set_serial_mode(True)
    backend.load(program(independent_program()))
    retired = drain(backend)
    assert [r.index for r in retired] == [0, 1, 2]
    for before, after in itertools.pairwise(retired):
        assert after.cycle - after.cycles > before.cycle  # accepted only after the previous retired


def test_a_pop_without_a_token_is_a_hang_not_a_stuck_process(backend: VerilatorBackend) -> None:
    backend.load(program([isa.gemm(0, 1), isa.gemm(0, 1, deps={"pop_prev": 1}), isa.finish()]))
    first = backend.next_retirement()
    assert first is not None and (first.index, first.unit, first.cycle) == (0, "compute", backend.cycle)
    with pytest.raises(SimulatorHang) as info:
        backend.next_retirement()
    assert info.value.pending == [1, 2] and info.value.budget == 5000
    assert not backend.quiescent()


def test_run_to_completion_matches_stepping(backend: VerilatorBackend, library: VerilatedLibrary) -> None:
    words = [*independent_program(), isa.finish()]
    backend.load(program(words))
    stepped = [(r.index, r.cycle) for r in drain(backend)]
    state = backend.read("dram"), backend.read("acc")
    other = VerilatorBackend(RTL_VTA, "vta_top", PARAMS, LAYOUT, REFINEMENT, library=library)
    try:
        other.reset()
        other.load(program(words))
        records = other.run_to_completion()
        assert [(int(r[0]), int(r[2])) for r in records] == stepped
        assert other.cycle == stepped[-1][1] or other.cycle >= max(c for _, c in stepped)
        np.testing.assert_array_equal(other.read("dram"), state[0])
        np.testing.assert_array_equal(other.read("acc"), state[1])
        assert other.read("done")[0] == 1
    finally:
        other.close()


def test_reset_clears_state_and_a_program_runs_again(backend: VerilatorBackend) -> None:
    words = [isa.gemm(0, 1), isa.alu("ADD", 0, 1, imm=5), isa.finish()]
    backend.load(program(words))
    first = drain(backend)
    assert backend.read("acc")[0].tolist() == [5] * B
    backend.reset()
    assert backend.cycle == 0 and not backend.read("acc").any() and backend.read("done")[0] == 0
    backend.load(program(words))
    assert [(r.index, r.cycle) for r in drain(backend)] == [(r.index, r.cycle) for r in first]


@pytest.mark.slow
def test_default_configuration_runs_the_conv2d_program_to_completion() -> None:
    """The real 1x16x16 machine (its build takes ~45 s once, then it is cached)."""
    from testbenches.vta.programs import conv2d

    cfg = isa.VtaConfig()
    prog = conv2d()
    params = cfg.verilog_parameters()
    layout = dict(LAYOUT)
    layout.update(
        dram=(np.uint8, prog.memories["dram"].shape),
        uop=(np.uint32, (cfg.uop_depth,)),
        inp=(np.int8, (cfg.inp_depth, cfg.block_in)),
        wgt=(np.int8, (cfg.wgt_depth, cfg.block_out * cfg.block_in)),
        acc=(np.int32, (cfg.acc_depth, cfg.block_out)),
        out=(np.int8, (cfg.acc_depth, cfg.block_out)),
    )
    be = VerilatorBackend(RTL_VTA, "vta_top", params, layout, REFINEMENT)
    try:
        be.reset()
        be.load(prog)
        records = be.run_to_completion()
        assert sorted(int(i) for i in records[:, 0]) == list(range(len(prog)))
        assert be.read("done")[0] == 1 and be.quiescent()
        for region in prog.outputs:
            ref = prog.references.get(region.name)
            if ref is not None:
                np.testing.assert_array_equal(region.view(be.read(region.memory)), ref)
    finally:
        be.close()
