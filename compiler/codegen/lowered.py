"""What every accelerator codegen returns for one offloaded call: a Program and how to read its result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from compiler import __version__
from ila_models.program import Program


@dataclass(frozen=True)
class Where:
    """Provenance of an offloaded call: the application, the call's layer label, the model's seed."""

    model: str
    layer: str
    seed: int = 0

    def provenance(self, op: str, **extra: Any) -> dict[str, Any]:
        """The Program header's provenance for op `op` at this place."""
        return {
            "compiler": f"tandem-compiler {__version__}",
            "model": self.model,
            "layer": self.layer,
            "op": op,
            "seed": self.seed,
            **extra,
        }


@dataclass
class Lowered:
    """An accelerator call as a Program; `decode` maps the Program's output arrays to the call's float result."""

    program: Program
    decode: Callable[[dict[str, np.ndarray]], np.ndarray]

    def reference_result(self) -> np.ndarray:
        """The call's result from the Program's reference outputs (what the accelerator must produce)."""
        return self.decode(self.program.references)


Lowerer = Callable[[str, list[np.ndarray], tuple[Any, ...], Where], Lowered]
"""(accelerator-call name, input arrays, literal attributes, provenance) -> Lowered."""
