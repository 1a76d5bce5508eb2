"""AdaptivFloat8 against a float reference: all 256 codes x 8 biases, and the 3LA quantizer."""

from __future__ import annotations

import numpy as np
import pytest

from ila_models import adaptivfloat as af

CODES = np.arange(256, dtype=np.uint8)


def reference_value(code: int, bias: int) -> float:
    """The format's definition, written independently: (-1)^s (1 + m/16) 2^(e + bias - 10), 0 for e=m=0."""
    s, e, m = code >> 7, (code >> 4) & 7, code & 15
    if e == 0 and m == 0:
        return 0.0
    return (-1.0) ** s * (1 + m / 16) * 2.0 ** (e + bias - 10)


def reference_quantize(x: np.ndarray, bias: int) -> np.ndarray:
    """The 3LA driver's quantize_floatext with its exponent bias fixed (bias - 10), in float."""
    min_exp, max_exp = bias - 10, 7 + bias - 10
    min_value, max_value = 2.0**min_exp * (1 + 2.0**-4), 2.0**max_exp * (2 - 2.0**-4)
    sign, a = np.sign(x), np.abs(x)
    a = np.where(a < 0.5 * min_value, 0.0, np.where(a < min_value, min_value, a))
    a = np.minimum(a, max_value)
    e = np.floor(np.log2(np.where(a > 0, a, 1.0)))
    return sign * np.round(a / 2.0**e * 16) / 16 * 2.0**e


@pytest.mark.parametrize("bias", range(8))
def test_decode_every_code(bias):
    want = np.array([reference_value(int(c), bias) for c in CODES])
    assert np.array_equal(af.decode(CODES, bias), want)
    assert np.array_equal(af.to_fixed(CODES, bias), want * 2**14)  # exact in 14 fractional bits


@pytest.mark.parametrize("bias", range(8))
def test_encode_round_trips_every_code(bias):
    canonical = np.where((CODES & 0x7F) == 0, 0, CODES)  # -0 (0x80) encodes as 0x00
    assert np.array_equal(af.encode(af.decode(CODES, bias), bias), canonical)
    assert np.array_equal(af.from_fixed(af.to_fixed(CODES, bias), bias), canonical)


@pytest.mark.parametrize("bias", range(8))
def test_encode_matches_the_quantizer_between_codes(bias):
    values = np.sort(np.unique(af.decode(CODES, bias)))
    mids = (values[:-1] + values[1:]) / 2  # every tie
    grid = np.concatenate(
        [values, mids, mids * (1 + 1e-9), mids * (1 - 1e-9), [values[-1] * 3, -values[-1] * 3]]
    )
    got = af.decode(af.encode(grid, bias), bias)
    assert np.array_equal(got, reference_quantize(grid, bias))


def test_rounding_and_clamping_examples():
    # bias 2: min 17/16 * 2^-8, max 31/16 * 2^-1
    assert af.encode(np.array([1.0]), 2)[0] == 0x7F  # clamps to max, never overflows
    assert af.encode(np.array([-1.0]), 2)[0] == 0xFF
    assert af.encode(np.array([2.0**-8 * 17 / 32 * 0.99]), 2)[0] == 0x00  # below min/2 -> 0
    assert af.encode(np.array([2.0**-8 * 17 / 32]), 2)[0] == 0x01  # min/2 -> min
    assert af.encode(np.array([-1e-9]), 2)[0] == 0x00  # never -0
    # 1 + 1/32 is a tie between mantissas 0 and 1: ties to even (0) ; 1 + 3/32 -> 2
    assert af.encode(np.array([2.0**-3 * (1 + 1 / 32)]), 0)[0] == 0x70
    assert af.encode(np.array([2.0**-3 * (1 + 3 / 32)]), 0)[0] == 0x72


def test_bias_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="bias=8"):
        af.decode(CODES, 8)


# -- the lookup tables and thresholds agree with the reference definitions ------------------------------
@pytest.mark.parametrize("bias", range(8))
def test_tables_match_reference(bias):
    codes = af.CODES
    assert np.array_equal(af.decode(codes, bias), af._decode_ref(codes, bias))
    for frac in (14 - bias, 14, 15, 20):
        assert np.array_equal(af.to_fixed(codes, bias, frac), af._to_fixed_ref(codes, bias, frac))
    if bias < 7:
        with pytest.raises(ValueError):
            af.to_fixed(codes, bias, 13 - bias)
    zeros = np.array([0, 0x80], dtype=np.uint8)
    assert np.array_equal(af.to_fixed(zeros, bias, 0), af._to_fixed_ref(zeros, bias, 0))


@pytest.mark.parametrize("bias", range(8))
def test_from_fixed_matches_reference(bias):
    # Every 20-bit activation (exhaustive; the encoder is monotone in |x| there) ...
    x = np.arange(-(1 << 20), 1 << 20)
    ref = af._from_fixed_ref(x, bias)
    assert np.all(np.diff(ref[1 << 20 :].astype(np.int64) & 0x7F) >= 0)
    assert np.array_equal(af.from_fixed(x, bias), ref)
    # ... and, for other fraction widths, both sides of every threshold plus random integers.
    rng = np.random.default_rng(bias)
    for frac in (0, 14, 15, 20, 30):
        t = af.thresholds(bias, frac)
        pts = np.concatenate(
            [t - 1, t, t + 1, rng.integers(-(1 << 40), 1 << 40, 4000), np.arange(-2000, 2000)]
        )
        pts = np.concatenate([pts, -pts])
        assert np.array_equal(af.from_fixed(pts, bias, frac), af._from_fixed_ref(pts, bias, frac))
