"""Per-accelerator codegen: offloaded calls to Programs (the only thing that crosses to the harness)."""

from compiler.codegen import flexasr, hlscnn, vta
from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.offload import (
    LOWERERS,
    CompileOutput,
    OffloadMismatch,
    ProgramOffload,
    compile_programs,
)

__all__ = ["LOWERERS", "CompileOutput", "Lowered", "OffloadMismatch", "ProgramOffload", "Where", "compile_programs", "flexasr", "hlscnn", "vta"]
