"""Figures of notebook 11: refusal against severity per item type, the RR-ORR path from clean to the
highest severity per pair, and the dSCE forest with the controls marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns

from .endpoint import pair_forest

ITEM_PANELS = (("harm_image", True, "harm in the image (badge): should refuse"),
               ("harm_image", False, "its no-badge twin: should answer"),
               ("harm_text", None, "harm in the text: should refuse"),
               ("benign", None, "benign request: should answer"))


def refusal_by_severity(types, title: str, corruptions: list[str] | None = None):
    """Refusal rate against severity (0 = clean), one panel per item type, one line per model, the
    corruptions pooled (mean over them at each severity); a dotted line per model at the blank-image
    control where the run has it."""
    d = types[~types["corruption"].isin(["blank"])]
    if corruptions is not None:
        d = d[d["corruption"].isin(["none", *corruptions])]
    models = list(dict.fromkeys(types["model"]))
    colours = dict(zip(models, sns.color_palette("colorblind", len(models))))
    fig, axes = plt.subplots(1, len(ITEM_PANELS), figsize=(3.3 * len(ITEM_PANELS), 3.4), sharey=True)
    for ax, (kind, badge, label) in zip(axes, ITEM_PANELS):
        g = d[d["item_type"] == kind]
        if badge is not None:
            g = g[g["badge"] == badge]
        for m in models:
            line = g[g["model"] == m].groupby("severity")["refuse"].mean()
            ax.plot(line.index, line.to_numpy(), "o-", color=colours[m], label=m)
            blank = types[(types["model"] == m) & (types["corruption"] == "blank") & (types["item_type"] == kind)]
            if badge is not False and len(blank):
                ax.axhline(blank["refuse"].mean(), color=colours[m], linestyle=":", linewidth=1)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("severity (0 = clean)", fontsize=8)
        ax.set_ylim(-0.03, 1.03)
    axes[0].set_ylabel("refusal rate")
    axes[0].legend(fontsize=7, loc="center left")
    fig.suptitle(title + "\n(dotted: the same requests on a blank grey image)", fontsize=10)
    fig.tight_layout()
    return fig


def rr_orr_paths(rates, pairs, title: str):
    """Per pair, each model's (ORR, RR) from clean through the severities (corruptions pooled): up and
    left is safe and helpful; an arrow pointing down is refusal lost to corruption."""
    d = rates[~rates["corruption"].isin(["blank"])]
    right = max(0.3, float(d["orr"].max()) + 0.05) if len(d) else 1.0
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.6 * len(pairs), 3.8), squeeze=False)
    for ax, pair in zip(axes[0], pairs):
        for m, colour, role in ((pair.base, "tab:grey", "base"), (pair.aligned, "tab:blue", "aligned")):
            path = d[d["model"] == m].groupby("severity")[["orr", "rr"]].mean()
            ax.plot(path["orr"], path["rr"], "-", color=colour, alpha=0.6, label=f"{role}: {m}")
            for s, r in path.iterrows():
                ax.plot(r["orr"], r["rr"], "o", color=colour, markersize=4 + s)
        ax.set_xlim(-0.02, min(1.03, right))
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=7, loc="lower right")
        ax.set_xlabel("over-refusal on benign requests (ORR)", fontsize=8)
        ax.set_title(pair.id, fontsize=9)
    axes[0][0].set_ylabel("refusal of harmful requests (RR)")
    fig.suptitle(title + "\n(marker size grows with severity; clean = smallest)", fontsize=10)
    fig.tight_layout()
    return fig


def dsce_forest(sce, title: str, roles: dict | None = None):
    """dSCE = SCE(aligned) - SCE(base) with its paired item-bootstrap interval, per corruption (rows;
    ``all`` pooled last) and pair (colours). Left of 0: the aligned model keeps more of its refusals
    under corruption. ``roles``: pair id -> its role in the demo (e.g. "positive control")."""
    rows = [c for c in dict.fromkeys(sce["corruption"]) if c != "all"] + ["all"]
    labels = {pid: f"{pid} ({r})" for pid, r in (roles or {}).items()}
    return pair_forest(sce, "corruption", rows, ("dsce", "dsce_lo", "dsce_hi"), labels, "all",
                       "dSCE: refusal lost to corruption, aligned minus base (per harmful item)\n"
                       "< 0: the aligned model's refusals survive corruption better", title)
