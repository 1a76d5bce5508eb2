"""Building HLSCNN Programs: MMIO command words plus the SoC-memory image they address.

Shared by the compiler's codegen and the testbench program generators, so a conv layer's
register setup and the scratchpad transfer chunking are written once.
"""

from __future__ import annotations

import numpy as np

from ila_models import hlscnn_isa as isa
from ila_models.hlscnn_isa import ENTRY_BYTES, LANES, HlscnnConfig
from ila_models.program import MemoryImage

TRANSFER_BEATS = 8
"""Beats per scratchpad transfer (SocMemRdWrLength), as the HLSCNN generators use."""


def blocked_activations(x: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (ceil(C/8), H, W, 8) int16, zero-filled lanes past C: the activations' memory order."""
    c, h, w = x.shape
    cb = -(-c // LANES)
    out = np.zeros((cb * LANES, h, w), dtype=np.int16)
    out[:c] = x
    return out.reshape(cb, LANES, h, w).transpose(0, 2, 3, 1).copy()


def weight_vectors(w: np.ndarray) -> np.ndarray:
    """OIHW -> (O, ceil(I/8), kh, kw, 8) zero-filled, in w's dtype: the SPAD0 order of weight vectors."""
    o, i, kh, kw = w.shape
    cb = -(-i // LANES)
    out = np.zeros((o, cb * LANES, kh, kw), dtype=w.dtype)
    out[:, :i] = w
    return out.reshape(o, cb, LANES, kh, kw).transpose(0, 1, 3, 4, 2).copy()


class CommandBuilder:
    """MMIO commands and the SoC-memory image of one Program."""

    def __init__(self, config: HlscnnConfig):
        self.config = config
        self.image = MemoryImage()
        self.words: list[int] = []
        self._length = -1

    def cfg(self, name: str, value: int | None = None, **fields: int) -> None:
        """Write configuration register `name` (a whole value or its named fields)."""
        self.words.append(isa.cfg_write(name, value, **fields))

    def transfer(self, spad: int, entry: int, soc_addr: int, entries: int, read: bool) -> None:
        """Scratchpad <-> SoC memory, TRANSFER_BEATS beats at a time."""
        for k in range(0, entries, TRANSFER_BEATS):
            n = min(TRANSFER_BEATS, entries - k)
            self.cfg("SocMemBaseAddr", soc_addr + ENTRY_BYTES * k)
            if n != self._length:
                self.cfg("SocMemRdWrLength", n)
                self._length = n
            op = isa.spad_read if read else isa.spad_write
            self.words.append(op(self.config, spad, entry + k))

    def forget_length(self) -> None:
        """Write SocMemRdWrLength again on the next transfer (e.g. after splicing in other commands)."""
        self._length = -1

    def conv_trigger(
        self,
        act_addr: int,
        weights_entry: int,
        in_size: tuple[int, int, int],
        out_size: tuple[int, int, int],
        kernel: tuple[int, int],
        stride: tuple[int, int],
        chan_bias: int = 0,
        bias: bool = False,
        relu: bool = False,
        accumulate: bool = False,
    ) -> None:
        """Configure one conv trigger and fire it; outputs go to SPAD1 from entry 0.

        Args:
            in_size: (chans, rows, cols) of the padded input this trigger reads.
            out_size: (filters, rows, cols) it writes; filters is also kernel_num.
            kernel: (kh, kw); stride: (sh, sw).
        """
        in_chans, in_rows, in_cols = in_size
        filters, out_rows, out_cols = out_size
        (kh, kw), (sh, sw) = kernel, stride
        self.cfg("AccelConvActivationBaseAddr", act_addr)
        self.cfg("AccelConvWeightsBaseAddr", weights_entry)
        self.cfg("AccelConvOutputsBaseAddr", 0)
        self.cfg("AccelConvInputSizeConfig", cols=in_cols, rows=in_rows, chans=in_chans)
        self.cfg("AccelConvOutputSizeConfig", cols=out_cols, rows=out_rows, chans=filters)
        self.cfg("AccelConvKernelSizeConfig", cols=kw, rows=kh, c_stride=sw, r_stride=sh)
        self.cfg(
            "AccelConvChannelConfig", chan_bias=chan_bias, enable_bias=int(bias), enable_relu=int(relu),
            enable_accum=int(accumulate), kernel_num=filters, enable_wb=1,
        )  # fmt: skip
        self.words.append(isa.trigger("AccelConvTrigger"))
