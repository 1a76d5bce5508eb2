"""Dynamic Tensor Rematerialization: a budgeted runtime, its trace simulator and baselines.

    with dtr.budget(nbytes) as session:     # an ordinary PyTorch training loop inside
        ...
    dtr.simulate(dtr.read_trace(path), "dtr_eq", budget)
"""

from dtr import native  # first: it puts the compiled runtime core, when built, on the package path
from dtr.errors import DTRError, OutOfMemoryError, ThrashingError, TraceFormatError
from dtr.heuristics import HEURISTICS, Heuristic, make_heuristic
from dtr.runtime import Runtime
from dtr.simulator import SimResult, baseline, simulate
from dtr.torch_session import Session, StrayReferenceWarning, budget
from dtr.trace import TraceWriter, parse_trace, read_trace

__all__ = [
    "HEURISTICS",
    "DTRError",
    "Heuristic",
    "OutOfMemoryError",
    "Runtime",
    "Session",
    "SimResult",
    "StrayReferenceWarning",
    "ThrashingError",
    "TraceFormatError",
    "TraceWriter",
    "baseline",
    "budget",
    "make_heuristic",
    "native",
    "parse_trace",
    "read_trace",
    "simulate",
]
