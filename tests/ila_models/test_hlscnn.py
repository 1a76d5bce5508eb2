"""The HLSCNN ILA's semantics, instruction by instruction, against numpy fixed-point references."""

from __future__ import annotations

import numpy as np
import pytest

from ila_models import hlscnn_isa as isa
from ila_models import mmio
from ila_models.hlscnn import build_model, epilogue
from ila_models.hlscnn_isa import HlscnnConfig
from ila_models.language import DecodeError
from testbenches.hlscnn import reference

SMALL = HlscnnConfig(spad_entries=256)


def run(words: list[int], state=None, config: HlscnnConfig = SMALL, dram_bytes: int = 8192):
    model = build_model(config, dram_bytes)
    state = state if state is not None else model.initial_state()
    executed = [model.step(state, cmd) for cmd in mmio.commands_array(words)]
    return model, state, executed


def test_default_configuration():
    model = build_model()
    shapes = {name: v.shape for name, v in model.state_vars.items()}
    assert shapes == {"dram": (65536,), "cfg": (30,), "spad0": (8192, 16), "spad1": (8192, 8)}
    assert model.state_vars["spad1"].dtype == np.int16
    assert HlscnnConfig().weight_bits == 16
    assert HlscnnConfig().spad1_offset == 0x24000  # the master branch's SPAD1 base


def test_config_write_stores_the_aligned_32_bit_slice():
    _, state, ex = run([isa.cfg_write("AccelConvWeightsBaseAddr", 0x12345678)])
    assert state["cfg"][19] == 0x12345678
    assert ex[0].instruction.name == "CFG_WR"
    # register 13 sits at byte offset 4 of its beat: the other bytes of the beat are ignored
    addr = isa.BASE + 4 * 13
    _, state, _ = run([mmio.write(addr, (0xDEADBEEF << 32) | 0xFFFFFFFF | (0xAB << 64))])
    assert state["cfg"][13] == 0xDEADBEEF


def test_field_layouts_match_the_public_model():
    assert isa.register_value("AccelConvInputSizeConfig", cols=5, rows=7, chans=9) == 5 | 7 << 10 | 9 << 20
    assert isa.register_value("AccelConvKernelSizeConfig", cols=3, rows=3, c_stride=2, r_stride=1) == (
        3 | 3 << 8 | 2 << 16 | 1 << 19
    )
    ch = isa.register_value("AccelConvChannelConfig", chan_bias=-1, enable_bias=1, enable_relu=1,
                            enable_accum=1, kernel_num=16, enable_wb=1)  # fmt: skip
    assert ch == 0xFFFF | 1 << 16 | 1 << 17 | 1 << 18 | 16 << 19 | 1 << 27


@pytest.mark.parametrize("reg", [0, 3, 7, 11, 30, 100])
def test_unknown_register_is_a_decode_error_naming_it(reg):
    with pytest.raises(DecodeError, match=rf"reg_id={reg}: expected a register HLSCNN implements"):
        run([mmio.write(isa.BASE + 4 * reg, 1)])


def test_malformed_commands_are_decode_errors():
    with pytest.raises(DecodeError, match="addr='0x32000002'"):
        run([mmio.write(isa.BASE + 2, 1)])
    with pytest.raises(DecodeError, match="rd=1: expected a write"):
        run([mmio.read(isa.BASE + 16)])
    with pytest.raises(DecodeError, match="addr='0x33000000': expected an address mapped by hlscnn"):
        run([mmio.write(0x33000000, 1)])
    with pytest.raises(DecodeError, match="wr/rd"):
        run([isa.cfg_write("SocMemBaseAddr", 0) | 1 << 161])


def _transfer_setup(base: int, length: int) -> list[int]:
    return [isa.cfg_write("SocMemBaseAddr", base), isa.cfg_write("SocMemRdWrLength", length)]


def test_spad_write_copies_beats_from_soc_memory_and_read_copies_back():
    model = build_model(SMALL, 8192)
    state = model.initial_state()
    state["dram"][:] = np.arange(8192, dtype=np.uint64).astype(np.uint8)
    words = [*_transfer_setup(0x100, 3), isa.spad_write(SMALL, 0, 10), isa.spad_write(SMALL, 1, 20)]
    _, state, ex = run(words, state)
    expected = state["dram"][0x100:0x130].reshape(3, 16)
    assert (state["spad0"][10:13] == expected).all() and not state["spad0"][13].any()
    assert (state["spad1"][20:23].view(np.uint8) == expected).all()
    assert [e.instruction.name for e in ex[2:]] == ["SPAD0_DATA_WR", "SPAD1_DATA_WR"]
    state["spad1"][20] = np.arange(-4, 4)
    _, state, ex = run([*_transfer_setup(0x1000, 1), isa.spad_read(SMALL, 1, 20)], state)
    assert (state["dram"][0x1000:0x1010].view(np.int16) == np.arange(-4, 4)).all()
    assert ex[-1].instruction.name == "SPAD1_DATA_RD" and list(ex[-1].written["dram"]) == list(range(0x1000, 0x1010))


def test_transfer_overflowing_a_scratchpad_is_a_decode_error_and_writes_nothing():
    model = build_model(SMALL, 8192)
    state = model.initial_state()
    state["dram"][:] = 7
    with pytest.raises(DecodeError, match=r"SocMemRdWrLength=4: .* scratchpad entries .* reach 257"):
        run([*_transfer_setup(0, 4), isa.spad_write(SMALL, 0, 254)], state)
    assert not state["spad0"].any()
    with pytest.raises(DecodeError, match="SocMemBaseAddr=8: expected a 16-byte aligned"):
        run([*_transfer_setup(8, 1), isa.spad_write(SMALL, 0, 0)])
    with pytest.raises(DecodeError, match="SocMemRdWrLength=0"):
        run([*_transfer_setup(0, 0), isa.spad_write(SMALL, 0, 0)])


def test_virtual_memory_write():
    data = bytes(range(16))
    _, state, ex = run([isa.vir_mem_write(0x40, data)])
    assert state["dram"][0x40:0x50].tobytes() == data and ex[0].instruction.name == "VIR_MEM_WR"
    with pytest.raises(DecodeError, match="addr="):
        run([isa.vir_mem_write(8192, data)])


def test_epilogue_rounds_half_up_and_saturates():
    # psum has 16 fractional bits, outputs 7: 1 LSB of output = 512 psum units
    psum = np.array([255, 256, 511, -256, -257, 1 << 30, -(1 << 30)])
    assert list(epilogue(psum, None, None, "none", 0)) == [0, 1, 1, 0, -1, 32767, -32768]
    assert list(epilogue(np.array([-5000, 5000]), None, None, "relu", 0)) == [0, 10]
    assert list(epilogue(np.array([5000 * 512]), None, None, "relu_threshold", 384)) == [384]
    # accumulate and bias are added in the psum format; the sum wraps at 32 bits
    assert list(epilogue(np.array([512]), np.array([3]), -2, "none", 0)) == [2]
    assert list(epilogue(np.array([(1 << 31) - 1]), None, 1, "none", 0)) == [-32768]


def _conv_state(config, rng, chans, rows, cols, filters, kh, kw, dram_bytes=1 << 15):
    """State with random activations at dram 0 and weights at spad0 entry 0; returns (state, x, w16)."""
    model = build_model(config, dram_bytes)
    state = model.initial_state()
    cb = -(-chans // 8)
    x = rng.integers(-3000, 3000, size=(cb * 8, rows, cols))
    # lanes past `chans` hold garbage the engine must ignore
    blocked = np.ascontiguousarray(x.reshape(cb, 8, rows, cols).transpose(0, 2, 3, 1).astype("<i2"))
    state["dram"][: x.size * 2] = blocked.view(np.uint8).reshape(-1)
    wbits = config.weight_bits
    w = rng.integers(-(1 << (wbits - 1)), 1 << (wbits - 1), size=(filters, cb * 8, kh, kw))
    vec = w.reshape(filters, cb, 8, kh, kw).transpose(0, 1, 3, 4, 2).reshape(-1)
    raw = vec.astype("<i2" if wbits == 16 else np.int8).view(np.uint8)
    state["spad0"].reshape(-1)[: raw.size] = raw
    w16 = (w << 8 if wbits == 8 else w)[:, :chans]
    return state, x[:chans], w16


def _conv_words(chans, rows, cols, filters, kh, kw, rs, cs, bias=0, en_bias=0, relu=0, accum=0, wb=1, out_base=0):
    orow, ocol = (rows - kh) // rs + 1, (cols - kw) // cs + 1
    return [
        isa.cfg_write("AccelConvActivationBaseAddr", 0),
        isa.cfg_write("AccelConvWeightsBaseAddr", 0),
        isa.cfg_write("AccelConvOutputsBaseAddr", out_base),
        isa.cfg_write("AccelConvInputSizeConfig", cols=cols, rows=rows, chans=chans),
        isa.cfg_write("AccelConvOutputSizeConfig", cols=ocol, rows=orow, chans=filters),
        isa.cfg_write("AccelConvKernelSizeConfig", cols=kw, rows=kh, c_stride=cs, r_stride=rs),
        isa.cfg_write("AccelConvChannelConfig", chan_bias=bias, enable_bias=en_bias, enable_relu=relu,
                      enable_accum=accum, kernel_num=filters, enable_wb=wb),
        isa.trigger("AccelConvTrigger"),
    ]


def _outputs(state, filters, orow, ocol, out_base=0):
    ob = -(-filters // 8)
    block = state["spad1"][out_base : out_base + ob * orow * ocol].reshape(ob, orow, ocol, 8)
    return block.transpose(0, 3, 1, 2).reshape(ob * 8, orow, ocol)[:filters]


@pytest.mark.parametrize(
    "chans, rows, cols, filters, kh, kw, rs, cs, wbits",
    [
        (8, 5, 5, 8, 3, 3, 1, 1, 16),
        (13, 7, 6, 10, 3, 2, 2, 1, 16),
        (20, 9, 9, 5, 5, 5, 2, 3, 16),
        (16, 4, 4, 17, 1, 1, 1, 1, 16),
        (11, 6, 6, 9, 3, 3, 1, 2, 8),
    ],
)
def test_conv_matches_the_fixed_point_reference(chans, rows, cols, filters, kh, kw, rs, cs, wbits):
    config = HlscnnConfig(weight_bits=wbits, spad_entries=1024)
    rng = np.random.default_rng(chans * 100 + filters)
    state, x, w16 = _conv_state(config, rng, chans, rows, cols, filters, kh, kw)
    words = _conv_words(chans, rows, cols, filters, kh, kw, rs, cs, bias=-77, en_bias=1, relu=1)
    _, state, ex = run(words, state, config, 1 << 15)
    expected = reference.conv2d(x, w16, (rs, cs), bias=-77, relu=True)
    orow, ocol = expected.shape[1:]
    assert (_outputs(state, filters, orow, ocol) == expected).all()
    assert ex[-1].instruction.name == "CONV_TRIGGER" and set(ex[-1].written) == {"spad1"}
    # lanes past the last filter are untouched
    ob = -(-filters // 8)
    rest = state["spad1"][: ob * orow * ocol].reshape(ob, orow, ocol, 8)[-1, :, :, filters % 8 or 8 :]
    assert not rest.any()


def test_conv_accumulates_into_earlier_outputs_and_respects_write_back():
    config = HlscnnConfig(spad_entries=512)
    rng = np.random.default_rng(5)
    state, x, w16 = _conv_state(config, rng, 8, 6, 6, 8, 3, 3)
    earlier = rng.integers(-2000, 2000, size=(16, 8))
    state["spad1"][:16] = earlier
    _, state, ex = run(_conv_words(8, 6, 6, 8, 3, 3, 1, 1, wb=0, accum=1), state, config, 1 << 15)
    assert (state["spad1"][:16] == earlier).all() and ex[-1].written == {}
    _, state, _ = run(_conv_words(8, 6, 6, 8, 3, 3, 1, 1, accum=1), state, config, 1 << 15)
    old = earlier.reshape(1, 4, 4, 8).transpose(0, 3, 1, 2).reshape(8, 4, 4)
    assert (_outputs(state, 8, 4, 4) == reference.conv2d(x, w16, (1, 1), earlier=old)).all()


def test_conv_sizes_that_overflow_are_decode_errors_naming_the_field():
    config = HlscnnConfig(spad_entries=64)
    state = build_model(config, 1 << 14).initial_state()
    # 16 filters x 5x5 outputs = 50 output entries from 20: past spad1's 64
    with pytest.raises(DecodeError, match=r"AccelConvOutputsBaseAddr=20: .* output entries of spad1 .* reach 69"):
        run(_conv_words(8, 5, 5, 16, 1, 1, 1, 1, out_base=20), state, config, 1 << 14)
    # 16 filters x 2 blocks x 9 taps = 288 weight entries
    with pytest.raises(DecodeError, match=r"AccelConvWeightsBaseAddr=0: .* weight entries of spad0"):
        run(_conv_words(16, 5, 5, 16, 3, 3, 1, 1), state, config, 1 << 14)
    with pytest.raises(DecodeError, match=r"AccelConvActivationBaseAddr=0: .* activation bytes"):
        run(_conv_words(8, 40, 40, 1, 1, 1, 1, 1), state, config, 1 << 14)
    bad = _conv_words(8, 5, 5, 8, 3, 3, 1, 1)
    bad[4] = isa.cfg_write("AccelConvOutputSizeConfig", cols=3, rows=2, chans=8)
    with pytest.raises(DecodeError, match=r"AccelConvOutputSizeConfig.rows=2: .* = 3"):
        run(bad, state, config, 1 << 14)
    bad[4] = isa.cfg_write("AccelConvOutputSizeConfig", cols=3, rows=3, chans=9)
    with pytest.raises(DecodeError, match=r"AccelConvOutputSizeConfig.chans=9: expected the filter count"):
        run(bad, state, config, 1 << 14)
    zero_stride = _conv_words(8, 5, 5, 8, 3, 3, 1, 1)
    zero_stride[5] = isa.cfg_write("AccelConvKernelSizeConfig", cols=3, rows=3, c_stride=0, r_stride=1)
    with pytest.raises(DecodeError, match=r"AccelConvKernelSizeConfig\.c_stride=0"):
        run(zero_stride, state, config, 1 << 14)
    assert not state["spad1"].any()


def test_fc_is_a_1x1_conv_with_bias_and_thresholded_relu():
    config = HlscnnConfig(spad_entries=256)
    rng = np.random.default_rng(9)
    batch, n_in, n_out = 3, 20, 12
    state, x, w16 = _conv_state(config, rng, n_in, batch, 1, n_out, 1, 1)
    words = [
        isa.cfg_write("AccelFCActivationBase", 0), isa.cfg_write("AccelFCWeightsBase", 0),
        isa.cfg_write("AccelConvOutputsBaseAddr", 0), isa.cfg_write("AccelConvChannelConfig", chan_bias=40),
        isa.cfg_write("AccelFCSizeConfig", cols=n_in, rows=n_out, batch_m1=batch - 1),
        isa.cfg_write("AccelBiasActivationConfig", act_func=2, do_bias=1, relu_threshold=300),
        isa.trigger("AccelStartFlagReg"),
    ]  # fmt: skip
    _, state, ex = run(words, state, config, 1 << 15)
    expected = reference.conv2d(x, w16, (1, 1), bias=40, relu=True, threshold=300)
    assert (_outputs(state, n_out, batch, 1) == expected).all()
    assert expected.max() == 300 and expected.min() == 0  # both clips are exercised
    assert ex[-1].instruction.name == "FC_TRIGGER"
    words[5] = isa.cfg_write("AccelBiasActivationConfig", act_func=3)
    with pytest.raises(DecodeError, match=r"AccelBiasActivationConfig\.act_func=3"):
        run(words, state, config, 1 << 15)


def test_reduction_sums_entries_lane_wise_with_bias_and_saturates():
    model = build_model(SMALL, 4096)
    state = model.initial_state()
    rng = np.random.default_rng(2)
    entries = rng.integers(-9000, 9000, size=(10, 8)).astype(np.int16)
    entries[:, 0] = 30000  # lane 0 saturates
    state["spad1"][40:50] = entries
    words = [
        isa.cfg_write("AccelReductionInBase", 40), isa.cfg_write("AccelReductionOutBase", 3),
        isa.cfg_write("AccelReductionInputSize", count=10), isa.cfg_write("AccelReductionBias", bias=-5),
        isa.trigger("AccelReductionTrigger"),
    ]  # fmt: skip
    _, state, ex = run(words, state)
    expected = np.clip(entries.astype(np.int64).sum(axis=0) - 5, -32768, 32767)
    assert (state["spad1"][3] == expected).all() and expected[0] == 32767
    assert (state["spad1"][3] == reference.reduction(entries, -5)).all()
    assert ex[-1].instruction.name == "REDUCTION_TRIGGER"
    words[2] = isa.cfg_write("AccelReductionInputSize", count=300)
    with pytest.raises(DecodeError, match=r"AccelReductionInBase=40: .* input entries of spad1"):
        run(words, state)


def test_disassembly_is_readable():
    model = build_model(SMALL)
    cmd = mmio.commands_array([isa.cfg_write("AccelConvKernelSizeConfig", cols=3, rows=3, c_stride=1, r_stride=2)])
    assert model.disasm(cmd[0]) == "CFG_WR AccelConvKernelSizeConfig cols=3 rows=3 c_stride=1 r_stride=2"
    assert model.disasm(mmio.commands_array([isa.spad_write(SMALL, 1, 7)])[0]) == "SPAD1_DATA_WR entry 7"
    assert "undecodable" in model.disasm(mmio.commands_array([mmio.write(isa.BASE, 0)])[0])
