"""HLSCNN program generators: conv2d layers, an FC layer and a reduction, with references.

They stand in for the compiler until it lands. Each Program stages weights in SoC
memory, moves them into SPAD0 through the AXI master (SPAD0_DATA_WR), configures
and triggers the layer, and copies the outputs back to SoC memory (SPAD1_DATA_RD),
where the Program's output region is. The reference stored in the Program is the
exact fixed-point result (`reference.py`); the generator also checks it against a
float64 conv of the same quantised values, within the documented rounding error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from ila_models import hlscnn_isa as isa
from ila_models.hlscnn import ACT, WEIGHT
from ila_models.hlscnn_isa import ENTRY_BYTES, LANES, HlscnnConfig
from ila_models.hlscnn_program import CommandBuilder, blocked_activations, weight_vectors
from ila_models.mmio import commands_array
from ila_models.program import MemoryImage, OutputRegion, Program, Span
from testbenches.hlscnn import reference


@dataclass(frozen=True)
class ConvLayer:
    """A conv2d layer: NCHW input (unpadded), OIHW weights, zero padding done by the host."""

    in_chans: int = 16
    height: int = 8
    width: int = 8
    out_chans: int = 16
    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    pad: int = 1
    bias: bool = True
    relu: bool = True
    accumulate_split: bool = False  # two triggers over the two halves of the input channels


class _Builder(CommandBuilder):
    """Commands, the SoC-memory image and the spans of one generated Program."""

    def __init__(self, config: HlscnnConfig):
        super().__init__(config)
        self.spans: list[Span] = []

    def load_weights(self, vectors: np.ndarray, entry: int) -> int:
        """Stage weight vectors in SoC memory and move them to SPAD0 at `entry`; entries used."""
        raw = vectors.astype(np.int16 if self.config.weight_bits == 16 else np.int8).reshape(-1)
        per = self.config.weights_per_entry
        padded = np.zeros(-(-raw.size // per) * per, dtype=raw.dtype)
        padded[: raw.size] = raw
        addr = self.image.place(padded, ENTRY_BYTES)
        entries = padded.size // per
        self.transfer(0, entry, addr, entries, read=False)
        return entries

    def program(self, name: str, outputs: list[OutputRegion], refs: dict[str, np.ndarray], prov: dict) -> Program:
        return Program(
            accelerator="hlscnn",
            isa_version=isa.ISA_VERSION,
            config=self.config.to_dict(),
            commands=commands_array(self.words),
            memories={"dram": self.image.build()},
            outputs=outputs,
            references=refs,
            provenance=prov,
            spans=self.spans,
            name=name,
        )


def _act(value: float) -> int:
    """A real as a 16-bit activation (round half even, saturate)."""
    return int(ACT.quantize(np.array(value)))


def _quantised(
    rng: np.random.Generator, config: HlscnnConfig, layer: ConvLayer
) -> tuple[np.ndarray, np.ndarray, int]:
    x = ACT.quantize(rng.uniform(-4, 4, size=(layer.in_chans, layer.height, layer.width)))
    wfmt = WEIGHT[config.weight_bits]
    fan_in = layer.in_chans * layer.kernel[0] * layer.kernel[1]
    w = wfmt.quantize(rng.normal(0, 1.5 / np.sqrt(fan_in), size=(layer.out_chans, layer.in_chans, *layer.kernel)))
    return x, w, _act(rng.uniform(-2, 2))


def conv2d(layer: ConvLayer, config: HlscnnConfig | None = None, seed: int = 0, name: str | None = None) -> Program:
    """One conv2d layer (or two accumulating triggers), outputs copied back to SoC memory."""
    config = config or HlscnnConfig()
    rng = np.random.default_rng(seed)
    x, w, bias = _quantised(rng, config, layer)
    xp = np.pad(x, ((0, 0), (layer.pad, layer.pad), (layer.pad, layer.pad)))
    (kh, kw), (sh, sw) = layer.kernel, layer.stride
    in_rows, in_cols = xp.shape[1:]
    out_rows, out_cols = (in_rows - kh) // sh + 1, (in_cols - kw) // sw + 1
    w16 = w << 8 if config.weight_bits == 8 else w
    groups = [(0, layer.in_chans)]
    if layer.accumulate_split:
        half = -(-layer.in_chans // 2)
        groups = [(0, half), (half, layer.in_chans)]

    b = _Builder(config)
    ob = -(-layer.out_chans // LANES)
    out_entries = ob * out_rows * out_cols
    expected = None
    wgt_entry = 0
    for g, (c0, c1) in enumerate(groups):
        last = g == len(groups) - 1
        act_addr = b.image.place(blocked_activations(xp[c0:c1]), ENTRY_BYTES)
        start = len(b.words)
        entries = b.load_weights(weight_vectors(w[:, c0:c1]), wgt_entry)
        b.conv_trigger(
            act_addr, wgt_entry, (c1 - c0, in_rows, in_cols), (layer.out_chans, out_rows, out_cols), (kh, kw),
            (sh, sw), chan_bias=bias, bias=layer.bias and last, relu=layer.relu and last, accumulate=g > 0,
        )  # fmt: skip
        b.spans.append(Span(start, len(b.words), "generated", f"conv group {g}", f"conv2d ch {c0}..{c1}"))
        expected = reference.conv2d(
            xp[c0:c1], w16[:, c0:c1], (sh, sw),
            bias=bias if layer.bias and last else None, relu=layer.relu and last, earlier=expected,
        )  # fmt: skip
        wgt_entry += entries
    assert expected is not None
    _check_against_float(xp, w16, bias if layer.bias else None, layer.relu, (sh, sw), expected, len(groups))
    out_addr = b.image.reserve(out_entries * ENTRY_BYTES, ENTRY_BYTES)
    b.transfer(1, 0, out_addr, out_entries, read=True)
    blocked = np.zeros((ob * LANES, out_rows, out_cols), dtype=np.int16)
    blocked[: layer.out_chans] = expected
    ref = blocked.reshape(ob, LANES, out_rows, out_cols).transpose(0, 2, 3, 1).copy()
    label = name or (
        f"conv{kh}x{kw}_s{sh}_c{layer.in_chans}to{layer.out_chans}_{layer.height}x{layer.width}"
        f"{'_acc' if layer.accumulate_split else ''}_w{config.weight_bits}"
    )
    return b.program(
        label,
        [OutputRegion("Y", "dram", out_addr, "int16", ref.shape)],
        {"Y": ref},
        {"generator": "testbenches.hlscnn.programs.conv2d", "seed": seed, "layer": repr(layer)},
    )


def _check_against_float(
    xp: np.ndarray, w16: np.ndarray, bias: int | None, relu: bool, stride: tuple[int, int], got: np.ndarray,
    roundings: int = 1,
) -> None:
    """The fixed-point result is within its rounding error of a float64 conv of the same values."""
    x = ACT.to_float(xp)
    w = WEIGHT[16].to_float(w16)
    kh, kw = w.shape[2:]
    rows, cols = got.shape[1:]
    y = np.zeros(got.shape)
    for r in range(kh):
        for c in range(kw):
            patch = x[:, r : r + stride[0] * (rows - 1) + 1 : stride[0], c : c + stride[1] * (cols - 1) + 1 : stride[1]]
            y += np.einsum("oi,ixy->oxy", w[:, :, r, c], patch)
    if bias is not None:
        y += bias / (1 << ACT.frac)
    if relu:
        y = np.maximum(y, 0)
    terms = -(-xp.shape[0] // LANES) * kh * kw
    # each term floors at 2**-16; each write-back rounds at 2**-7 (half an LSB)
    tolerance = terms * 2.0**-16 + roundings * 2.0**-8 + 1e-12
    err = np.abs(np.clip(y, ACT.min / (1 << ACT.frac), ACT.max / (1 << ACT.frac)) - ACT.to_float(got)).max()
    if err > tolerance:
        raise AssertionError(f"fixed-point conv differs from float by {err} > {tolerance}")


def fc(batch: int = 2, in_features: int = 40, out_features: int = 20, config: HlscnnConfig | None = None,
       seed: int = 0) -> Program:  # fmt: skip
    """A fully connected layer with bias and a thresholded ReLU, on the FC trigger."""
    config = config or HlscnnConfig()
    rng = np.random.default_rng(seed)
    x = ACT.quantize(rng.uniform(-4, 4, size=(batch, in_features)))
    w = WEIGHT[config.weight_bits].quantize(rng.normal(0, 1.5 / np.sqrt(in_features), size=(out_features, in_features)))
    w16 = w << 8 if config.weight_bits == 8 else w
    bias, threshold = _act(0.5), _act(3.0)
    b = _Builder(config)
    # activations as a (batch rows x 1 col) image of in_features channels
    act_addr = b.image.place(blocked_activations(x.T[:, :, None]), ENTRY_BYTES)
    b.load_weights(weight_vectors(w[:, :, None, None]), 0)
    start = len(b.words)
    b.cfg("AccelFCActivationBase", act_addr)
    b.cfg("AccelFCWeightsBase", 0)
    b.cfg("AccelConvOutputsBaseAddr", 0)
    b.cfg("AccelConvChannelConfig", chan_bias=bias)
    b.cfg("AccelFCSizeConfig", cols=in_features, rows=out_features, batch_m1=batch - 1)
    b.cfg("AccelBiasActivationConfig", act_func=2, do_bias=1, relu_threshold=threshold)
    b.words.append(isa.trigger("AccelStartFlagReg"))
    b.spans.append(Span(start, len(b.words), "generated", "fc", "dense"))
    y = reference.conv2d(x.T[:, :, None], w16[:, :, None, None], (1, 1), bias=bias, relu=True, threshold=threshold)
    unclipped = reference.conv2d(x.T[:, :, None], w16[:, :, None, None], (1, 1), bias=bias, relu=True)
    _check_against_float(x.T[:, :, None], w16[:, :, None, None], bias, True, (1, 1), unclipped)
    assert (y == np.minimum(unclipped, threshold)).all()
    ob = -(-out_features // LANES)
    out_addr = b.image.reserve(ob * batch * ENTRY_BYTES, ENTRY_BYTES)
    b.transfer(1, 0, out_addr, ob * batch, read=True)
    blocked = np.zeros((ob * LANES, batch, 1), dtype=np.int16)
    blocked[:out_features] = y
    ref = blocked.reshape(ob, LANES, batch, 1).transpose(0, 2, 3, 1).copy()
    return b.program(
        f"fc_{batch}x{in_features}_to_{out_features}_w{config.weight_bits}",
        [OutputRegion("Y", "dram", out_addr, "int16", ref.shape)],
        {"Y": ref},
        {"generator": "testbenches.hlscnn.programs.fc", "seed": seed},
    )


def conv_then_reduce(config: HlscnnConfig | None = None, seed: int = 1) -> Program:
    """A 3x3 conv (8 -> 8 channels, 6x6) followed by a reduction summing its 36 positions plus a bias."""
    config = config or HlscnnConfig()
    layer = ConvLayer(in_chans=8, height=6, width=6, out_chans=8, pad=1, bias=False, relu=True)
    conv = conv2d(layer, config, seed)
    b = _Builder(config)
    b.image = MemoryImage()
    b.image.place(conv.memories["dram"], ENTRY_BYTES)
    b.words = [int.from_bytes(c.tobytes(), "little") for c in conv.commands]
    ref_conv = conv.references["Y"].reshape(36, LANES)
    bias = _act(-1.0)
    start = len(b.words)
    b.cfg("AccelReductionInBase", 0)
    b.cfg("AccelReductionOutBase", 100)
    b.cfg("AccelReductionInputSize", count=36)
    b.cfg("AccelReductionBias", bias=bias)
    b.words.append(isa.trigger("AccelReductionTrigger"))
    b.spans = [*conv.spans, Span(start, len(b.words), "generated", "pool", "sum over positions")]
    out_addr = b.image.reserve(ENTRY_BYTES, ENTRY_BYTES)
    b.forget_length()
    b.transfer(1, 100, out_addr, 1, read=True)
    ref = reference.reduction(ref_conv, bias).reshape(1, LANES)
    return b.program(
        f"conv3x3_then_reduce_w{config.weight_bits}",
        [*conv.outputs, OutputRegion("S", "dram", out_addr, "int16", ref.shape)],
        {**conv.references, "S": ref},
        {"generator": "testbenches.hlscnn.programs.conv_then_reduce", "seed": seed},
    )


LAYERS = {
    "conv3x3": ConvLayer(),
    "conv5x5_s2_partial_blocks": ConvLayer(in_chans=12, height=9, width=9, out_chans=10, kernel=(5, 5),
                                           stride=(2, 2), pad=2, bias=False, relu=False),
    "conv1x1": ConvLayer(in_chans=24, height=6, width=6, out_chans=16, kernel=(1, 1), pad=0, relu=False),
    "conv3x1_s2x1_acc": ConvLayer(in_chans=16, height=7, width=6, out_chans=8, kernel=(3, 1), stride=(2, 1),
                                  pad=1, accumulate_split=True),
}


_W8 = HlscnnConfig(weight_bits=8)
GENERATED: list[Callable[[], Program]] = [
    partial(conv2d, LAYERS["conv3x3"]),
    partial(conv2d, LAYERS["conv5x5_s2_partial_blocks"], seed=1),
    partial(conv2d, LAYERS["conv1x1"], seed=2),
    partial(conv2d, LAYERS["conv3x1_s2x1_acc"], seed=3),
    partial(conv2d, LAYERS["conv3x3"], _W8, seed=4),
    fc,
    conv_then_reduce,
]


def suite() -> list[Program]:
    """The generated set `make sim ACCEL=hlscnn` runs."""
    return [make() for make in GENERATED]
