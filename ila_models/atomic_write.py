"""Files written whole or not at all, readable by others (0644 under the usual umask): Program files
and results. In `ila_models` because the Program file (ila_models/program.py) is written with it too."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()


def write_atomic(path: Path, data: bytes, durable: bool = False) -> None:
    """Write `data` to `path` so a reader sees the old or the new file, never half of one.

    The rename makes it atomic against a crash or kill of any process; `durable` also flushes it
    to disk first (fsync), so it survives a crash of the machine (costs milliseconds a file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _MODE)  # mkstemp makes 0600: results are meant to be shared
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def shareable(path: Path) -> None:
    """Give a file written by another library (e.g. through a temporary name) the shared mode."""
    os.chmod(path, _MODE)
