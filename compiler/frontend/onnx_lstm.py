"""ONNX LSTM -> primitive ONNX ops, unrolled over the (static) sequence, before TVM's import.

TVM 0.27's ONNX frontend has no LSTM converter. Each LSTM node is replaced by the equations of
the ONNX specification, gate order i, o, f, c (W, R and B stacked as [iofc], P as [iof]):

    i = f(Xt Wi' + Ht-1 Ri' + Pi * Ct-1 + Wbi + Rbi)
    f = f(Xt Wf' + Ht-1 Rf' + Pf * Ct-1 + Wbf + Rbf)     (input_forget=1: f = 1 - i)
    c = g(Xt Wc' + Ht-1 Rc' + Wbc + Rbc)
    Ct = f * Ct-1 + i * c
    o = f(Xt Wo' + Ht-1 Ro' + Po * Ct + Wbo + Rbo)
    Ht = o * h(Ct)

with f, g, h the node's activations (default Sigmoid, Tanh, Tanh; `clip` bounds their inputs).
Supported: forward, reverse and bidirectional; layout 0 and 1; optional B, P, initial_h and
initial_c; sequence_lens in the forward direction (a step past a sequence's length keeps its
state and writes zeros to Y). The sequence length and batch must be static; anything else
raises ExportError naming the node and what is unsupported.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from compiler.frontend.errors import ExportError

ACTIVATIONS = ("Sigmoid", "Tanh", "Relu")


def expand_lstms(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy of `model` with every LSTM node replaced by primitive ops (the model itself if it has none)."""
    if not any(n.op_type == "LSTM" for n in model.graph.node):
        return model
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < 13:
        raise ExportError(f"LSTM expansion needs ONNX opset >= 13, the model has {opset}", operator="LSTM")
    inferred = shape_inference.infer_shapes(model)
    shapes = {
        v.name: [d.dim_value if d.HasField("dim_value") else None for d in v.type.tensor_type.shape.dim]
        for v in (*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output)
    }
    shapes.update({t.name: list(t.dims) for t in model.graph.initializer})
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    for k, node in enumerate(model.graph.node):
        if node.op_type == "LSTM":
            _Expansion(out.graph, node, f"lstm{k}", shapes).emit()
        else:
            out.graph.node.append(node)
    return out


class _Expansion:
    """The primitive nodes of one LSTM node, appended to `graph`."""

    def __init__(self, graph: onnx.GraphProto, node: onnx.NodeProto, prefix: str, shapes: dict) -> None:
        self.graph, self.node, self.prefix, self.count = graph, node, prefix, 0
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        self.hidden = int(attrs.get("hidden_size", 0))
        self.layout = int(attrs.get("layout", 0))
        self.direction = attrs.get("direction", b"forward").decode()
        self.clip = attrs.get("clip")
        self.input_forget = int(attrs.get("input_forget", 0))
        dirs = 2 if self.direction == "bidirectional" else 1
        acts = [a.decode() for a in attrs.get("activations", [])] or ["Sigmoid", "Tanh", "Tanh"] * dirs
        unsupported = [a for a in acts if a not in ACTIVATIONS]
        if unsupported or len(acts) != 3 * dirs:
            self.fail(f"activations {acts} (supported: three per direction among {list(ACTIVATIONS)})")
        if "activation_alpha" in attrs or "activation_beta" in attrs:
            self.fail("activation_alpha/activation_beta")
        if self.direction not in ("forward", "reverse", "bidirectional"):
            self.fail(f"direction {self.direction!r}")
        if self.hidden <= 0:
            self.fail("a missing or non-positive hidden_size")
        self.acts = acts
        self.inputs = list(node.input) + [""] * (8 - len(node.input))
        x_shape = shapes.get(self.inputs[0])
        if x_shape is None or len(x_shape) != 3 or None in x_shape:
            self.fail(f"input X of shape {x_shape}: the sequence length and batch must be static")
        assert x_shape is not None
        self.seq, self.batch = (x_shape[0], x_shape[1]) if self.layout == 0 else (x_shape[1], x_shape[0])
        if self.inputs[4] and self.direction != "forward":
            self.fail("sequence_lens with a reverse or bidirectional LSTM")

    def fail(self, what: str) -> None:
        raise ExportError(f"LSTM node {self.node.name or self.node.output[0]!r}: unsupported {what}", operator="LSTM")

    # -- graph building ----------------------------------------------------------------------------
    def name(self, hint: str) -> str:
        self.count += 1
        return f"{self.prefix}_{hint}{self.count}"

    def op(self, op_type: str, inputs: list[str], hint: str = "", **attrs: Any) -> str:
        out = self.name(hint or op_type.lower())
        self.graph.node.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self.name(hint)
        self.graph.initializer.append(numpy_helper.from_array(value, name))
        return name

    def take(self, x: str, index: int, axis: int = 0) -> str:
        """x[index] along axis (the axis removed)."""
        return self.op("Gather", [x, self.const(np.array(index, dtype=np.int64), "i")], "take", axis=axis)

    def quarters(self, x: str) -> list[str]:
        """x split into four equal column blocks (one Split: the compiler IR keeps it one term)."""
        outs = [self.name("gate") for _ in range(4)]
        sizes = self.const(np.full(4, self.hidden, dtype=np.int64), "sizes")
        self.graph.node.append(helper.make_node("Split", [x, sizes], outs, name=self.name("split"), axis=1))
        return outs

    def reshape(self, x: str, shape: tuple[int, ...]) -> str:
        return self.op("Reshape", [x, self.const(np.array(shape, dtype=np.int64), "shape")])

    # -- the LSTM -----------------------------------------------------------------------------------
    def emit(self) -> None:
        x = self.inputs[0]
        if self.layout == 1:
            x = self.op("Transpose", [x], perm=[1, 0, 2])
        orders = {"forward": [False], "reverse": [True], "bidirectional": [False, True]}[self.direction]
        ys, hs, cs = [], [], []
        for d, reverse in enumerate(orders):
            y, h, c = self.direction_steps(x, d, reverse)
            ys.append(y)
            hs.append(h)
            cs.append(c)
        seq, batch, hid = self.seq, self.batch, self.hidden
        y = self.op("Concat", [self.reshape(v, (seq, 1, batch, hid)) for v in ys], axis=1)  # [seq, dirs, batch, H]
        y_h = self.op("Concat", [self.reshape(v, (1, batch, hid)) for v in hs], axis=0)
        y_c = self.op("Concat", [self.reshape(v, (1, batch, hid)) for v in cs], axis=0)
        if self.layout == 1:
            y = self.op("Transpose", [y], perm=[2, 0, 1, 3])
            y_h = self.op("Transpose", [y_h], perm=[1, 0, 2])
            y_c = self.op("Transpose", [y_c], perm=[1, 0, 2])
        for produced, wanted in zip((y, y_h, y_c), [*self.node.output, "", ""][:3], strict=True):
            if wanted:
                self.graph.node.append(helper.make_node("Identity", [produced], [wanted], name=self.name("out")))

    def direction_steps(self, x: str, d: int, reverse: bool) -> tuple[str, str, str]:
        """One direction: returns (Y as [seq, batch, H], last H, last C)."""
        hid, batch = self.hidden, self.batch
        w_t = self.op("Transpose", [self.take(self.inputs[1], d)], perm=[1, 0])  # [I, 4H]
        r_t = self.op("Transpose", [self.take(self.inputs[2], d)], perm=[1, 0])  # [H, 4H]
        xw = self.op("MatMul", [x, w_t])  # [seq, batch, 4H], all steps at once
        if self.inputs[3]:
            b = self.reshape(self.take(self.inputs[3], d), (2, 4 * hid))
            xw = self.op("Add", [xw, self.op("Add", [self.take(b, 0), self.take(b, 1)])])
        peep = None
        if self.inputs[7]:
            p = self.reshape(self.take(self.inputs[7], d), (3, hid))
            peep = [self.take(p, j) for j in range(3)]  # i, o, f
        zeros = self.const(np.zeros((batch, hid), dtype=np.float32), "zeros")
        h = self.take(self.inputs[5], d) if self.inputs[5] else zeros
        c = self.take(self.inputs[6], d) if self.inputs[6] else zeros
        lens = self.inputs[4]
        acts = self.acts[3 * d : 3 * d + 3]
        steps: dict[int, str] = {}
        for t in reversed(range(self.seq)) if reverse else range(self.seq):
            gates = self.op("Add", [self.take(xw, t), self.op("MatMul", [h, r_t])])
            pre = self.quarters(gates)  # i, o, f, c
            if peep is not None:
                pre[0] = self.op("Add", [pre[0], self.op("Mul", [peep[0], c])])
                pre[2] = self.op("Add", [pre[2], self.op("Mul", [peep[2], c])])
            i_g = self.act(acts[0], pre[0])
            if self.input_forget:
                f_g = self.op("Sub", [self.const(np.array(1.0, dtype=np.float32), "one"), i_g])
            else:
                f_g = self.act(acts[0], pre[2])
            c_new = self.op("Add", [self.op("Mul", [f_g, c]), self.op("Mul", [i_g, self.act(acts[1], pre[3])])])
            o_pre = self.op("Add", [pre[1], self.op("Mul", [peep[1], c_new])]) if peep is not None else pre[1]
            h_new = self.op("Mul", [self.act(acts[0], o_pre), self.act(acts[2], c_new)])
            if lens:
                within = self.op("Less", [self.const(np.array(t, dtype=np.int32), "t"), lens])
                within = self.reshape(within, (batch, 1))
                steps[t] = self.op("Where", [within, h_new, zeros])
                h = self.op("Where", [within, h_new, h])
                c = self.op("Where", [within, c_new, c])
            else:
                steps[t] = h = h_new
                c = c_new
        y = self.op("Concat", [self.reshape(steps[t], (1, batch, hid)) for t in range(self.seq)], axis=0)
        return y, h, c

    def act(self, kind: str, x: str) -> str:
        if self.clip is not None:
            bound = float(self.clip)
            x = self.op("Clip", [x, self.const(np.array(-bound, np.float32)), self.const(np.array(bound, np.float32))])
        return self.op(kind, [x])

