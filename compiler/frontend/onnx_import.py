"""ONNX -> TVM Relax through TVM's ONNX frontend."""

from __future__ import annotations

import onnx
import tvm
from tvm.relax.frontend.onnx import from_onnx

from compiler.frontend.errors import ExportError
from compiler.frontend.onnx_lstm import expand_lstms


def import_onnx(model: onnx.ModelProto, opset: int | None = None) -> tvm.IRModule:
    """Convert an ONNX model (initializers bound as constants) to a Relax IRModule.

    LSTM nodes, which TVM's frontend lacks, are first expanded into primitive ops (onnx_lstm).
    Raises ExportError naming the first ONNX operator TVM's frontend cannot convert.
    """
    model = expand_lstms(model)
    try:
        return from_onnx(model, opset=opset, keep_params_in_input=False)
    except Exception as exc:  # the frontend raises several types for unsupported operators
        op = _failing_op(model, str(exc))
        raise ExportError(
            "TVM's ONNX frontend failed" + (f" at operator {op!r}" if op else "") + f": {str(exc).strip()[:300]}",
            operator=op,
        ) from exc


def _failing_op(model: onnx.ModelProto, text: str) -> str | None:
    for node in model.graph.node:
        if node.op_type in text:
            return node.op_type
    return None
