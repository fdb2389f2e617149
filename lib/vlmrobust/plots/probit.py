"""Figures of notebook 06: clean against shifted accuracy on probit axes, ticks in probability units."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats as sps

from .core import PAIR_COLOURS

TICKS = [0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98]
EPS = 0.005


def _probit_axes(ax):
    fwd = lambda p: sps.norm.ppf(np.clip(p, EPS, 1 - EPS))  # noqa: E731
    inv = lambda z: sps.norm.cdf(z)  # noqa: E731
    for axis in ("x", "y"):
        getattr(ax, f"set_{axis}scale")("function", functions=(fwd, inv))
        getattr(ax, f"set_{axis}lim")(EPS, 1 - EPS)
        getattr(ax, f"set_{axis}ticks")(TICKS, [f"{t:g}" for t in TICKS], fontsize=6)
    grid = np.linspace(EPS, 1 - EPS, 200)
    ax.plot(grid, grid, color="0.6", linestyle="--", linewidth=0.8)


def _panel(ax, pts, fit, pairs_, title, band=None):
    _probit_axes(ax)
    if band is not None and len(band):
        ax.fill_between(band["x"], band["lo"], band["hi"], color="0.8", alpha=0.7, linewidth=0)
    if fit is not None and np.isfinite(fit["beta"]):
        grid = np.linspace(EPS, 1 - EPS, 200)
        ax.plot(grid, sps.norm.cdf(fit["alpha"] + fit["beta"] * sps.norm.ppf(grid)), color="black", linewidth=1.2)
    for k, (pid, base, aligned) in enumerate(pairs_):
        colour = PAIR_COLOURS[k % len(PAIR_COLOURS)]
        b, a = pts.loc[base], pts.loc[aligned]
        ax.annotate("", xy=(a.clean_acc, a.shifted_acc), xytext=(b.clean_acc, b.shifted_acc),
                    arrowprops=dict(arrowstyle="->", color=colour, lw=1.2))
        for r, marker in ((b, "o"), (a, "^")):
            ax.plot(r.clean_acc, r.shifted_acc, marker=marker, color=colour, markersize=6,
                    mfc="white" if r.clipped else colour)
    ax.set_title(title, fontsize=8)


def probit_grid(er, fits, pairs_, datasets, shifts, title, band=None):
    """Rows = datasets, columns = shifts: every model (base circle, aligned triangle, hollow if clipped),
    an arrow from each base to its aligned model, the line fitted on the fit models (solid) with its
    item-bootstrap band (grey), y = x (dashed)."""
    fig, axes = plt.subplots(len(datasets), len(shifts), figsize=(2.3 * len(shifts), 2.3 * len(datasets)),
                             squeeze=False)
    for i, d in enumerate(datasets):
        for j, s in enumerate(shifts):
            pts = er[(er["dataset"] == d) & (er["shift"] == s)].set_index("model")
            fit = fits[(fits["dataset"] == d) & (fits["shift"] == s)]
            b = band[(band["dataset"] == d) & (band["shift"] == s)] if band is not None and len(band) else None
            _panel(axes[i][j], pts, fit.iloc[0] if len(fit) else None, pairs_, f"{d} | {s}", b)
            if j == 0:
                axes[i][j].set_ylabel("corrupted accuracy", fontsize=7)
            if i == len(datasets) - 1:
                axes[i][j].set_xlabel("clean accuracy", fontsize=7)
    for k, (pid, _, _) in enumerate(pairs_):
        axes[0][-1].plot([], [], color=PAIR_COLOURS[k % len(PAIR_COLOURS)], label=f"{pid}: base o -> aligned ^")
    axes[0][-1].legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def probit_paper(pts, line, title):
    """The paper's four pairs on GQA (clean vs mean corrupted accuracy, derived from its Tables 2, 5, 6)."""
    fig, ax = plt.subplots(figsize=(4.8, 4.4))
    p = pts.assign(clipped=False)
    keyed = p.assign(key=p["pair"] + "/" + p["role"]).set_index("key")
    pairs_ = [(pid, f"{pid}/base", f"{pid}/aligned") for pid in dict.fromkeys(p["pair"])]
    _panel(ax, keyed, line, pairs_, title)
    for r in p.itertuples():
        ax.annotate(r.model, (r.clean_acc, r.shifted_acc), fontsize=6, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("clean accuracy (Table 2)")
    ax.set_ylabel("mean corrupted accuracy (Tables 5, 6)")
    fig.tight_layout()
    return fig
