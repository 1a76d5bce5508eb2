"""Per-accelerator codegen: offloaded calls to Programs (the only thing that crosses to the harness).

Each accelerator's file here (`vta.py`, `hlscnn.py`, `flexasr.py`) declares its `HOOKS`, which its
plug-in in `ila_models` names; `compiler.hooks` finds them through the registry.
"""

from compiler.codegen import flexasr, hlscnn, vta
from compiler.codegen.lowered import Lowered, Where
from compiler.codegen.offload import CompileOutput, OffloadMismatch, ProgramOffload, compile_programs

__all__ = ["CompileOutput", "Lowered", "OffloadMismatch", "ProgramOffload", "Where", "compile_programs", "flexasr", "hlscnn", "vta"]
