"""Figures of notebook 07: subgroup effects with intervals and what a sample of n items can detect."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def subgroup_effects(sub, title: str):
    """theta_g = (base's corruption loss) - (aligned's corruption loss) per subgroup with its bootstrap
    interval, one panel per subgroup variable; theta > 0: the aligned model degrades less."""
    variables = list(dict.fromkeys(sub["variable"]))
    fig, axes = plt.subplots(1, len(variables), figsize=(4.6 * len(variables), 0.22 * sub.groupby("variable").size().max()
                                                         + 1.8), squeeze=False)
    for ax, var in zip(axes[0], variables):
        s = sub[sub["variable"] == var].reset_index(drop=True)
        y = np.arange(len(s))[::-1]
        err = np.clip(np.vstack([s["theta"] - s["ci_lo"], s["ci_hi"] - s["theta"]]), 0, None)
        colours = ["#d62728" if small else "#1f77b4" for small in s["small_group"]]
        for yi, r, e, c in zip(y, s.itertuples(), err.T, colours):
            ax.errorbar(r.theta, yi, xerr=e.reshape(2, 1), fmt="o", color=c, capsize=2, markersize=4)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, [f"{r.pair} {r.dataset} {r.group}" for r in s.itertuples()], fontsize=7)
        ax.set_title(f"by {var}", fontsize=9)
        ax.set_xlabel("theta (> 0: aligned degrades less)")
    fig.suptitle(title + "  (red: fewer than 20 items in the group)", fontsize=10)
    fig.tight_layout()
    return fig


def mde_curves(table, title: str, band: float = 0.1):
    """Smallest detectable (or significant) difference against n, log scale, with the paper's "+-0.1 noise
    band" and its n = 10 and n = 50 marked."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for col, lab in (("mde_independent", "independent samples, 80 % power"),
                     ("mde_paired_connor_psi0.2", "paired (McNemar, 20 % discordant), 80 % power"),
                     ("min_significant_paired_delta", "smallest paired difference that can reach p < .05"),
                     ("wilson_halfwidth_at_0.5", "Wilson half-width of one accuracy at 0.5")):
        ax.plot(table["n"], table[col], marker=".", label=lab)
    ax.axhline(band, color="black", linestyle="--", linewidth=0.8)
    ax.text(table["n"].max(), band, f" {band}", va="center", fontsize=7)
    for n in (10, 50):
        ax.axvline(n, color="0.6", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("items (n)")
    ax.set_ylabel("difference in accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
