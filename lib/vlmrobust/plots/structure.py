"""Figures of notebook 08: the (dS, dC) quadrants per model, destructive/corrective RAS heat maps, kappa."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

QUADRANT_COLOURS = {"degraded": "#d62728", "overconfident": "#ff7f0e", "hesitant": "#1f77b4", "stable": "#2ca02c"}


def ras_quadrants(t, title: str):
    """Change in uncertainty (dS) against change in calibration error (dC), one point per item and corrupted
    condition, one panel per model; the quadrants of the seed's Figure 4."""
    g = sns.relplot(data=t, x="dS", y="dC", hue="quadrant", col="model", kind="scatter", s=12, alpha=0.5,
                    palette=QUADRANT_COLOURS, hue_order=list(QUADRANT_COLOURS), height=3.0, aspect=1.0)
    for ax in g.axes.flat:
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel("dS (uncertainty change)")
    g.set_ylabels("dC (calibration-error change)")
    g.figure.suptitle(title, fontsize=10)
    g.tight_layout()
    return g.figure


def destructive_corrective(dc, title: str):
    """Mean RAS per model and corruption: clean-correct items (destructive) and clean-wrong (corrective)."""
    parts = ["destructive", "corrective"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * dc["model"].nunique() + 2.2))
    for ax, part in zip(axes, parts):
        m = dc[dc["part"] == part].pivot_table(index="model", columns="corruption", values="mean")
        sns.heatmap(m, ax=ax, annot=True, fmt=".2f", cmap="RdBu", center=0, vmin=-1, vmax=1, cbar=part == parts[-1],
                    annot_kws={"fontsize": 7})
        ax.set_title(f"{part} (clean-{'correct' if part == 'destructive' else 'wrong'} items)", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def kappa_hist(kap, title: str):
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    sns.histplot(data=kap, x="kappa", hue="dataset" if kap["dataset"].nunique() > 1 else None, bins=20, ax=ax)
    ax.set_xlabel("kappa(q): mean Gini impurity of an item's top-1 predictions across severities")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
