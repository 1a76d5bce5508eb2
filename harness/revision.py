"""Which RTL a run used: a content hash of its folder and the checkout's git revision."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path


def source_hash(folder: Path) -> str:
    """A short content hash of every file in an RTL folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def git_revision(folder: Path) -> str:
    """The checkout's commit, with `+dirty` when `folder` has uncommitted changes; '' outside git."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], cwd=folder, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return rev + ("+dirty" if dirty else "")
