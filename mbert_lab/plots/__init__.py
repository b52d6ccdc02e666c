"""Matplotlib figures, saved as PNG and SVG next to the JSON results.

>>> # fig, ax = new_figure(); ax.plot([1, 2]); save_figure(fig, out_dir / "aer_by_layer")
>>> # -> out_dir/aer_by_layer.png, out_dir/aer_by_layer.svg
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def new_figure(width: float = 6.4, height: float = 4.8, **kw: Any) -> tuple[Any, Any]:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(width, height), **kw)
    return fig, ax


def save_figure(fig: Any, stem: str | Path, dpi: int = 150) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg`` (atomically) and close the figure."""
    from ..io import atomic_open

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    fig.tight_layout()
    for ext in ("png", "svg"):
        p = stem.with_suffix("." + ext)
        with atomic_open(p, "wb") as f:
            fig.savefig(f, format=ext, dpi=dpi)
        paths.append(p)
    _plt().close(fig)
    return paths
