"""Relax -> egglog terms: the `main` function's dataflow block, one term per binding.

Operators the rules need to see into become typed terms (see `terms`); every other operator becomes an
opaque `host` term whose original Relax call is kept for emission. Constants become `Tensor.const`
terms with their values in `ImportedModule.consts`; reshapes of constants are folded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tvm
from tvm import relax

from compiler.ir import terms as T

# How to rebuild one argument of an opaque call: a tensor (index into the term's TensorList),
# a tuple of tensors, or the original non-tensor expression.
ArgTemplate = tuple[str, Any]


@dataclass(frozen=True)
class HostCall:
    """An operator the matcher does not look into; it is re-emitted as-is (it runs on the host)."""

    call: relax.Call
    template: tuple[ArgTemplate, ...]
    item: int | None  # tuple element taken from a tuple-valued call

    @property
    def op_name(self) -> str:
        return str(self.call.op.name)


@dataclass
class ImportedModule:
    """A Relax function as terms, plus the side tables needed to emit it again."""

    function: relax.Function
    module: tvm.IRModule | None = None  # the source module: its other functions (TIR, helpers) are kept
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    host_calls: list[HostCall] = field(default_factory=list)
    outputs: list[T.Tensor] = field(default_factory=list)
    facts: list[Any] = field(default_factory=list)
    relax_ops: int = 0

    @property
    def params(self) -> list[relax.Var]:
        return list(self.function.params)


class _Pending:
    """A tuple-valued call waiting for its TupleGetItem."""

    def __init__(self, call: relax.Call) -> None:
        self.call = call


def shape_of(expr: relax.Expr) -> tuple[int, ...]:
    """Static shape of a tensor-typed Relax expression."""
    return tuple(int(d) for d in expr.ty.shape)


def _csv(values: Any) -> str:
    return ",".join(str(int(v)) for v in values)


class _Importer:
    def __init__(self, func: relax.Function) -> None:
        self.mod = ImportedModule(func)
        self.env: dict[Any, Any] = {}
        self._const_ids: dict[int, str] = {}

    # -- leaves --
    def const(self, value: np.ndarray, key: int | None = None) -> T.Tensor:
        if key is not None and key in self._const_ids:
            return T.Tensor.const(self._const_ids[key])
        name = f"c{len(self.mod.consts)}"
        self.mod.consts[name] = value
        if key is not None:
            self._const_ids[key] = name
        term = T.Tensor.const(name)
        nonunit = [i for i, d in enumerate(value.shape) if d != 1]
        if value.dtype == np.float32 and len(nonunit) == 1 and (
            nonunit[0] == value.ndim - 1 or (value.ndim == 4 and nonunit[0] == 1)
        ):
            self.mod.facts.append(T.is_bias(term))
        if value.ndim == 2:
            self.mod.facts.append(T.is_matrix(term))
        return term

    def value(self, expr: relax.Expr) -> Any:
        if isinstance(expr, relax.Var):
            return self.env[expr]
        if type(expr).__name__ == "GenericConst":
            return self.const(expr.value.numpy(), key=hash(expr))
        if isinstance(expr, relax.Tuple):
            return tuple(self.value(f) for f in expr.fields)
        raise TypeError(f"cannot import Relax argument {expr!r} ({type(expr).__name__}) as a tensor")

    def is_tensor_arg(self, expr: relax.Expr) -> bool:
        return isinstance(expr, relax.Var) or type(expr).__name__ == "GenericConst"

    # -- calls --
    def host(self, call: relax.Call, item: int | None = None) -> T.Tensor:
        tensors: list[T.Tensor] = []
        template: list[ArgTemplate] = []
        for arg in call.args:
            if self.is_tensor_arg(arg):
                template.append(("t", len(tensors)))
                tensors.append(self.value(arg))
            elif isinstance(arg, relax.Tuple) and all(self.is_tensor_arg(f) for f in arg.fields):
                template.append(("tuple", tuple(range(len(tensors), len(tensors) + len(arg.fields)))))
                tensors.extend(self.value(f) for f in arg.fields)
            else:
                template.append(("lit", arg))
        node = len(self.mod.host_calls)
        self.mod.host_calls.append(HostCall(call, tuple(template), item))
        lst = T.TensorList.nil()
        for t in reversed(tensors):
            lst = T.TensorList.cons(t, lst)
        return T.host(node, lst)

    def call(self, var: relax.Var, call: relax.Call) -> Any:
        self.mod.relax_ops += 1
        if isinstance(var.ty, relax.TupleType):
            return _Pending(call)
        name = str(call.op.name) if hasattr(call.op, "name") else ""
        args = call.args
        if all(type(a).__name__ == "GenericConst" for a in args[:1]) and name == "relax.reshape":
            return self.const(args[0].value.numpy().reshape(shape_of(var)))
        f32 = isinstance(var.ty, relax.TensorType) and str(var.ty.dtype) == "float32"
        handler = _TYPED.get(name)
        if handler is not None and f32:
            term = handler(self, var, call)
            if term is not None:
                return term
        return self.host(call)

    def get_item(self, tup: Any, index: int) -> Any:
        if isinstance(tup, tuple):
            return tup[index]
        assert isinstance(tup, _Pending)
        call = tup.call
        if str(call.op.name) == "relax.split":
            x = call.args[0]
            shape = shape_of(x)
            axis = int(call.attrs.axis) % len(shape)
            sections = call.attrs.indices_or_sections
            is_list = hasattr(sections, "__len__")
            parts = len(sections) + 1 if is_list else int(sections)
            equal = [shape[-1] * k // parts for k in range(1, parts)]
            if axis == len(shape) - 1 and (not is_list or [int(s) for s in sections] == equal):
                return T.chunk(self.value(x), parts, index)
        return self.host(call, item=index)

    def run(self) -> ImportedModule:
        func = self.mod.function
        for p in func.params:
            self.env[p] = T.Tensor.input(str(p.name))
            if len(p.ty.shape) == 2:
                self.mod.facts.append(T.is_matrix(self.env[p]))
        body = func.body
        for block in body.blocks:
            for binding in block.bindings:
                var, value = binding.var, binding.value
                if isinstance(value, relax.Call):
                    self.env[var] = self.call(var, value)
                elif isinstance(value, relax.TupleGetItem):
                    self.env[var] = self.get_item(self.value_or_pending(value.tuple_value), int(value.index))
                else:
                    self.env[var] = self.value(value)
                if isinstance(self.env[var], T.Tensor) and isinstance(var.ty, relax.TensorType) and len(var.ty.shape) == 2:
                    self.mod.facts.append(T.is_matrix(self.env[var]))
        result = self.value_or_pending(body.body)
        self.mod.outputs = list(result) if isinstance(result, tuple) else [result]
        return self.mod

    def value_or_pending(self, expr: relax.Expr) -> Any:
        if isinstance(expr, relax.Var) and isinstance(self.env.get(expr), _Pending):
            return self.env[expr]
        return self.value(expr)


def _conv2d(imp: _Importer, var: relax.Var, call: relax.Call) -> T.Tensor | None:
    a = call.attrs
    if tuple(int(d) for d in a.dilation) != (1, 1) or a.data_layout != "NCHW" or a.kernel_layout != "OIHW":
        return None
    x, w = imp.value(call.args[0]), imp.value(call.args[1])
    sh, sw = (int(s) for s in a.strides)
    pt, pl, pb, pr = (int(p) for p in a.padding)
    if int(a.groups) == 1:
        return T.conv2d(x, w, sh, sw, pt, pl, pb, pr)
    return T.grouped_conv2d(x, w, sh, sw, pt, pl, pb, pr, int(a.groups))


def _permute(imp: _Importer, var: relax.Var, call: relax.Call) -> T.Tensor:
    x = call.args[0]
    ndim = len(shape_of(x))
    axes = list(range(ndim))[::-1] if call.attrs.axes is None else [int(v) for v in call.attrs.axes]
    if ndim == 2 and axes == [1, 0]:
        return T.transpose(imp.value(x))
    return T.permute(imp.value(x), _csv(axes))


def _split_free(name: str) -> Any:
    return lambda imp, var, call: getattr(T, name)(*(imp.value(a) for a in call.args))


def _max_pool(imp: _Importer, var: relax.Var, call: relax.Call) -> T.Tensor | None:
    a = call.attrs
    if any(int(p) for p in a.padding) or tuple(int(d) for d in a.dilation) != (1, 1) or a.ceil_mode or a.layout != "NCHW":
        return None
    kh, kw = (int(k) for k in a.pool_size)
    sh, sw = (int(s) for s in a.strides)
    return T.max_pool2d(imp.value(call.args[0]), kh, kw, sh, sw)


def _mean(imp: _Importer, var: relax.Var, call: relax.Call) -> T.Tensor | None:
    shape = shape_of(call.args[0])
    axes = sorted(int(v) % len(shape) for v in call.attrs.axis) if call.attrs.axis is not None else []
    if len(shape) == 4 and axes == [2, 3] and call.attrs.keepdims:
        return T.global_mean(imp.value(call.args[0]))
    return None


_TYPED: dict[str, Any] = {
    "relax.nn.conv2d": _conv2d,
    "relax.matmul": lambda imp, var, call: T.matmul(imp.value(call.args[0]), imp.value(call.args[1])),
    "relax.permute_dims": _permute,
    "relax.reshape": lambda imp, var, call: T.reshape(imp.value(call.args[0]), _csv(shape_of(var))),
    "relax.add": _split_free("add"),
    "relax.multiply": _split_free("mul"),
    "relax.sigmoid": _split_free("sigmoid"),
    "relax.tanh": _split_free("tanh"),
    "relax.nn.max_pool2d": _max_pool,
    "relax.mean": _mean,
}


def import_relax(mod: tvm.IRModule) -> ImportedModule:
    """Terms for `mod["main"]` (a single dataflow function with static shapes)."""
    if "main" not in [str(gv.name) if hasattr(gv, "name") else gv.name_hint for gv in mod.get_global_vars()]:
        raise ValueError(f"expected an IRModule with a 'main' function, got functions {list(mod.get_global_vars())!r}")
    imported = _Importer(mod["main"]).run()
    imported.module = mod
    return imported
