"""The ONNX path: ONNX exports of the applications, and onnx's own node test cases (conv, gemm, matmul, lstm;
LSTM through our expansion into primitive ops, compiler/frontend/onnx_lstm.py)."""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from onnx.backend.test.case.node import collect_testcases

from compiler.frontend import ExportError, import_onnx
from compiler.ir.from_relax import import_relax, shape_of
from compiler.ir.to_relax import build_and_run, emit_relax
from compiler.matching import match
from compiler.models import build

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    NODE_CASES = [
        c
        for c in collect_testcases(None)
        if c.name.startswith(("test_conv_", "test_gemm_", "test_matmul_", "test_lstm_"))
    ]


def _run_onnx(model: onnx.ModelProto, inputs: list[np.ndarray], accelerator: str) -> tuple[list[np.ndarray], int]:
    imported = import_relax(import_onnx(model))
    inputs = [np.asarray(x).reshape(shape_of(p)) for x, p in zip(inputs, imported.params, strict=True)]
    result = match(imported, accelerator, flexible=True)
    return build_and_run(emit_relax(imported, result.roots), inputs), result.offloaded_total


def test_node_cases_are_collected() -> None:
    names = {c.name for c in NODE_CASES}
    assert {"test_conv_with_strides_padding", "test_gemm_default_vector_bias", "test_matmul_2d", "test_lstm_defaults"} <= names


@pytest.mark.parametrize("case", NODE_CASES, ids=[c.name for c in NODE_CASES])
def test_onnx_node_case(case) -> None:  # type: ignore[no-untyped-def]
    accel = "hlscnn" if case.name.startswith("test_conv") else "flexasr" if "lstm" in case.name else "vta"
    for inputs, expected in case.data_sets:
        try:
            outputs, _ = _run_onnx(case.model, inputs, accel)
        except ExportError as exc:
            # TVM's ONNX frontend rejects some variants; the error must say which operator.
            assert exc.operator is not None, str(exc)
            pytest.xfail(f"TVM frontend: {exc}")
        for out, ref in zip(outputs, expected, strict=False):
            np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


def test_onnx_matmul_and_conv_cases_offload() -> None:
    by_name = {c.name: c for c in NODE_CASES}
    for name, accel in (("test_matmul_2d", "vta"), ("test_conv_with_strides_padding", "hlscnn"), ("test_gemm_default_vector_bias", "vta")):
        case = by_name[name]
        _, offloaded = _run_onnx(case.model, list(case.data_sets[0][0]), accel)
        assert offloaded >= 1, name


def _onnx_export(name: str) -> tuple[onnx.ModelProto, object]:
    app = build(name)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(app.model, (app.example,), buf, dynamo=False, opset_version=17)
    return onnx.load_from_string(buf.getvalue()), app


def _lstm_model(seq: int | str, **attrs: object) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [seq, 2, 3])
    y = helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [1, 2, 4])
    w = numpy_helper.from_array(np.zeros((1, 16, 3), np.float32), "W")
    r = numpy_helper.from_array(np.zeros((1, 16, 4), np.float32), "R")
    node = helper.make_node("LSTM", ["X", "W", "R"], ["", "Y_h"], name="enc", hidden_size=4, **attrs)
    graph = helper.make_graph([node], "g", [x], [y], [w, r])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize(
    ("model", "what"),
    [
        (_lstm_model(3, activations=["Sigmoid", "Elu", "Tanh"]), "activations"),
        (_lstm_model("T"), "static"),
    ],
    ids=["activation", "dynamic-sequence"],
)
def test_an_lstm_the_expansion_cannot_handle_names_the_node_and_what(model: onnx.ModelProto, what: str) -> None:
    with pytest.raises(ExportError, match=f"LSTM node 'enc': unsupported .*{what}") as info:
        import_onnx(model)
    assert info.value.operator == "LSTM"


def test_an_int64_scalar_constant_keeps_its_type_through_the_compiler_ir() -> None:
    # ONNX Gather with a scalar int64 index: TVM normalizes it with int64 scalar constants, which
    # the IR round trip once turned into int32 ones (Relax then rejects the int32 + int64 add).
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    index = numpy_helper.from_array(np.array(1, dtype=np.int64), "index")
    graph = helper.make_graph([helper.make_node("Gather", ["x", "index"], ["y"], axis=0)], "g", [x], [y], [index])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    (out,), _ = _run_onnx(model, [data], "vta")
    np.testing.assert_array_equal(out, data[1])


@pytest.mark.parametrize("name", ["resnet20", "mobilenet_v2", "efficientnet_b0", "resmlp", "lstm_lm", "transformer"])
def test_onnx_export_of_application(name: str) -> None:
    model, app = _onnx_export(name)
    accel = "vta"
    outputs, offloaded = _run_onnx(model, [app.example.numpy()], accel)
    assert offloaded >= 1
    np.testing.assert_allclose(outputs[0], app.model(app.example).detach().numpy(), rtol=1e-3, atol=1e-4)
