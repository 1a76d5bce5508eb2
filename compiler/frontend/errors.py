"""The one error a frontend raises."""

from __future__ import annotations


class ExportError(RuntimeError):
    """A model could not be brought into Relax; `operator` names the operator responsible when known."""

    def __init__(self, message: str, operator: str | None = None) -> None:
        super().__init__(message)
        self.operator = operator
