"""Frontends: PyTorch (torch.export) and ONNX models to TVM Relax IRModules."""

from compiler.frontend.errors import ExportError
from compiler.frontend.onnx_import import import_onnx
from compiler.frontend.torch_export import import_torch

__all__ = ["ExportError", "import_onnx", "import_torch"]
