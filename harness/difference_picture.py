"""Expected-vs-actual picture of a buffer difference: a PNG heat map of ILA, RTL and where they differ."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load_difference(path: Path) -> dict[str, np.ndarray | str | int]:
    """The arrays `runner.save_difference` wrote."""
    with np.load(path, allow_pickle=False) as data:
        return {
            "expected": data["expected"],
            "actual": data["actual"],
            "first_row": int(data["first_row"]),
            "rows_differing": int(data["rows_differing"]),
            "state": data["state"].tobytes().decode(),
        }


def draw_difference(diff_npz: Path, png: Path) -> Path:
    """Draw ILA (expected), RTL (actual) and their difference mask side by side; returns `png`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = load_difference(diff_npz)
    expected = np.asarray(data["expected"])
    actual = np.asarray(data["actual"])
    rows = expected.shape[0]
    expected2 = expected.reshape(rows, -1).astype(np.float64)
    actual2 = actual.reshape(rows, -1).astype(np.float64)
    mask = expected2 != actual2
    lo = min(expected2.min(), actual2.min())
    hi = max(expected2.max(), actual2.max())
    first = int(data["first_row"])
    extent = (-0.5, expected2.shape[1] - 0.5, first + rows - 0.5, first - 0.5)
    height = min(2.0 + rows * 0.08, 14.0)
    fig, axes = plt.subplots(1, 3, figsize=(13, height), sharey=True, squeeze=True)
    for ax, image, title in ((axes[0], expected2, "ILA (expected)"), (axes[1], actual2, "RTL (actual)")):
        shown = ax.imshow(image, aspect="auto", interpolation="nearest", cmap="viridis", vmin=lo, vmax=hi, extent=extent)
        ax.set_title(title)
        ax.set_xlabel("element within the row")
    axes[0].set_ylabel(f"{data['state']} row")
    fig.colorbar(shown, ax=axes[:2], fraction=0.03)
    axes[2].imshow(mask, aspect="auto", interpolation="nearest", cmap="Reds", vmin=0, vmax=1, extent=extent)
    axes[2].set_title(f"differs ({int(mask.sum())} shown; {data['rows_differing']} rows differ)")
    axes[2].set_xlabel("element within the row")
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png
