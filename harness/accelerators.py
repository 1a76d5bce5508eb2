"""The accelerator registry: one line per accelerator, naming its ILA module and RTL top.

Adding an accelerator: `ila_models/<name>.py` (with `model_for(program)` and
`verilog_parameters(program)`), `rtl/<name>/` (Verilog + refinement.json), and a line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ila_models import flexasr, hlscnn, vta
from ila_models.language import IlaModel
from ila_models.program import Program

RTL_ROOT = Path(__file__).resolve().parent.parent / "rtl"


@dataclass(frozen=True)
class Accelerator:
    """How to get an accelerator's ILA model and RTL for a Program."""

    name: str
    ila: ModuleType
    top: str

    @property
    def rtl_dir(self) -> Path:
        return RTL_ROOT / self.name

    def model_for(self, program: Program) -> IlaModel:
        return self.ila.model_for(program)

    def verilog_parameters(self, program: Program) -> dict[str, int]:
        return self.ila.verilog_parameters(program)


REGISTRY: dict[str, Accelerator] = {
    "vta": Accelerator("vta", vta, top="vta_top"),
    "hlscnn": Accelerator("hlscnn", hlscnn, top="hlscnn_top"),
    "flexasr": Accelerator("flexasr", flexasr, top="flexasr_top"),
}


def accelerator(name: str) -> Accelerator:
    """The registered accelerator `name`; a clear error for an unknown one."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"accelerator {name!r} is not registered; expected one of {sorted(REGISTRY)}"
        ) from None
