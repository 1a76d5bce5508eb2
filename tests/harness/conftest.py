"""Shared fixtures for harness tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_fixtures import ALU_SHIFT_BUG, plant


@pytest.fixture(scope="session")
def alu_shift_rtl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rtl/vta with the ALU shift off by one (one copy per test session, so builds are shared)."""
    return plant(tmp_path_factory.mktemp("planted") / "vta", *ALU_SHIFT_BUG)
