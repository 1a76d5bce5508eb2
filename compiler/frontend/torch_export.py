"""PyTorch -> torch.export -> TVM Relax (`from_exported_program`)."""

from __future__ import annotations

import re
import warnings

import torch
import tvm
from tvm.relax.frontend.torch import from_exported_program

from compiler.frontend.errors import ExportError

_UNSUPPORTED = re.compile(r"Unsupported function types \[(.*?)\]")


def import_torch(model: torch.nn.Module, example: torch.Tensor) -> tvm.IRModule:
    """Export `model` (eval mode) on `example` and convert it to a Relax IRModule with weights bound as constants.

    Raises ExportError naming the operator when torch.export or TVM's frontend rejects one.
    """
    model = model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            program = torch.export.export(model, (example,))
        except Exception as exc:  # torch raises many unrelated types here
            op = _operator_in_torch_error(str(exc))
            raise ExportError(
                f"torch.export failed on {type(model).__name__}"
                + (f" at operator {op!r}" if op else "")
                + f": {str(exc).strip().splitlines()[0]}",
                operator=op,
            ) from exc
        try:
            return from_exported_program(program, keep_params_as_input=False)
        except AssertionError as exc:
            match = _UNSUPPORTED.search(str(exc))
            if match is None:
                raise ExportError(f"TVM's Relax frontend failed on {type(model).__name__}: {exc}") from exc
            ops = [o.strip().strip("'\"") for o in match.group(1).split(",")]
            raise ExportError(
                f"operator {ops[0]!r} of {type(model).__name__} is not supported by TVM's Relax torch frontend"
                f" (unsupported: {', '.join(ops)}); rewrite the model without it or add a converter",
                operator=ops[0],
            ) from exc


def _operator_in_torch_error(text: str) -> str | None:
    """Best-effort operator name in a torch.export error message (aten.x.y or torch.x)."""
    match = re.search(r"\b(aten\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?|torch\.[A-Za-z0-9_.]+)", text)
    return match.group(1) if match else None
