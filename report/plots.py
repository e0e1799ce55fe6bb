"""The review report's figures as PNG bytes (matplotlib, Agg canvas, no global pyplot state).

PNG bytes are reproducible: the same data and matplotlib version give the same bytes (no
``Software``/date metadata, fixed DPI, the DejaVu font shipped with matplotlib).
"""

from __future__ import annotations

import io
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Style for every figure: fixed font and hash salt so output does not depend on the machine's settings.
STYLE = {"font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": "subgen", "axes.spines.top": False,
         "axes.spines.right": False, "figure.dpi": 100, "savefig.dpi": 100}
#: Arm colours (colour-blind safe, Okabe-Ito), in arm order.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _matplotlib() -> ModuleType:
    """matplotlib with its Figure and Agg canvas, imported on first use rather than with this module.

    It takes about 0.4 s to import and only ``subgen report`` draws, so ``subgen --help`` and the other
    commands (which import this module through the command table) start without it.
    """
    import matplotlib
    import matplotlib.backends.backend_agg
    import matplotlib.figure

    return matplotlib


def _png(fig: Figure) -> bytes:
    _matplotlib().backends.backend_agg.FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None}, bbox_inches="tight", pad_inches=0.1)
    return buffer.getvalue()


def plot_by_visit(summary: pd.DataFrame, title: str, ylabel: str, zero_line: bool = False) -> bytes:
    """Mean +/- standard error by arm over analysis visits (``summary`` from tables.summarise_by_visit)."""
    matplotlib = _matplotlib()
    with matplotlib.rc_context(STYLE):
        fig = matplotlib.figure.Figure(figsize=(7.5, 3.6))
        ax = fig.add_subplot()
        visits = summary.drop_duplicates("AVISITN").sort_values("AVISITN")
        positions = {v: i for i, v in enumerate(visits["AVISITN"])}
        arms = list(dict.fromkeys(summary["ARM"]))
        width = 0.08 * (len(arms) - 1)
        for i, arm in enumerate(arms):
            rows = summary[summary["ARM"] == arm].sort_values("AVISITN")
            x = rows["AVISITN"].map(positions).to_numpy(dtype=float) + (i * 0.08 - width / 2)
            ax.errorbar(x, rows["mean"], yerr=rows["se"].fillna(0), marker="o", markersize=4, capsize=3,
                        linewidth=1.5, color=COLOURS[i % len(COLOURS)], label=f"{arm}")
        if zero_line:
            ax.axhline(0, color="#888888", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(positions)), list(visits["AVISIT"]), rotation=0)
        ax.set_xlim(-0.5, len(positions) - 0.5)  # one visit stays in the middle, not at the edges
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#e5e5e5", linewidth=0.6)
        ax.legend(frameon=False, fontsize=8, loc="best")
        return _png(fig)


def plot_heatmap(percent: pd.DataFrame) -> bytes:
    """Completeness heatmap: assessments x visits, % of subjects seen at the visit with a result.

    Grey = not collected.
    """
    matplotlib = _matplotlib()
    with matplotlib.rc_context(STYLE):
        rows, cols = percent.shape
        fig = matplotlib.figure.Figure(figsize=(max(6.0, 1.6 + 0.95 * cols), max(2.0, 0.9 + 0.3 * rows)))
        ax = fig.add_subplot()
        cmap = matplotlib.colormaps["RdYlGn"].with_extremes(bad="#eeeeee")
        values = np.ma.masked_invalid(percent.to_numpy(dtype=float))
        image = ax.imshow(values, cmap=cmap, vmin=0, vmax=100, aspect="auto")
        for r in range(rows):
            for c in range(cols):
                if not np.ma.is_masked(values[r, c]):
                    ax.text(c, r, f"{values[r, c]:.0f}%", ha="center", va="center", fontsize=8,
                            color="white" if not 15 < values[r, c] < 85 else "black")
        ax.set_xticks(range(cols), list(percent.columns), rotation=30, ha="right")
        ax.set_yticks(range(rows), list(percent.index))
        ax.tick_params(length=0)
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02, label="% of subjects seen at the visit")
        return _png(fig)
