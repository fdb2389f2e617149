"""The degradation endpoint as a forest: one line per pair and dataset, the pooled row last."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns


def endpoint_forest(ep, title: str, label_of=None):
    """Mean accuracy lost by the base minus by the aligned model (``analyses.degradation.endpoint``) with
    its paired item-bootstrap interval, per dataset (rows) and pair (colours); right of 0: the aligned
    model loses less to corruption. ``label_of``: pair id -> legend label (e.g. "Z2 (positive)")."""
    from ..analyses.degradation import POOLED

    pairs = list(dict.fromkeys(ep["pair"]))
    datasets = [d for d in dict.fromkeys(ep["dataset"]) if d != POOLED] + ([POOLED] if (ep["dataset"] == POOLED).any()
                                                                           else [])
    colours = dict(zip(pairs, sns.color_palette("colorblind", len(pairs))))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(datasets) * len(pairs) + 1.6))
    for j, pid in enumerate(pairs):
        g = ep[ep["pair"] == pid].set_index("dataset").reindex(datasets)
        y = np.arange(len(datasets)) + (j - (len(pairs) - 1) / 2) * 0.22
        est, lo, hi = g["estimate"].to_numpy(float), g["ci_lo"].to_numpy(float), g["ci_hi"].to_numpy(float)
        ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color=colours[pid], capsize=3,
                    label=(label_of or {}).get(pid, pid))
        pooled = np.array([d == POOLED for d in datasets])
        ax.plot(est[pooled], y[pooled], "D", color=colours[pid], markersize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    if (ep["dataset"] == POOLED).any():
        ax.axhline(len(datasets) - 1.5, color="grey", linewidth=0.5, linestyle=":")
    ax.set_yticks(np.arange(len(datasets)), datasets)
    ax.invert_yaxis()
    ax.set_xlabel("accuracy lost to corruption: base minus aligned (per item, mean over conditions)\n"
                  "> 0: the aligned model loses less", fontsize=9)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
