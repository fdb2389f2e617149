"""Figures: the paper's figures and the ones that make a result obvious.

Functions take tidy data and return a matplotlib ``Figure``; ``save`` writes PNG
and PDF under ``outputs/<run>/figures/``. Notebooks only call them.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from . import paths

BASE_STYLE = {"linestyle": "-"}
ALIGNED_STYLE = {"linestyle": "--"}


def save(fig, run: str, name: str) -> str:
    d = paths.figures_dir(run)
    fig.savefig(d / f"{name}.png", dpi=130, bbox_inches="tight")
    fig.savefig(d / f"{name}.pdf", bbox_inches="tight")
    return str(d / f"{name}.png")


def _img(data) -> np.ndarray:
    if isinstance(data, (bytes, bytearray)):
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return np.asarray(data)


def severity_strip(images: list, titles: list[str], suptitle: str = ""):
    """A row of images (the paper's Figure 1: clean, then severities 1, 3, 5)."""
    fig, axes = plt.subplots(1, len(images), figsize=(2.6 * len(images), 2.9))
    for ax, im, t in zip(np.atleast_1d(axes), images, titles):
        ax.imshow(_img(im))
        ax.set_title(t, fontsize=10)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def corruption_grid(images: dict, corruptions: list[str], severities: list[int]):
    """Rows = severities, columns = corruptions; ``images[(name, sev)]``."""
    nr, nc = len(severities), len(corruptions)
    fig, axes = plt.subplots(nr, nc, figsize=(1.25 * nc, 1.45 * nr), squeeze=False)
    for i, s in enumerate(severities):
        for j, c in enumerate(corruptions):
            ax = axes[i][j]
            ax.imshow(_img(images[(c, s)]))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(c.replace("_", "\n"), fontsize=7)
            if j == 0:
                ax.set_ylabel(f"severity {s}", fontsize=8)
    fig.tight_layout(pad=0.3)
    return fig
