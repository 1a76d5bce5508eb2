"""FlexASR PE numerics: the MAC over AdaptivFloat weights and inputs, the bias stage, the activation unit.

Exact integer semantics (docs/flexasr.md defines them; flexnlp-ila leaves them uninterpreted):
- product of codes w (bias bw) and x (bias bi): (-1)^(sw^sx) * (16+mw)(16+mx) << (ew+ex)
  (0 when either code is zero); products of one output lane summed over every input of the
  manager in a 32-bit accumulator (wraps modulo 2^32).
- bias stage: act = sat20((acc >> (14 - bw - bi)) + fixed(bias code, bb)), arithmetic shift
  (floor); sat20 clips to the 20-bit range [-2^19, 2^19 - 1]; activations have 14 fractional bits.
- activation unit registers A0..A3 hold 16 lanes of 20-bit activations; see `ACT_OPS`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ila_models import adaptivfloat as af
from ila_models.fixed_point import FixedFormat
from ila_models.language import DecodeError

ACT = FixedFormat(20, 14)
ONE = 1 << ACT.frac
ACCUM_BITS = 32


def _signed_mantissa_exponent_ref(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sign, e, m, zero = af.fields(codes)
    mant = np.where(zero, 0, 16 + m)
    return np.where(sign == 1, -mant, mant), e


# Per code (256): signed mantissa, exponent field, and their product as an integer
# (signed mantissa << exponent). A product of two codes is (mw * mx) << (ew + ex)
# = (mw << ew) * (mx << ex) exactly, so a manager's MAC is an integer dot product of code values.
MANTISSA_TABLE, EXPONENT_TABLE = _signed_mantissa_exponent_ref(af.CODES)
VALUE_TABLE = MANTISSA_TABLE << EXPONENT_TABLE
for _t in (MANTISSA_TABLE, EXPONENT_TABLE, VALUE_TABLE):
    _t.setflags(write=False)


def signed_mantissa_exponent(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(signed mantissa with hidden bit, or 0 for zero codes; exponent field) of codes, int64."""
    idx = af._index(codes)
    if idx.ndim == 0:
        return _signed_mantissa_exponent_ref(codes)
    return MANTISSA_TABLE[idx], EXPONENT_TABLE[idx]


def code_values(codes: np.ndarray) -> np.ndarray:
    """Signed mantissa << exponent of codes, int64 (the integer a code contributes to a product)."""
    return VALUE_TABLE[af._index(codes)]


_ACCUM_MASK = (1 << ACCUM_BITS) - 1
_ACCUM_SIGN = 1 << (ACCUM_BITS - 1)


def wrap_accum(x: np.ndarray) -> np.ndarray:
    """Keep the low 32 bits, two's complement (the accumulator's width)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + _ACCUM_SIGN) & _ACCUM_MASK) - _ACCUM_SIGN


def mac_values(weight_values: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """`mac` with the weights already as `code_values` (..., lanes, k): int64 (..., lanes)."""
    x = code_values(inputs)
    return wrap_accum(np.matmul(weight_values, x[..., None])[..., 0])


def mac(weights: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Accumulators of weight codes (..., lanes, k) against input codes (..., k): int64 (..., lanes)."""
    return mac_values(code_values(weights), inputs)


def saturate20(x: np.ndarray) -> np.ndarray:
    """ACT.saturate (clip to the 20-bit range) without np.clip's per-call overhead."""
    return np.minimum(np.maximum(np.asarray(x, dtype=np.int64), ACT.min), ACT.max)


def bias_stage(accum: np.ndarray, bias_codes: np.ndarray | None, bw: int, bi: int, bb: int) -> np.ndarray:
    """The 20-bit activation of a 32-bit accumulator: shift to 14 fractional bits, add the bias, saturate."""
    shifted = np.asarray(accum, dtype=np.int64) >> (14 - bw - bi)
    if bias_codes is not None:
        shifted = shifted + af.to_fixed(bias_codes, bb)
    return saturate20(shifted)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Sigmoid as the PLAN piecewise-linear function, on 14-fraction fixed point (exact, shifts and adds).

    |x| >= 5: 1;  2.375 <= |x| < 5: |x|/32 + 0.84375;  1 <= |x| < 2.375: |x|/8 + 0.625;
    |x| < 1: |x|/4 + 0.5;  x < 0: 1 - y. Shifts floor. Max error vs the real sigmoid 0.019.
    (Evaluated as a lookup of y over |x| in 0..5: `SIGMOID_TABLE`, made by `_sigmoid_ref`.)
    """
    x = np.asarray(x, dtype=np.int64)
    idx = np.minimum(np.abs(x), SIGMOID_TABLE.size - 1)
    if x.ndim == 0 or (idx.size and idx.min() < 0):  # |int64 min| overflows: the reference's result
        return _sigmoid_ref(x)
    y = SIGMOID_TABLE[idx]
    return np.where(x < 0, ONE - y, y)


def _sigmoid_ref(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    a = np.abs(x)
    y = np.where(
        a >= 5 * ONE,
        ONE,
        np.where(
            a >= 38912,  # 2.375
            (a >> 5) + 13824,  # 0.84375
            np.where(a >= ONE, (a >> 3) + 10240, (a >> 2) + 8192),  # 0.625, 0.5
        ),
    )
    return np.where(x < 0, ONE - y, y)


SIGMOID_TABLE = _sigmoid_ref(np.arange(5 * ONE + 1))  # y for |x| = 0 .. 5 (1 from there on)
SIGMOID_TABLE.setflags(write=False)


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh(x) = 2 sigmoid(2x) - 1 with the PLAN sigmoid (2x computed without saturation)."""
    return 2 * sigmoid(2 * np.asarray(x, dtype=np.int64)) - ONE


# opcode -> (name, f(a2, a1) -> new a2) for the register-to-register ops
ACT_OPS: dict[int, tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    0x7: ("COPY", lambda a2, a1: a1),
    0x8: ("EADD", lambda a2, a1: saturate20(a2 + a1)),
    0x9: ("EMUL", lambda a2, a1: saturate20((a2 * a1) >> ACT.frac)),
    0xA: ("SIGM", lambda a2, a1: sigmoid(a2)),
    0xB: ("TANH", lambda a2, a1: tanh(a2)),
    0xC: ("RELU", lambda a2, a1: np.maximum(a2, 0)),
    0xD: ("ONEX", lambda a2, a1: saturate20(ONE - a2)),
}
MEMORY_OPS = {0x1: "LOAD", 0x2: "STORE", 0x3: "INPE", 0x4: "OUTGB"}
OPCODES = {**MEMORY_OPS, **{code: name for code, (name, _) in ACT_OPS.items()}}


def act_disasm(inst: int) -> str:
    """One activation micro-op as text (op A2, A1)."""
    op, a2, a1 = inst >> 4, (inst >> 2) & 3, inst & 3
    return f"{OPCODES.get(op, f'?{op:x}')} A{a2}, A{a1}"


class ActUnit:
    """One activation-unit run (one timestep): A0..A3, the queue of core outputs, the act buffer."""

    def __init__(self, pe: int, program: list[int], core_out: np.ndarray, act_buffer: np.ndarray, cfg: dict):
        self.pe = pe
        self.program = program
        self.core_out = core_out
        self.next_in = 0
        self.regs = np.zeros((4, 16), dtype=np.int64)
        self.act_buffer = act_buffer
        self.cfg = cfg
        self.outputs: list[tuple[int, np.ndarray]] = []

    def run(self) -> None:
        """Run the micro-program once per output vector."""
        cfg = self.cfg
        regs, core_out = self.regs, self.core_out
        functions = {code: fn for code, (_, fn) in ACT_OPS.items()}
        decoded = [(k, inst, inst >> 4, (inst >> 2) & 3, inst & 3) for k, inst in enumerate(self.program)]
        for out in range(cfg["num_output"]):
            for k, inst, op, a2, a1 in decoded:
                fn = functions.get(op)
                if fn is not None:  # the register ops and INPE inline; `step` does the rest and the errors
                    regs[a2] = fn(regs[a2], regs[a1])
                elif op == 3 and self.next_in < core_out.shape[0]:
                    regs[a2] = core_out[self.next_in]
                    self.next_in += 1
                else:
                    self.step(k, inst, out)

    def step(self, k: int, inst: int, out: int) -> None:
        op, a2, a1 = inst >> 4, (inst >> 2) & 3, inst & 3
        cfg = self.cfg
        slot = cfg["buffer_addr_base"] + out
        if op in ACT_OPS:
            self.regs[a2] = ACT_OPS[op][1](self.regs[a2], self.regs[a1])
        elif op in (1, 2) and slot >= self.act_buffer.shape[0]:
            raise DecodeError(
                f"pe{self.pe}.act_mngr.buffer_addr_base", cfg["buffer_addr_base"],
                f"buffer_addr_base + output ({slot}) inside the {self.act_buffer.shape[0]}-vector act buffer",
            )  # fmt: skip
        elif op == 1:  # LOAD
            self.regs[a2] = (
                0 if cfg["is_zero_first"] else af.to_fixed(self.act_buffer[slot], cfg["adpfloat_bias"])
            )
        elif op == 2:  # STORE
            self.act_buffer[slot] = af.from_fixed(self.regs[a2], cfg["adpfloat_bias"])
        elif op == 3:  # INPE
            if self.next_in >= self.core_out.shape[0]:
                raise DecodeError(
                    f"pe{self.pe}.act_vector.inst_{k}", f"{inst:#04x} (INPE)",
                    f"at most {self.core_out.shape[0]} INPE per run: the PE core produced that many vectors",
                )  # fmt: skip
            self.regs[a2] = self.core_out[self.next_in]
            self.next_in += 1
        elif op == 4:  # OUTGB
            self.outputs.append(
                (cfg["output_addr_base"] + out, af.from_fixed(self.regs[a2], cfg["adpfloat_bias"]))
            )
        else:
            raise DecodeError(
                f"pe{self.pe}.act_vector.inst_{k}", f"{inst:#04x}",
                f"an opcode of {sorted((f'{c:#x} {n}') for c, n in OPCODES.items())}",
            )  # fmt: skip
