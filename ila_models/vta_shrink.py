"""How the reproducer shrinks VTA Programs: dependency tokens kept paired, loops and micro-op ranges cut.

Each unit runs in program order, so push k of a token queue pairs with pop k of that queue; when
the reproducer drops either side it clears the other's bit, and the Program stays legal.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ila_models import vta_isa
from ila_models.accelerator import TokenPair
from ila_models.bitfields import word_from_bytes, word_to_bytes
from ila_models.program import Program

# the header bits of each token flag, counted from bit 0 of the command
_FLAG_BITS = {"pop_prev": 3, "pop_next": 4, "push_prev": 5, "push_next": 6}


class VtaShrinker:
    """Token pairs and smaller GEMM/ALU variants (ila_models.accelerator.Shrinker)."""

    def token_pairs(self, program: Program) -> list[TokenPair]:
        """Every push with the pop it pairs with, per token queue."""
        pushes: dict[str, list[tuple[int, int]]] = {q: [] for q in vta_isa.TOKEN_QUEUES}
        pops: dict[str, list[tuple[int, int]]] = {q: [] for q in vta_isa.TOKEN_QUEUES}
        for i, cmd in enumerate(program.commands):
            fields = vta_isa.parse(cmd)
            if fields["opcode"] not in vta_isa.OPCODE_NAMES:
                continue
            unit = vta_isa.unit_of(fields)
            for name, bit in _FLAG_BITS.items():
                queue = vta_isa.TOKEN_BITS[unit][name]
                if fields[name] and queue is not None:
                    (pushes if name.startswith("push") else pops)[queue].append((i, bit))
        return [
            (push[0], push[1], pop[0], pop[1])
            for q in vta_isa.TOKEN_QUEUES
            for push, pop in zip(pushes[q], pops[q], strict=False)
        ]

    def smaller(self, command: np.ndarray) -> Iterator[np.ndarray]:
        """Variants of one GEMM or ALU instruction doing less work: fewer loop iterations, fewer micro-ops."""
        fields = vta_isa.parse(command)
        layout = {vta_isa.OPCODES["GEMM"]: vta_isa.GEMM_LAYOUT, vta_isa.OPCODES["ALU"]: vta_isa.ALU_LAYOUT}.get(
            fields["opcode"]
        )
        if layout is None:
            return
        word = word_from_bytes(command.tobytes())
        changes: list[dict[str, int]] = []
        for name in ("iter_out", "iter_in"):
            if fields[name] > 1:
                changes += [{name: 1}, {name: fields[name] // 2}]
        n_uops = fields["uop_end"] - fields["uop_bgn"]
        if n_uops > 1:
            changes += [{"uop_end": fields["uop_bgn"] + 1}, {"uop_bgn": fields["uop_end"] - 1}]
            changes += [
                {"uop_end": fields["uop_bgn"] + n_uops // 2},
                {"uop_bgn": fields["uop_bgn"] + n_uops // 2},
            ]
        for change in changes:
            new = dict(layout.unpack(word), **change)
            out = np.frombuffer(word_to_bytes(layout.pack(**new), len(command)), dtype=np.uint8)
            yield out.copy()
