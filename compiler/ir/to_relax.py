"""Extracted terms -> a Relax IRModule the host (TVM llvm) runs.

Relax-native terms are emitted as Relax operators; every other term (derived layout forms and accelerator
calls) becomes `R.call_dps_packed` to a Python function registered with TVM: an accelerator call runs the
accelerator's numerics (`OffloadImpl`), a derived form its numpy reference (`semantics.REFERENCE`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import tvm
from tvm import relax

from compiler.hooks import accelerator_call
from compiler.ir import semantics
from compiler.ir.from_relax import ImportedModule, shape_of
from compiler.ir.nodes import Node, term_key, walk
from compiler.ir.terms import Tensor, host

OffloadImpl = Callable[[str, Sequence[np.ndarray], tuple[Any, ...]], np.ndarray]
"""(accelerator-call name, input arrays, literal attributes) -> output array."""

_session = itertools.count()


def reference_impl(name: str, arrays: Sequence[np.ndarray], attrs: tuple[Any, ...]) -> np.ndarray:
    """Exact-arithmetic (fp32 reference) meaning of a non-Relax term."""
    return semantics.REFERENCE[name](*arrays, *attrs)


def _native(node: Node, args: list[relax.Expr]) -> relax.Expr | None:
    op, n, a = relax.op, node.name, node.attrs
    if n in ("conv2d", "grouped_conv2d"):
        return op.nn.conv2d(args[0], args[1], strides=a[0:2], padding=a[2:6], groups=a[6] if len(a) > 6 else 1)
    simple: dict[str, Callable[..., relax.Expr]] = {
        "matmul": op.matmul,
        "add": op.add,
        "mul": op.multiply,
        "sigmoid": op.sigmoid,
        "tanh": op.tanh,
        "transpose": lambda x: op.permute_dims(x, [1, 0]),
    }
    if n in simple:
        return simple[n](*args)
    if n == "permute":
        return op.permute_dims(args[0], [int(v) for v in a[0].split(",")])
    if n == "reshape":
        return op.reshape(args[0], tuple(int(v) for v in a[0].split(",")))
    if n == "chunk":
        return relax.TupleGetItem(op.split(args[0], a[0], axis=-1), a[1])
    if n == "max_pool2d":
        return op.nn.max_pool2d(args[0], pool_size=a[0:2], strides=a[2:4])
    if n == "global_mean":
        return op.mean(args[0], [2, 3], keepdims=True)
    return None


def _rebuild_host(imported: ImportedModule, node: Node, args: list[relax.Expr]) -> relax.Expr:
    hc = imported.host_calls[node.attrs[0]]
    new_args: list[relax.Expr] = []
    for kind, v in hc.template:
        if kind == "t":
            new_args.append(args[v])
        elif kind == "tuple":
            new_args.append(relax.Tuple([args[i] for i in v]))
        else:
            new_args.append(v)
    call = tvm.ir.Call(hc.call.op, new_args, hc.call.attrs, hc.call.ty_args)
    return call if hc.item is None else relax.TupleGetItem(call, hc.item)


def emit_relax(imported: ImportedModule, roots: list[Tensor], offload: OffloadImpl = reference_impl) -> tvm.IRModule:
    """A Relax module computing `roots` (the extracted outputs) from the imported function's parameters."""
    session = next(_session)
    params = {str(p.name): relax.Var(str(p.name), p.ty) for p in imported.params}
    bb = relax.BlockBuilder()
    with bb.function("main", list(params.values())):
        with bb.dataflow():
            out = _emit_nodes(bb, imported, roots, params, offload, session)
        bb.emit_func_output(out)
    emitted = bb.get()
    if imported.module is not None:
        for gv, func in imported.module.functions.items():
            if _name(gv) != "main":
                emitted[gv] = func
    return emitted


def _name(gv: Any) -> str:
    return str(gv.name) if hasattr(gv, "name") else str(gv.name_hint)


def _emit_nodes(
    bb: relax.BlockBuilder,
    imported: ImportedModule,
    roots: list[Tensor],
    params: dict[str, relax.Var],
    offload: OffloadImpl,
    session: int,
) -> relax.Var:
    values: dict[Any, relax.Expr] = {}
    packed: dict[tuple[str, tuple[Any, ...]], str] = {}
    for key, node in walk(roots):
        args = [values[term_key(t)] for t in node.tensors]
        if node.fn == Tensor.input:
            values[key] = params[node.attrs[0]]
            continue
        if node.fn == Tensor.const:
            value = imported.consts[node.attrs[0]]
            values[key] = relax.const(value, str(value.dtype))  # a 0-d array would default to int32/float32
            continue
        expr = _rebuild_host(imported, node, args) if node.fn == host else _native(node, args)
        if expr is None:
            expr = _packed_call(session, packed, node, args, offload)
        values[key] = bb.emit(expr)
    return bb.emit_output(relax.Tuple([values[term_key(r)] for r in roots]))


def _packed_call(
    session: int, packed: dict[tuple[str, tuple[Any, ...]], str], node: Node, args: list[relax.Expr], offload: OffloadImpl
) -> relax.Expr:
    call = accelerator_call(node.fn)
    op = node.name if call is None else call.name
    attrs = node.attrs
    sig = (op, attrs)
    if sig not in packed:
        name = f"tandem.s{session}.{len(packed)}.{op}"
        impl = reference_impl if call is None else offload

        def run(*tensors: Any) -> None:
            *inputs, out = tensors
            result = impl(op, [t.numpy() for t in inputs], attrs)
            out.copyfrom(np.array(result, dtype=np.float32, order="C").reshape(tuple(out.shape)))

        tvm.register_global_func(name, run, override=True)
        packed[sig] = name
    shapes = [shape_of(a) for a in args]
    out_shape = reference_impl(op, [np.zeros(s, np.float32) for s in shapes], attrs).shape
    return relax.call_dps_packed(packed[sig], relax.Tuple(args), out_ty=relax.TensorType(out_shape, "float32"))


def build_and_run(mod: tvm.IRModule, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Compile `mod` for the host (TVM llvm) and run it once on `inputs`."""
    return Executable(mod)(inputs)


class Executable:
    """A Relax module compiled for the host CPU (llvm), callable on numpy inputs."""

    def __init__(self, mod: tvm.IRModule) -> None:
        self.vm = relax.VirtualMachine(relax.build(mod, target="llvm"), tvm.cpu())

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        out = self.vm["main"](*(tvm.runtime.tensor(np.array(x, order="C")) for x in inputs))
        return [o.numpy() for o in out] if not hasattr(out, "numpy") else [out.numpy()]
