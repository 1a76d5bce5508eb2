"""FlexASR program generators (a stand-in for the compiler): linear layer, LSTM, max-pool, layer norm,
attention.

Each returns a Program of MMIO commands: configuration writes, buffer stores of AdaptivFloat
operands, the START of the operation, then reads of every result vector (so results are
architecturally visible in lockstep through `rdata`). Float inputs are drawn from a seeded
generator; `provenance["float_reference"]` names the function of testbenches.flexasr.reference
that recomputes the result in float from the decoded operands (see docs/flexasr.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from ila_models import adaptivfloat as af
from ila_models import flexasr
from ila_models import flexasr_isa as isa
from ila_models.accelerator import ProgramSetMissing
from ila_models.program import Program, Span
from testbenches.flexasr import coverage
from testbenches.flexasr.streams import STREAM_FILES, STREAMS_DIR, authors_stream, streams_dir

LSTM_ACT_PROGRAM = bytes.fromhex(
    "303481a0343886b4913438" + "86a4189681" + "20b0343886a49140"
)  # authors' LSTM cell


def _program(
    name: str, words: list[int], spans: list[Span], seed: int, reference: str, **extra: object
) -> Program:
    provenance = {"generator": f"testbenches.flexasr.programs.{name}", "seed": seed, "float_reference": reference}
    return flexasr.program(name, words, spans, {**provenance, **extra})


def _start_and_read(words: list[int], op: str, base: int, vectors: int, timesteps: int, layer: str, name: str) -> Span:
    """Append the start of GB operation `op` and the reads of its result block; the span of both."""
    start = len(words)
    words.append(isa.gb_start(op))
    isa.read_timesteps(words, base, vectors, timesteps)
    return Span(start, len(words), "generated", layer, name)


def linear(timesteps: int = 4, in_vectors: int = 4, out_vectors_per_pe: int = 2, seed: int = 0) -> Program:
    """y_t = W x_t + b on the 4 PEs (rows split across PEs); x and y in the GB large buffer."""
    rng = np.random.default_rng(seed)
    n_in, n_out = 16 * in_vectors, 64 * out_vectors_per_pe
    x = rng.uniform(-1, 1, (timesteps, n_in))
    w = rng.uniform(-0.5, 0.5, (n_out, n_in)) / np.sqrt(n_in) * 4
    b = rng.uniform(-0.5, 0.5, n_out)
    bx, bw, bb, bo = af.best_bias(x), af.best_bias(w), af.best_bias(b), 4
    xc, wc, bc = af.encode(x, bx), af.encode(w, bw), af.encode(b, bb)
    words: list[int] = []
    no = out_vectors_per_pe
    out_base = 16 * 16 * in_vectors * (1 + (timesteps - 1) // 16)
    words.append(
        isa.gb_config("mem_mngr_large", num_vector_0=in_vectors, base_large_0=0, num_vector_1=4 * no, base_large_1=out_base)
    )
    isa.store_timesteps(words, xc.reshape(timesteps, in_vectors, 16), 0)
    for pe in range(4):
        act = {
            "is_valid": 1,
            "adpfloat_bias": bo,
            "num_inst": 2,
            "num_output": no,
            "output_addr_base": pe * no,
        }
        bias_codes = bc[pe * no * 16 : (pe + 1) * no * 16].reshape(no, 16)
        isa.pe_layer(
            words, pe, [isa.weight_blocks(wc, pe, no)], [bias_codes], (bw, bb, [bx]), act, bytes([0x30, 0x40]), False
        )
    words.append(isa.gb_config(
        "gb_control", is_valid=1, mode=0, is_rnn=0, memory_index_1=0, memory_index_2=1, num_vector_1=in_vectors,
        num_vector_2=4 * no, num_timestep_1=timesteps,
    ))  # fmt: skip
    run = _start_and_read(words, "gb_control", out_base, 4 * no, timesteps, "linear", "dense")
    spans = [Span(0, run.start, "generated", "linear", "setup"), run]
    return _program("linear", words, spans, seed, "gb_control", output_bias=bo)  # fmt: skip


def lstm(timesteps: int = 4, in_vectors: int = 2, seed: int = 0) -> Program:
    """A 64-unit LSTM over `timesteps` steps, zero initial state, PyTorch gates; 16 units per PE.

    Each PE holds gates (i, g, f, o) of its 16 units as output vectors 0..3 (the authors'
    activation micro-program's order); h_t goes to block 1 timestep t and is fed back.
    """
    rng = np.random.default_rng(seed)
    hidden, n_in = 64, 16 * in_vectors
    x = rng.uniform(-1, 1, (timesteps, n_in))
    w_ih = rng.uniform(-1, 1, (4 * hidden, n_in)) / np.sqrt(n_in) * 2
    w_hh = rng.uniform(-1, 1, (4 * hidden, hidden)) / np.sqrt(hidden) * 2
    b_ih, b_hh = rng.uniform(-0.3, 0.3, 4 * hidden), rng.uniform(-0.3, 0.3, 4 * hidden)
    bx, bw, bb = (
        af.best_bias(x),
        af.best_bias(np.concatenate([w_ih.ravel(), w_hh.ravel()])),
        af.best_bias(b_ih),
    )
    bh = 5  # h in (-1, 1): the range of bias 5 reaches 0.97
    xc = af.encode(x, bx)
    words: list[int] = []
    out_base = 16 * 16 * in_vectors * (1 + (timesteps - 1) // 16)
    words.append(
        isa.gb_config("mem_mngr_large", num_vector_0=in_vectors, base_large_0=0, num_vector_1=4, base_large_1=out_base)
    )
    isa.store_timesteps(words, xc.reshape(timesteps, in_vectors, 16), 0)

    def per_pe(mat: np.ndarray, pe: int) -> np.ndarray:
        # PyTorch order (i, f, g, o) -> the micro-program's (i, g, f, o), the PE's 16 units of each
        gates = mat.reshape(4, hidden, *mat.shape[1:])[[0, 2, 1, 3], 16 * pe : 16 * pe + 16]
        return gates.reshape(64, *mat.shape[1:])

    for pe in range(4):
        wi, wh = af.encode(per_pe(w_ih, pe), bw), af.encode(per_pe(w_hh, pe), bw)
        bi_, bh_ = (
            af.encode(per_pe(b_ih, pe), bb).reshape(4, 16),
            af.encode(per_pe(b_hh, pe), bb).reshape(4, 16),
        )
        act = {
            "is_valid": 1,
            "is_zero_first": 1,
            "adpfloat_bias": bh,
            "num_inst": 24,
            "num_output": 1,
            "buffer_addr_base": 0,
            "output_addr_base": pe,
        }
        isa.pe_layer(
            words,
            pe,
            [isa.weight_blocks(wi, 0, 4), isa.weight_blocks(wh, 0, 4)],
            [bi_, bh_],
            (bw, bb, [bx, bh]),
            act,
            LSTM_ACT_PROGRAM,
            True,
        )
    words.append(isa.gb_config(
        "gb_control", is_valid=1, mode=0, is_rnn=1, memory_index_1=0, memory_index_2=1, num_vector_1=in_vectors,
        num_vector_2=4, num_timestep_1=timesteps,
    ))  # fmt: skip
    run = _start_and_read(words, "gb_control", out_base, 4, timesteps, "lstm", "lstm")
    spans = [Span(0, run.start, "generated", "lstm", "setup"), run]
    return _program("lstm", words, spans, seed, "gb_control", output_bias=bh)  # fmt: skip


def maxpool(timesteps: int = 8, vectors: int = 4, seed: int = 0) -> Program:
    """Max over time pairs (LAYER_REDUCE mode 0) of a (timesteps, 16*vectors) block."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (timesteps, vectors, 16))
    codes = af.encode(x, af.best_bias(x))
    words = [isa.gb_config("mem_mngr_large", num_vector_0=vectors)]
    isa.store_timesteps(words, codes, 0)
    words.append(isa.gb_config(
        "layer_reduce", is_valid=1, mode=0, memory_index_1=0, num_vector_1=vectors, num_timestep_1=timesteps,
    ))  # fmt: skip
    spans = [_start_and_read(words, "layer_reduce", 0, vectors, timesteps // 2, "maxpool", "max_pool1d")]
    return _program("maxpool", words, spans, seed, "layer_reduce")  # fmt: skip


def layer_norm(timesteps: int = 4, vectors: int = 4, seed: int = 0) -> Program:
    """Layer norm of each timestep over 16*vectors elements with gamma, beta (small buffer blocks 5, 6)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.3, (timesteps, vectors, 16))
    gamma, beta = rng.uniform(0.5, 1.5, (vectors, 16)), rng.uniform(-0.2, 0.2, (vectors, 16))
    b1, b3, b4 = 6, af.best_bias(gamma), af.best_bias(beta)  # bias 6 reaches 1.94: normalized values
    words = [isa.gb_config("mem_mngr_large", num_vector_0=vectors)]
    isa.store_timesteps(words, af.encode(x, b1), 0)
    words.append(isa.gb_config("mem_mngr_small", base_small_5=0, base_small_6=vectors))
    for v in range(vectors):
        words.append(isa.write(isa.gb_addr(0x00600000 + 16 * v), af.encode(gamma[v], b3)))
        words.append(isa.write(isa.gb_addr(0x00600000 + 16 * (vectors + v)), af.encode(beta[v], b4)))
    words.append(isa.gb_config(
        "layer_norm", is_valid=1, memory_index_1=0, num_vector_1=vectors, num_timestep_1=timesteps,
        adpbias_1=b1, adpbias_3=b3, adpbias_4=b4,
    ))  # fmt: skip
    spans = [_start_and_read(words, "layer_norm", 0, vectors, timesteps, "layer_norm", "layer_norm")]
    return _program("layer_norm", words, spans, seed, "layer_norm", output_bias=b1)  # fmt: skip


def attention(timesteps: int = 8, vectors: int = 2, seed: int = 0) -> Program:
    """Dot-product attention (GB ATTENTION): a query of 16*vectors elements in the small buffer against
    `timesteps` keys (= values) in the large buffer; reads back the query, context and softmax weights."""
    rng = np.random.default_rng(seed)
    keys = rng.uniform(-1, 1, (timesteps, vectors, 16))
    query = rng.uniform(-1, 1, (vectors, 16))
    b1, b2 = af.best_bias(keys), af.best_bias(query)
    b3, b4 = 3, b1  # weights in [0, 1] (bias 3 reaches 1.94); the context is a convex mix of the keys
    words = [
        isa.gb_config("mem_mngr_large", num_vector_0=vectors),
        isa.gb_config("mem_mngr_small", base_small_2=8),
    ]
    isa.store_timesteps(words, af.encode(keys, b1), 0)
    for v in range(vectors):
        words.append(isa.write(isa.gb_addr(0x00600000 + 16 * (8 + v)), af.encode(query[v], b2)))
    words.append(isa.gb_config(
        "attention", is_valid=1, memory_index_1=0, memory_index_2=2, num_vector_1=vectors, num_timestep_1=timesteps,
        adpbias_1=b1, adpbias_2=b2, adpbias_3=b3, adpbias_4=b4,
    ))  # fmt: skip
    start = len(words)
    words.append(isa.gb_start("attention"))
    for row in range(8, 8 + 2 * vectors + (timesteps + 15) // 16):
        words.append(isa.read(isa.gb_addr(0x00600000 + 16 * row)))
    spans = [Span(start, len(words), "generated", "attention", "attention")]
    return _program("attention", words, spans, seed, "attention", output_bias=b4, weight_bias=b3)  # fmt: skip


def _coverage_loaders() -> list[Callable[[], Program]]:
    """The constrained-random lockstep programs (testbenches.flexasr.coverage), one per seed."""
    return [partial(make, seed) for make in coverage.COVERAGE for seed in coverage.SEEDS]


GENERATED: list[Callable[[], Program]] = [
    linear,
    lstm,
    maxpool,
    layer_norm,
    attention,
    *_coverage_loaders(),
]
"""`make sim ACCEL=flexasr`'s Programs: made here, the same on every machine. The authors' own
streams are a suite of their own (`authors_streams`), which says so loudly when they are absent."""


def authors_streams() -> list[Program]:
    """The FlexASR authors' command streams (the regression's `streams` suite)."""
    if streams_dir() is None:
        raise ProgramSetMissing(f"the FlexASR authors' streams are not at {STREAMS_DIR}")
    return [authors_stream(name) for name in STREAM_FILES]
