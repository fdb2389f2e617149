"""The degradation endpoint as a forest: one line per pair and dataset, the pooled row last."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns


def pair_forest(table, row: str, rows: list[str], cols: tuple[str, str, str], labels: dict, pooled: str | None,
                xlabel: str, title: str):
    """Estimates with intervals per row (``row`` column, in ``rows`` order) and pair (colours), a zero
    line, and the ``pooled`` row (if any) last, drawn as a diamond below a dotted rule. ``cols``:
    (estimate, lower, upper); ``labels``: pair id -> legend label. Shared by the degradation endpoint and
    notebook 11's dSCE forest."""
    pairs = list(dict.fromkeys(table["pair"]))
    colours = dict(zip(pairs, sns.color_palette("colorblind", len(pairs))))
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) * len(pairs) + 1.6))
    for j, pid in enumerate(pairs):
        g = table[table["pair"] == pid].set_index(row).reindex(rows)
        y = np.arange(len(rows)) + (j - (len(pairs) - 1) / 2) * 0.22
        est, lo, hi = (g[c].to_numpy(float) for c in cols)
        ax.errorbar(est, y, xerr=[est - lo, hi - est], fmt="o", color=colours[pid], capsize=3,
                    label=labels.get(pid, pid))
        last = np.array([r == pooled for r in rows])
        ax.plot(est[last], y[last], "D", color=colours[pid], markersize=8)
    ax.axvline(0, color="black", linewidth=0.8)
    if pooled in rows:
        ax.axhline(len(rows) - 1.5, color="grey", linewidth=0.5, linestyle=":")
    ax.set_yticks(np.arange(len(rows)), rows)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel, fontsize=9)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def endpoint_forest(ep, title: str, label_of=None):
    """Mean accuracy lost by the base minus by the aligned model (``analyses.degradation.endpoint``) with
    its paired item-bootstrap interval, per dataset (rows) and pair (colours); right of 0: the aligned
    model loses less to corruption. ``label_of``: pair id -> legend label (e.g. "Z2 (positive)")."""
    from ..analyses.degradation import POOLED

    datasets = [d for d in dict.fromkeys(ep["dataset"]) if d != POOLED] + ([POOLED] if (ep["dataset"] == POOLED).any()
                                                                           else [])
    return pair_forest(ep, "dataset", datasets, ("estimate", "ci_lo", "ci_hi"), label_of or {}, POOLED,
                       "accuracy lost to corruption: base minus aligned (per item, mean over conditions)\n"
                       "> 0: the aligned model loses less", title)
