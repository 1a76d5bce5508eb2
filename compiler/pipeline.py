"""The compiler as a list of named passes: frontend -> import to terms -> match (egglog) -> emit Relax
-> build for the host, with the offloaded calls running the chosen accelerator numerics."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from compiler.frontend import import_torch
from compiler.ir.from_relax import ImportedModule, import_relax
from compiler.ir.to_relax import Executable, OffloadImpl, emit_relax
from compiler.matching import Limits, MatchResult, match
from compiler.models import Application, build


@dataclass
class Compiled:
    """One application compiled for one accelerator."""

    app: Application
    imported: ImportedModule
    result: MatchResult
    seconds: dict[str, float] = field(default_factory=dict)

    def executable(self, offload: OffloadImpl) -> Executable:
        """The program built for the host, offloaded calls running `offload`."""
        return Executable(emit_relax(self.imported, self.result.roots, offload))


def frontend(app: Application) -> tuple[ImportedModule, float]:
    """torch.export -> Relax -> terms; returns the imported module and the seconds it took."""
    start = time.perf_counter()
    imported = import_relax(import_torch(app.model, app.example))
    return imported, time.perf_counter() - start


def compile_application(
    name: str, accelerator: str, flexible: bool = True, limits: Limits | None = None, imported: ImportedModule | None = None
) -> Compiled:
    """Frontend (unless `imported` is given) and matching for application `name` on `accelerator`."""
    app = build(name)
    seconds: dict[str, float] = {}
    if imported is None:
        imported, seconds["frontend"] = frontend(app)
    result = match(imported, accelerator, flexible, limits or Limits())
    seconds["matching"] = result.seconds
    return Compiled(app, imported, result, seconds)


@dataclass(frozen=True)
class AppError:
    """Application-level error of the offloaded program against the fp32 PyTorch model."""

    top1_agreement: float
    relative_error: float
    inputs: int


def application_error(compiled: Compiled, offload: OffloadImpl) -> AppError:
    """Top-1 agreement (argmax of the last axis, every position) and relative L2 error over the eval set."""
    exe = compiled.executable(offload)
    agree, total, num, den = 0, 0, 0.0, 0.0
    for x in compiled.app.eval_inputs:
        with torch.no_grad():
            ref = compiled.app.model(x).numpy()
        out = exe([x.numpy()])[0].reshape(ref.shape)
        agree += int(np.sum(out.argmax(-1) == ref.argmax(-1)))
        total += ref[..., 0].size
        num += float(np.sum((out.astype(np.float64) - ref) ** 2))
        den += float(np.sum(ref.astype(np.float64) ** 2))
    return AppError(agree / total, float(np.sqrt(num / den)), len(compiled.app.eval_inputs))
