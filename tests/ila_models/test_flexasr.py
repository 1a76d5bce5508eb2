"""FlexASR ILA semantics: every instruction kind, the numerics, and clear errors for bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ila_models import adaptivfloat as af
from ila_models import flexasr
from ila_models import flexasr_gb as gb
from ila_models import flexasr_isa as isa
from ila_models import flexasr_pe as pe
from ila_models.language import DecodeError
from ila_models.mmio import commands_array

MODEL = flexasr.build_model()


def run(words: list[int], state=None):
    state = MODEL.initial_state() if state is None else state
    last = None
    for cmd in commands_array(words):
        last = MODEL.step(state, cmd)
    return state, last


def gb_large_write(row: int, data) -> int:
    return isa.write(isa.gb_addr(0x00500000 + 16 * row), np.asarray(data, dtype=np.uint8))


def test_buffer_store_then_load_sets_rdata():
    data = np.arange(16, dtype=np.uint8) + 1
    words = [
        gb_large_write(7, data),
        isa.write(isa.gb_addr(0x00600000 + 16 * 3), data[::-1]),
        isa.write(isa.pe_addr(2, 0x00500000 + 16 * 9), data * 2),
        isa.write(isa.pe_addr(3, 0x00600000 + 16 * 5), data * 3),
        isa.write(isa.pe_addr(1, 0x00900000 + 16 * 31), data * 4),
    ]
    state, _ = run(words)
    assert np.array_equal(state["gb_large"][7], data)
    assert np.array_equal(state["gb_small"][3], data[::-1])
    assert np.array_equal(state["pe2_weight"][9], data * 2)
    assert np.array_equal(state["pe3_input"][5], data * 3)
    assert np.array_equal(state["pe1_act"][31], data * 4)
    for addr, want in [
        (isa.gb_addr(0x00500070), data),
        (isa.pe_addr(2, 0x00500090), data * 2),
        (isa.pe_addr(1, 0x009001F0), data * 4),
    ]:
        _, ex = run([isa.read(addr)], state)
        assert ex.instruction.name.endswith("_LOAD")
        assert np.array_equal(state["rdata"][0], want)


def test_config_write_and_read_back():
    beat = isa.pack_config("gb_control", is_valid=1, mode=2, is_rnn=1, num_vector_1=3, num_timestep_1=300)
    state, ex = run([isa.write(isa.gb_addr(0x00700010), beat), isa.read(isa.gb_addr(0x00700010))])
    assert ex.instruction.name == "READ_CONFIG_GB_CONTROL"
    assert bytes(state["rdata"][0]) == beat
    assert isa.config_fields("gb_control", state["gb_config"][2])["num_timestep_1"] == 300


def test_authors_config_beat_fields():
    # PE0 layer sizing of the clustered LSTM stream: is_valid=1 zero_first=1 cluster=1 bias=1 mngr=2 out=16
    f = isa.parse(commands_array([isa.write(0x34400010, 0x100201010101)])[0])
    assert f.region == "pe0_config_rnn_layer_sizing"
    assert isa.check_config("rnn_layer_sizing", f.data) == {
        "is_valid": 1, "is_zero_first": 1, "is_cluster": 1, "is_bias": 1, "num_manager": 2, "num_output": 16,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("addr", "data", "field"),
    [
        (0x33700010, isa.pack_config("gb_control", is_valid=1)[:1] + b"\x04" + bytes(14), "gb_control.mode"),
        (0x33800010, b"\x01\x03" + bytes(14), "layer_reduce.mode"),
        (0x34400010, b"\x01\x00\x00\x00\x03" + bytes(11), "rnn_layer_sizing.num_manager"),
        (0x34400010, b"\x01\x00\x00\x00\x00" + bytes(11), "rnn_layer_sizing.num_manager"),
        (0x34400020, b"\x00\x08" + bytes(14), "mem_mngr_first.adpfloat_bias_w"),
        (0x34800010, b"\x01\x00\x00\x21" + bytes(12), "act_mngr.num_inst"),
    ],
)
def test_invalid_config_is_a_decode_error_naming_the_field(addr, data, field):
    with pytest.raises(DecodeError) as info:
        run([isa.write(addr, data)])
    assert info.value.field == field


def test_unmapped_and_misaligned_addresses():
    with pytest.raises(DecodeError, match=r"addr='0x38000000'.*mapped by flexasr"):
        run([isa.write(0x38000000, 0)])
    with pytest.raises(DecodeError, match="aligned"):
        run([isa.write(0x33500008, 0)])
    with pytest.raises(DecodeError, match="write-only"):
        run([isa.read(isa.gb_addr(0x20))])


def test_start_without_valid_config_is_an_error():
    with pytest.raises(DecodeError) as info:
        run([isa.write(isa.gb_addr(0x20), 0)])
    assert info.value.field == "layer_reduce.is_valid"


def _reduce(mode: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    words = [
        isa.write(isa.gb_addr(0x00400010), isa.pack_config("mem_mngr_large", num_vector_0=1, base_large_0=32)),
        gb_large_write(32, a),  # timestep 0, vector 0
        gb_large_write(33, b),  # timestep 1
        isa.write(isa.gb_addr(0x00800010), isa.pack_config("layer_reduce", is_valid=1, mode=mode, num_vector_1=1, num_timestep_1=2)),
        isa.write(isa.gb_addr(0x20), 0),
    ]  # fmt: skip
    state, ex = run(words)
    assert ex.instruction.name == "START_LAYER_REDUCE"
    return state["gb_large"][32]


def test_layer_reduce_max_mean_add():
    a = af.encode(np.array([1.0, -1.0, 0.5, 0.0, 0.25, -0.125, 3.0, 0.0] * 2), 5)
    b = af.encode(np.array([0.5, -0.5, 0.5, -1.0, 0.5, -0.5, 3.5, 0.0] * 2), 5)
    assert np.array_equal(af.decode(_reduce(0, a, b), 5), [1.0, -0.5, 0.5, 0.0, 0.5, -0.125, 3.5, 0.0] * 2)
    assert np.array_equal(
        af.decode(_reduce(1, a, b), 5), [0.75, -0.75, 0.5, -0.5, 0.375, -0.3125, 3.25, 0.0] * 2
    )
    # 1 + 0.5 = 1.5; 3 + 3.5 = 6.5 = 1.625 * 4 exactly (bias 5 reaches 7.75); 3.0 + 3.0 + ... clamps below
    added = af.decode(_reduce(2, a, b), 5)
    assert added[0] == 1.5 and added[6] == 6.5 and added[3] == -1.0
    assert af.decode(_reduce(2, af.encode(np.full(16, 7.0), 5), af.encode(np.full(16, 7.0), 5)), 5)[0] == 7.75


def test_zero_padding_clears_timesteps():
    words = [
        isa.write(isa.gb_addr(0x00400010), isa.pack_config("mem_mngr_large", num_vector_0=2)),
        *[gb_large_write(r, np.full(16, 0x33)) for r in range(64)],
        isa.write(isa.gb_addr(0x00A00010), isa.pack_config("zero_padding", is_valid=1, num_vector_1=2, num_timestep_1=3, num_timestep_2=5)),
        isa.write(isa.gb_addr(0x40), 0),
    ]  # fmt: skip
    state, ex = run(words)
    zeroed = sorted(ex.written["gb_large"].tolist())
    assert zeroed == [3, 4, 19, 20]  # timesteps 3, 4 of vectors 0 and 1 (row t + 16 v)
    assert not state["gb_large"][zeroed].any() and state["gb_large"][2].all()


def test_sigmoid_tanh_piecewise_linear_points():
    one = 1 << 14
    x = np.array([0, one, -one, 2 * one, 38912, 5 * one, -5 * one, 8 * one])
    assert pe.sigmoid(x).tolist() == [8192, 12288, 4096, 14336, 15040, one, 0, one]
    assert pe.tanh(np.array([0, one // 2, -one // 2])).tolist() == [0, 8192, -8192]
    real = np.linspace(-8, 8, 2001)
    fixed = np.round(real * one).astype(np.int64)
    assert np.max(np.abs(pe.sigmoid(fixed) / one - 1 / (1 + np.exp(-real)))) < 0.02
    assert np.max(np.abs(pe.tanh(fixed) / one - np.tanh(real))) < 0.04


def test_act_ops_saturate_and_round():
    ops = {name: f for name, f in pe.ACT_OPS.values()}
    big = np.array([(1 << 19) - 1])
    assert ops["EADD"](big, big).tolist() == [(1 << 19) - 1]
    assert ops["EMUL"](np.array([-3]), np.array([1 << 13])).tolist() == [-2]  # floor(-1.5)
    assert ops["ONEX"](np.array([1 << 14]), np.array([0])).tolist() == [0]
    assert ops["RELU"](np.array([-5, 5]), np.array([0, 0])).tolist() == [0, 5]


def test_mac_and_bias_stage_exact():
    w = af.encode(np.array([[0.5] * 16] * 16), 7)  # 0.5 = 16 << (e + 7), e = 2
    x = af.encode(np.array([0.25] * 16), 6)
    acc = pe.mac(w[None], x[None])
    assert acc.shape == (1, 16) and acc[0, 0] == 16 * (16 * 16 << (2 + 2))  # e = 2 for both
    act = pe.bias_stage(acc, af.encode(np.full((1, 16), -1.0), 7), 7, 6, 7)
    assert act[0, 0] == round((16 * 0.5 * 0.25 - 1.0) * 2**14)


def test_core_output_order_and_linear_layer_numerics():
    from testbenches.flexasr.programs import linear

    program = linear(timesteps=2, in_vectors=1, out_vectors_per_pe=1, seed=3)
    state = MODEL.initial_state()
    for cmd in program.commands:
        MODEL.step(state, cmd)
    # recompute PE0's output vector at timestep 1 from its own operands, exactly
    m1 = isa.config_fields("mem_mngr_first", state["pe0_config"][1])
    w = state["pe0_weight"][:16]
    x = state["gb_large"][1]  # timestep 1, vector 0
    acc = pe.mac(w[None], x[None])[0]
    act = pe.bias_stage(
        acc,
        state["pe0_input"][m1["base_bias"]],
        m1["adpfloat_bias_w"],
        m1["adpfloat_bias_i"],
        m1["adpfloat_bias_b"],
    )
    out_base = isa.config_fields("mem_mngr_large", state["gb_config"][0])["base_large_1"]
    bias = program.provenance["output_bias"]
    assert np.array_equal(state["gb_large"][out_base + 1], af.from_fixed(act, bias))


def test_inpe_beyond_core_outputs_is_an_error():
    from testbenches.flexasr.programs import linear

    program = linear(timesteps=1, in_vectors=1, out_vectors_per_pe=1)
    words = [int.from_bytes(c.tobytes(), "little") for c in program.commands]
    start = next(i for i, c in enumerate(program.commands) if MODEL.disasm(c) == "WR START_GB_CONTROL")
    bad = isa.write(isa.pe_addr(0, 0x00800020), bytes([0x30, 0x30, 0x40]))  # two INPE, one core output
    with pytest.raises(DecodeError) as info:
        run([*words[:start], bad, words[start]])
    assert info.value.field == "pe0.act_vector.inst_1"


# -- attention -------------------------------------------------------------------------------------------
def _attention_loop(q_codes, k_codes, b1, b2, b3, b4):
    """The attention arithmetic of docs/flexasr.md, element by element on Python integers."""
    q = [int(x) for x in af.to_fixed(q_codes, b2).reshape(-1)]
    keys = [[int(x) for x in af.to_fixed(kt, b1).reshape(-1)] for kt in k_codes]
    scores = []
    for kt in keys:
        s = sum(a * b for a, b in zip(kt, q, strict=True)) >> 8
        scores.append(min(max(s, -(2**31)), 2**31 - 1))
    table = [round(2 ** (i / 16) * 2**20) for i in range(17)]
    exps = []
    for s in scores:
        y = ((s - max(scores)) * round(math.log2(math.e) * 2**20)) >> 20
        n, f = -(y >> 20), y % 2**20
        i, r = f // 2**16, f % 2**16
        frac = table[i] + (((table[i + 1] - table[i]) * r) >> 16)
        exps.append(frac >> n if n < 64 else 0)
    recip = 2**52 // sum(exps)
    w = [(e * recip) >> 32 for e in exps]
    ctx = [sum(w[t] * keys[t][j] for t in range(len(keys))) >> 20 for j in range(len(q))]
    return af.from_fixed(np.array(ctx), b4), af.from_fixed(np.array(w), b3, frac=20)


def _attention_words(q_codes, k_codes, biases, qbase=4, nt=None):
    nv = q_codes.shape[0]
    words = [
        isa.write(
            isa.gb_addr(0x00400010), isa.pack_config("mem_mngr_large", num_vector_3=nv, base_large_3=100)
        ),
        isa.write(isa.gb_addr(0x00400020), isa.pack_config("mem_mngr_small", base_small_7=qbase)),
    ]
    for t, kt in enumerate(k_codes):
        for v in range(nv):
            words.append(gb_large_write(100 + (t // 16) * 16 * nv + t % 16 + 16 * v, kt[v]))
    for v in range(nv):
        words.append(isa.write(isa.gb_addr(0x00600000 + 16 * (qbase + v)), q_codes[v]))
    b1, b2, b3, b4 = biases
    words.append(isa.write(isa.gb_addr(0x00B00010), isa.pack_config(
        "attention", is_valid=1, memory_index_1=3, memory_index_2=7, num_vector_1=nv,
        num_timestep_1=len(k_codes) if nt is None else nt, adpbias_1=b1, adpbias_2=b2, adpbias_3=b3,
        adpbias_4=b4,
    )))  # fmt: skip
    words.append(isa.write(isa.gb_addr(0x50), 0))
    return words


@pytest.mark.parametrize(("nt", "nv", "seed"), [(1, 1, 0), (5, 2, 1), (18, 3, 2), (33, 1, 3)])
def test_attention_matches_an_element_by_element_reference(nt, nv, seed):
    rng = np.random.default_rng(seed)
    q_codes = rng.integers(0, 256, (nv, 16)).astype(np.uint8)
    k_codes = rng.integers(0, 256, (nt, nv, 16)).astype(np.uint8)
    biases = tuple(int(b) for b in rng.integers(0, 8, 4))
    state, ex = run(_attention_words(q_codes, k_codes, biases))
    assert ex.instruction.name == "START_ATTENTION"
    ctx, w = _attention_loop(q_codes, k_codes, *biases)
    qbase, n_w = 4, (nt + 15) // 16
    assert np.array_equal(state["gb_small"][qbase : qbase + nv], q_codes)  # the query is kept
    assert np.array_equal(state["gb_small"][qbase + nv : qbase + 2 * nv].reshape(-1), ctx)
    weights = state["gb_small"][qbase + 2 * nv : qbase + 2 * nv + n_w].reshape(-1)
    assert np.array_equal(weights[:nt], w) and not weights[nt:].any()
    assert not state["gb_small"][qbase + 2 * nv + n_w :].any()


def test_attention_exp_is_close_to_exp():
    d = -np.arange(0, 16 * 2**20, 997, dtype=np.int64)
    got = gb.attention_exp(d) / 2**20
    want = np.exp(d / 2**20)
    assert gb.attention_exp(np.array([0]))[0] == 2**20
    assert np.all(np.abs(got - want) <= 2.5e-4 * want + 2**-19)
    assert gb.attention_exp(np.array([-(2**32)]))[0] == 0  # far below the maximum: 0


def test_attention_bad_config_is_a_clear_error():
    q = np.full((1, 16), 0x30, dtype=np.uint8)
    with pytest.raises(DecodeError) as info:
        run(_attention_words(q, np.full((2, 1, 16), 0x30, dtype=np.uint8), (0, 0, 0, 0), nt=4096))
    assert info.value.field == "attention.num_timestep_1"
    with pytest.raises(DecodeError) as info:
        run(_attention_words(q, np.full((2, 1, 16), 0x30, dtype=np.uint8), (0, 0, 0, 0), qbase=1022))
    assert info.value.field == "mem_mngr_small.base_small_7"
    with pytest.raises(DecodeError) as info:
        run([isa.write(isa.gb_addr(0x50), 0)])
    assert info.value.field == "attention.is_valid"


def test_sigmoid_table_matches_reference():
    """The table-driven sigmoid equals the shift-and-add definition (every |x| up to 12, and extremes)."""
    x = np.concatenate([np.arange(-(12 << 14), 12 << 14), [-(2**62), 2**62, np.iinfo(np.int64).min]])
    assert np.array_equal(pe.sigmoid(x), pe._sigmoid_ref(x))
    assert np.array_equal(pe.tanh(x[:-1]), 2 * pe._sigmoid_ref(2 * x[:-1]) - pe.ONE)


def test_mac_matches_product_definition():
    """mac (an integer dot product of code values) equals the per-product definition."""
    rng = np.random.default_rng(1)
    w = rng.integers(0, 256, (3, 16, 64), dtype=np.uint8)
    x = rng.integers(0, 256, (1, 64), dtype=np.uint8)
    mw, ew = pe._signed_mantissa_exponent_ref(w)
    mx, ex = pe._signed_mantissa_exponent_ref(x)
    ref = ((mw * mx[..., None, :]) << (ew + ex[..., None, :])).sum(axis=-1)
    ref = ((ref + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    assert np.array_equal(pe.mac(w, x), ref)
