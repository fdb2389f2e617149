"""Figures of notebook 04: accuracy against severity (the paper's Figures 5 and 7), the reversal scan as a
forest plot of differences in differences, and the power of the reversal tests against n."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

from ..corruptions import CLEAN

DASHES = {"base": "", "aligned": (4, 2)}


def _clean_lines(ax, clean_rows):
    for role, colour in (("base", "0.2"), ("aligned", "0.55")):
        r = clean_rows[clean_rows["role"] == role]
        if len(r):
            ax.axhline(float(r["acc"].iloc[0]), color=colour, linestyle=":", linewidth=1.2)


def figure5(curves, datasets: list[str], title: str):
    """Rows = pairs, columns = datasets, colour = corruption; base solid, aligned dashed; dotted lines:
    clean accuracy (dark: base, light: aligned)."""
    corrupted = curves[curves["corruption"] != CLEAN]
    g = sns.relplot(data=corrupted, kind="line", x="severity", y="acc", hue="corruption", style="role",
                    dashes=DASHES, markers=True, row="pair", col="dataset", col_order=datasets,
                    style_order=["base", "aligned"], height=2.6, aspect=1.15, facet_kws={"sharey": True})
    for (pair, dataset), ax in g.axes_dict.items():
        _clean_lines(ax, curves[(curves["pair"] == pair) & (curves["dataset"] == dataset)
                                & (curves["corruption"] == CLEAN)])
        ax.set_xticks(sorted(corrupted["severity"].unique()))
        ax.set_ylim(-0.02, 1.02)
    g.set_titles(template="{row_name} · {col_name}", size=8)
    g.set_axis_labels("severity", "accuracy")
    pairs = curves[["pair", "pair_label"]].drop_duplicates()
    g.figure.suptitle(title + "\n" + ";  ".join(pairs["pair_label"]), fontsize=10)
    g.tight_layout()
    return g.figure


def figure7(curves, pair_id: str, dataset: str, title: str):
    """One pair on one dataset: base and aligned side by side, one line per corruption with its Wilson
    band, clean accuracy dotted."""
    sub = curves[(curves["pair"] == pair_id) & (curves["dataset"] == dataset)]
    corrupted = sub[sub["corruption"] != CLEAN]
    corr = list(dict.fromkeys(corrupted["corruption"]))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, role in zip(axes, ("base", "aligned")):
        for i, c in enumerate(corr):
            r = corrupted[(corrupted["role"] == role) & (corrupted["corruption"] == c)].sort_values("severity")
            ax.plot(r["severity"], r["acc"], marker="o", color=f"C{i}", label=c)
            ax.fill_between(r["severity"], r["ci_lo"], r["ci_hi"], color=f"C{i}", alpha=0.12)
        clean = sub[(sub["role"] == role) & (sub["corruption"] == CLEAN)]
        if len(clean):
            ax.axhline(float(clean["acc"].iloc[0]), color="black", linestyle=":", label="clean")
        model = sub.loc[sub["role"] == role, "model_label"].iloc[0] if len(sub) else role
        ax.set_title(f"{role}: {model}", fontsize=9)
        ax.set_xlabel("severity")
        ax.set_xticks(sorted(corrupted["severity"].unique()))
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[1].legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def reversal_forest(scan, title: str):
    """Difference in differences (Delta at the lowest minus Delta at the highest severity) per pair,
    dataset and corruption with its paired-bootstrap interval; filled: a reversal pattern, red: confirmed
    by the intersection-union test after BH."""
    s = scan.dropna(subset=["did"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.26 * len(s) + 1.4))
    y = np.arange(len(s))[::-1]
    for yi, r in zip(y, s.itertuples()):
        rev = str(r.pattern).startswith("reversal")
        colour = "#d62728" if r.confirmed_reversal else ("#1f77b4" if rev else "0.5")
        ax.errorbar(r.did, yi, xerr=[[max(r.did - r.did_lo, 0)], [max(r.did_hi - r.did, 0)]], fmt="o",
                    color=colour, mfc=colour if rev else "white", capsize=2, markersize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [f"{r.pair} {r.dataset} {r.corruption}" for r in s.itertuples()], fontsize=7)
    ax.set_xlabel("DiD = Delta(lowest severity) - Delta(highest severity), Delta = aligned - base")
    ax.set_title(title, fontsize=10)
    ax.plot([], [], "o", color="#1f77b4", label="reversal pattern (descriptive)")
    ax.plot([], [], "o", color="#d62728", label="reversal confirmed (IUT, BH q < .05)")
    ax.plot([], [], "o", color="0.5", mfc="white", label="other pattern")
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


def power_curves(curve, title: str, paper_ns=(10, 50)):
    """Power against items per cell for the DiD test and the intersection-union test, per effect size."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    sns.lineplot(data=curve, x="n", y="power", hue="effect", style="test", markers=True, ax=ax)
    ax.axhline(0.8, color="black", linestyle="--", linewidth=0.8)
    for n in paper_ns:
        ax.axvline(n, color="0.6", linestyle=":", linewidth=1)
        ax.text(n, 1.01, f"n = {n}", fontsize=7, ha="center", va="bottom", color="0.4")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("items per cell")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig
