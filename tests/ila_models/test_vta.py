"""The VTA ILA's semantics against straightforward numpy/loop references, opcode by opcode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ila_models import vta_isa as isa
from ila_models.language import DecodeError, OrderViolation
from ila_models.vta import build_model

SMALL = isa.VtaConfig(block_in=4, block_out=4, uop_depth=64, inp_depth=64, wgt_depth=32, acc_depth=64)


def run(words: list[int], state=None, config=SMALL, dram_bytes=4096):
    model = build_model(config, dram_bytes)
    state = state if state is not None else model.initial_state()
    for cmd in isa.commands_array(words):
        model.step(state, cmd)
    return model, state


def test_default_configuration_is_the_real_vta():
    model = build_model()
    shapes = {name: v.shape for name, v in model.state_vars.items()}
    assert shapes["uop"] == (8192,)
    assert shapes["inp"] == (2048, 16)
    assert shapes["wgt"] == (1024, 256)
    assert shapes["acc"] == (2048, 16)
    assert model.state_vars["acc"].dtype == np.int32
    assert model.state_vars["inp"].dtype == np.int8


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_layout_round_trips(data):
    for layout in (isa.MEM_LAYOUT, isa.GEMM_LAYOUT, isa.ALU_LAYOUT, isa.UOP_LAYOUT):
        values = {
            name: data.draw(st.integers(*f.value_range()), label=f"{layout.name}.{name}")
            for name, f in layout.fields.items()
        }
        assert layout.unpack(layout.pack(**values)) == values


def test_field_positions_match_the_reference_table():
    # GEMM word 1: dst_factor_out [74:64] ... wgt_factor_in [127:118]; ALU imm [127:112]
    word = isa.gemm(0, 1, dst=(1, 0), wgt=(0, 1))
    assert (word >> 64) & 0x7FF == 1 and word >> 118 == 1
    assert isa.alu("ADD", 0, 1, imm=-1) >> 112 == 0xFFFF
    assert isa.load("INP", 0, 0, 1, 1, 1, pads=(0, 0, 0, 0xF)) >> 124 == 0xF
    assert isa.uop(0, 0, 1) == 1 << 22


def test_field_too_wide_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"VTAMemInsn.y_pad_0=16 does not fit its 4-bit field"):
        isa.load("INP", 0, 0, 1, 1, 1, pads=(16, 0, 0, 0))


def _dram_with(model_bytes: int, offset: int, data: np.ndarray) -> np.ndarray:
    dram = np.zeros(model_bytes, dtype=np.uint8)
    raw = data.view(np.uint8).reshape(-1)
    dram[offset : offset + raw.size] = raw
    return dram


def test_load_inp_with_padding_on_all_four_sides():
    rng = np.random.default_rng(1)
    src = rng.integers(-128, 128, size=(6, 8, 4), dtype=np.int8)  # a 6x8 grid of 4-lane elements
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["dram"][:] = _dram_with(4096, 0, src)
    # the 3x2 tile at (1, 2), stride 8, pads y0=1 y1=2 x0=1 x1=3
    word = isa.load("INP", 5, 1 * 8 + 2, 3, 2, 8, pads=(1, 2, 1, 3))
    model.step(state, isa.commands_array([word])[0])
    expected = np.zeros((1 + 3 + 2, 1 + 2 + 3, 4), dtype=np.int8)
    expected[1:4, 1:3] = src[1:4, 2:4]
    assert np.array_equal(state["inp"][5 : 5 + 36], expected.reshape(36, 4))
    assert not state["inp"][:5].any() and not state["inp"][41:].any()


def test_load_acc_wgt_uop_element_sizes():
    rng = np.random.default_rng(2)
    acc = rng.integers(-(2**31), 2**31, size=(3, 4), dtype=np.int32)
    wgt = rng.integers(-128, 128, size=(2, 16), dtype=np.int8)
    uops = np.array([isa.uop(1, 2, 3), isa.uop(4, 5, 6)], dtype=np.uint32)
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["dram"][0:48] = acc.view(np.uint8).reshape(-1)
    state["dram"][256:288] = wgt.view(np.uint8).reshape(-1)
    state["dram"][512:520] = uops.view(np.uint8)
    words = [
        isa.load("ACC", 10, 0, 1, 3, 3),  # acc elements are 16 bytes here (4 x int32)
        isa.load("WGT", 7, 256 // 16, 1, 2, 2),
        isa.load("UOP", 3, 512 // 4, 1, 2, 2),
    ]
    for cmd in isa.commands_array(words):
        model.step(state, cmd)
    assert np.array_equal(state["acc"][10:13], acc)
    assert np.array_equal(state["wgt"][7:9], wgt)
    assert list(state["uop"][3:5]) == list(uops)


def test_load_with_zero_x_size_writes_nothing():
    _, state = run([isa.load("INP", 0, 0, 4, 0, 4, pads=(1, 1, 1, 1))])
    assert not state["inp"].any()


def _gemm_reference(state, f, cfg):
    """Per-iteration loop, straight from docs/vta.md."""
    acc = state["acc"].astype(np.int64).copy()
    for o in range(f["iter_out"]):
        for i in range(f["iter_in"]):
            for u in range(f["uop_bgn"], f["uop_end"]):
                word = int(state["uop"][u])
                a = (word & 0x7FF) + o * f["dst"][0] + i * f["dst"][1]
                x = ((word >> 11) & 0x7FF) + o * f["src"][0] + i * f["src"][1]
                w = (word >> 22) + o * f["wgt"][0] + i * f["wgt"][1]
                if f["reset"]:
                    acc[a] = 0
                    continue
                wm = state["wgt"][w].astype(np.int64).reshape(cfg.block_out, cfg.block_in)
                acc[a] += wm @ state["inp"][x].astype(np.int64)
    return ((acc + 2**31) % 2**32 - 2**31).astype(np.int32)


@pytest.mark.parametrize("reset", [False, True])
def test_gemm_two_loop_levels_against_loop_reference(reset):
    rng = np.random.default_rng(3)
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["inp"][:] = rng.integers(-128, 128, size=state["inp"].shape)
    state["wgt"][:] = rng.integers(-128, 128, size=state["wgt"].shape)
    state["acc"][:] = rng.integers(-(2**31), 2**31, size=state["acc"].shape)
    state["uop"][:3] = [isa.uop(0, 1, 2), isa.uop(1, 3, 0), isa.uop(0, 2, 1)]  # dst 0 twice: accumulates twice
    f = {"iter_out": 3, "iter_in": 2, "uop_bgn": 0, "uop_end": 3, "dst": (4, 2), "src": (5, 1), "wgt": (3, 1)}
    expected = _gemm_reference(state, {**f, "reset": reset}, SMALL)
    word = isa.gemm(0, 3, 3, 2, dst=(4, 2), src=(5, 1), wgt=(3, 1), reset=reset)
    model.step(state, isa.commands_array([word])[0])
    assert np.array_equal(state["acc"], expected)
    written = np.unique([a + o * 4 + i * 2 for o in range(3) for i in range(2) for a in (0, 1)])
    assert np.array_equal(state["out"][written], expected[written].astype(np.int8))


def test_gemm_accumulation_wraps_int32():
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["acc"][0] = 2**31 - 1
    state["inp"][0] = 1
    state["wgt"][0] = 0
    state["wgt"][0][0] = 1  # output 0 gets +1 from lane 0
    model.step(state, isa.commands_array([isa.gemm(0, 1)])[0])
    assert state["acc"][0][0] == -(2**31)
    assert state["out"][0][0] == 0  # low 8 bits of 0x80000000


def _alu_reference(acc, uops, f):
    acc = acc.astype(np.int64).copy()
    for o in range(f["iter_out"]):
        for i in range(f["iter_in"]):
            for word in uops:
                d = (word & 0x7FF) + o * f["dst"][0] + i * f["dst"][1]
                s = ((word >> 11) & 0x7FF) + o * f["src"][0] + i * f["src"][1]
                b = np.full(acc.shape[1], f["imm"], dtype=np.int64) if f["imm"] is not None else acc[s].copy()
                a = acc[d]
                op = f["op"]
                if op == "MIN":
                    r = np.minimum(a, b)
                elif op == "MAX":
                    r = np.maximum(a, b)
                elif op == "ADD":
                    r = a + b
                elif op == "MUL":
                    r = a * b
                else:  # SHR, per element
                    r = np.empty_like(a)
                    for k in range(a.size):
                        sh = int(b[k]) & 0x3F
                        sh = sh - 64 if sh >= 32 else sh
                        r[k] = (int(a[k]) >> sh) if sh >= 0 else (int(a[k]) << -sh)
                acc[d] = (r + 2**31) % 2**32 - 2**31
    return acc.astype(np.int32)


@pytest.mark.parametrize("op", ["MIN", "MAX", "ADD", "SHR", "MUL"])
@pytest.mark.parametrize("imm", [None, 3, -5])
def test_alu_ops_with_and_without_immediate(op, imm):
    rng = np.random.default_rng(4)
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["acc"][:] = rng.integers(-(2**31), 2**31, size=state["acc"].shape)
    if op == "SHR" and imm is None:
        state["acc"][32:] = rng.integers(-40, 40, size=(32, 4))  # shift amounts, both signs
    # overlapping rows: dst 1 is read as src by a later iteration, dst 2 is written twice
    uops = [isa.uop(1, 32), isa.uop(2, 1), isa.uop(2, 33), isa.uop(3, 34)]
    state["uop"][: len(uops)] = uops
    f = {"iter_out": 2, "iter_in": 2, "dst": (8, 4), "src": (0, 1), "imm": imm, "op": op}
    expected = _alu_reference(state["acc"], uops, f)
    word = isa.alu(op, 0, len(uops), 2, 2, dst=(8, 4), src=(0, 1), imm=imm)
    model.step(state, isa.commands_array([word])[0])
    assert np.array_equal(state["acc"], expected)


def test_alu_saturation_free_wrapping_and_shift_extremes():
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["uop"][0] = isa.uop(0, 0)
    state["acc"][0] = [2**31 - 1, -(2**31), -8, 5]
    model.step(state, isa.commands_array([isa.alu("ADD", 0, 1, imm=1)])[0])
    assert list(state["acc"][0]) == [-(2**31), -(2**31) + 1, -7, 6]
    state["acc"][0] = [-8, 8, 1, -1]
    model.step(state, isa.commands_array([isa.alu("SHR", 0, 1, imm=31)])[0])
    assert list(state["acc"][0]) == [-1, 0, 0, -1]
    state["acc"][0] = [1, 3, -1, 7]
    model.step(state, isa.commands_array([isa.alu("SHR", 0, 1, imm=-32)])[0])  # shift left by 32
    assert list(state["acc"][0]) == [0, 0, 0, 0]
    state["acc"][0] = [1, 3, -1, 7]
    model.step(state, isa.commands_array([isa.alu("SHR", 0, 1, imm=-4)])[0])
    assert list(state["acc"][0]) == [16, 48, -16, 112]


def test_store_writes_low_byte_of_out_with_stride():
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["uop"][0] = isa.uop(0, 0)
    state["acc"][0:4] = np.arange(16, dtype=np.int32).reshape(4, 4) * 100 - 500
    # an ALU op makes acc visible in out
    words = [isa.alu("ADD", 0, 1, iter_out=4, dst=(1, 0), src=(1, 0), imm=0), isa.store(0, 3, 2, 2, 5)]
    for cmd in isa.commands_array(words):
        model.step(state, cmd)
    out_bytes = (np.arange(16, dtype=np.int32) * 100 - 500).astype(np.int8).reshape(4, 4)
    dram = state["dram"].view(np.int8)
    for y in range(2):
        for x in range(2):
            addr = (3 + y * 5 + x) * 4
            assert np.array_equal(dram[addr : addr + 4], out_bytes[y * 2 + x])
    assert np.count_nonzero(state["dram"]) == np.count_nonzero(out_bytes)


def test_finish_sets_done():
    _, state = run([isa.finish()])
    assert state["done"][0] == 1


def test_dependency_tokens_count_and_order():
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    words = [
        isa.load("INP", 0, 0, 1, 1, 1, deps={"push_next": 1}),  # l2c += 1
        isa.gemm(0, 0, deps={"pop_prev": 1, "push_next": 1}),  # l2c -= 1, c2s += 1
        isa.store(0, 0, 1, 1, 1, deps={"pop_prev": 1, "push_prev": 1}),  # c2s -= 1, s2c += 1
    ]
    for cmd in isa.commands_array(words):
        model.step(state, cmd)
    assert list(state["tokens"]) == [0, 0, 0, 1]
    with pytest.raises(OrderViolation, match="compute pops a l2c token"):
        model.step(state, isa.commands_array([isa.gemm(0, 0, deps={"pop_prev": 1})])[0])


def test_a_token_bit_the_unit_lacks_is_a_decode_error():
    with pytest.raises(DecodeError, match="pop_prev=1: expected 0: the load unit has no prev neighbour"):
        run([isa.load("INP", 0, 0, 1, 1, 1, deps={"pop_prev": 1})])
    with pytest.raises(DecodeError, match="push_next"):
        run([isa.store(0, 0, 1, 1, 1, deps={"push_next": 1})])


@pytest.mark.parametrize(
    "word, message",
    [
        (7, r"opcode=7: expected LOAD 0, STORE 1, GEMM 2, FINISH 3 or ALU 4"),
        (isa.MEM_LAYOUT.pack(opcode=0, memory_type=4, x_size=1, y_size=1), r"memory_type=4: expected UOP 0"),
        (isa.MEM_LAYOUT.pack(opcode=1, memory_type=2, x_size=1, y_size=1), r"memory_type=2: expected OUT 4"),
        (isa.ALU_LAYOUT.pack(opcode=4, alu_opcode=6), r"alu_opcode=6: expected MIN 0"),
        (isa.load("INP", 63, 0, 1, 2, 2), r"sram_base=63: expected every index inside the inp buffer \(0..63\), but it reaches 64"),
        (isa.load("WGT", 0, 256, 1, 1, 1), r"dram_base=256: expected every index inside DRAM bytes \(0..4095\), but it reaches 4111"),
        (isa.store(0, 0, 1, 1, 1) | (1 << 112), r"y_pad_0=1: expected 0: STORE does not pad"),
        (isa.gemm(5, 4), r"uop_end=4: expected >= uop_bgn \(5\)"),
        (isa.gemm(60, 65), r"uop_end=65: expected every index inside the uop buffer \(0..63\), but it reaches 64"),
        (isa.gemm(0, 1, iter_out=70, dst=(1, 0)), r"dst index=69: expected every index inside the acc buffer"),
    ],
)
def test_malformed_instructions_are_decode_errors_naming_the_field(word, message):
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    state["uop"][:] = isa.uop(0, 0, 0)
    before = {k: v.copy() for k, v in state.items()}
    with pytest.raises(DecodeError, match=message):
        model.step(state, isa.commands_array([word])[0])
    assert all(np.array_equal(before[k], state[k]) for k in state), "a failed instruction wrote state"


def test_write_set_of_each_instruction_is_declared():
    model = build_model(SMALL, 4096)
    sets = {ins.name: set(ins.write_set) for ins in model.instructions}
    assert sets["GEMM"] == {"acc", "out", "tokens"}
    assert sets["STORE"] == {"dram", "tokens"}
    assert sets["LOAD_INP"] == {"inp", "tokens"}
    assert {n for n in sets if n.startswith("ALU_")} == {f"ALU_{op}" for op in isa.ALU_OPS}


def test_disassembly():
    text = [isa.disasm(isa.parse(c)) for c in isa.commands_array([isa.alu("SHR", 0, 4, imm=8), isa.finish()])]
    assert text == ["ALU SHR imm=8 uop=[0,4) iter=(1,1) dst=(0,0) src=(0,0)", "FINISH"]
