"""Tandem's compiler: PyTorch/ONNX models to accelerator Programs (TVM Relax, egglog matching, codegen)."""

__version__ = "0.2.0"
