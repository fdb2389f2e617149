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


def corruption_grid(images: dict, families: dict[str, tuple[str, ...]], severities: list[int]):
    """One row per corruption family; each corruption shown at every severity side by side.

    ``images[(name, severity)]``; ``families`` maps family -> corruption names.
    """
    per_row = max(len(cs) for cs in families.values()) * len(severities)
    nr = len(families)
    fig, axes = plt.subplots(nr, per_row, figsize=(1.55 * per_row, 1.85 * nr), squeeze=False)
    for i, (family, names) in enumerate(families.items()):
        for j in range(per_row):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            k, si = divmod(j, len(severities))
            if k >= len(names):
                ax.axis("off")
                continue
            ax.imshow(_img(images[(names[k], severities[si])]))
            ax.set_title(f"{names[k].replace('_', ' ')}\nseverity {severities[si]}", fontsize=7)
            if j == 0:
                ax.set_ylabel(family, fontsize=9)
    fig.tight_layout(pad=0.3)
    return fig
