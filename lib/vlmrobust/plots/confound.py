"""Figures of notebooks 05 and 10: answer-format compliance by model and prompt, the verbosity A/B,
CE against the base's accuracy (where eq. 1 stops measuring robustness), and the 2x2 interaction of
image corruption and misleading text per pair."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns


def compliance_bars(summary, title: str):
    """Compliance (share of answers in the expected form) per model, concise against plain, one panel
    per dataset; clean images; Wilson intervals as error bars."""
    s = summary[summary["image"] == "clean"].copy()
    datasets = list(dict.fromkeys(s["dataset"]))
    models = list(dict.fromkeys(s["model"]))
    variants = list(dict.fromkeys(s["prompt_variant"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(3.1 * len(datasets), 3.2), sharey=True, squeeze=False)
    width = 0.8 / len(variants)
    colours = sns.color_palette("colorblind", len(variants))
    for ax, ds in zip(axes[0], datasets):
        for j, v in enumerate(variants):
            r = s[(s["dataset"] == ds) & (s["prompt_variant"] == v)].set_index("model").reindex(models)
            x = np.arange(len(models)) + (j - (len(variants) - 1) / 2) * width
            ax.bar(x, r["comp_text"], width, color=colours[j], label=v)
            err = np.clip([r["comp_text"] - r["ci_lo"], r["ci_hi"] - r["comp_text"]], 0, None)  # Wilson at 0/1: 1e-16
            ax.errorbar(x, r["comp_text"], yerr=err,
                        fmt="none", ecolor="0.25", capsize=2, linewidth=0.8)
        ax.set_xticks(np.arange(len(models)), models, rotation=30, ha="right", fontsize=8)
        ax.set_title(ds, fontsize=9)
        ax.set_ylim(0, 1.05)
    axes[0][0].set_ylabel("answers in the expected form")
    axes[0][-1].legend(title="prompt", fontsize=7, title_fontsize=8, loc="upper right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def verbosity_ab(ab, title: str):
    """Per pair and dataset (clean images): base and aligned accuracy with and without the concise
    instruction, strict (filled) and lenient (hollow, plain prompt) scoring."""
    ab = ab[ab["image"] == "clean"]
    panels = list(ab[["pair", "dataset"]].itertuples(index=False, name=None))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.9 * len(panels), 3.1), sharey=True, squeeze=False)
    for ax, (pid, ds) in zip(axes[0], panels):
        r = ab[(ab["pair"] == pid) & (ab["dataset"] == ds)].iloc[0]
        for k, (role, t, colour) in enumerate((("base", "b", "#0072B2"), ("aligned", "a", "#D55E00"))):
            ax.plot([0, 1], [r[f"acc_plain_{t}"], r[f"acc_concise_{t}"]], "-o", color=colour, label=f"{role} strict")
            ax.plot([0], [r[f"lenient_plain_{t}"]], "o", mfc="none", color=colour, markersize=8,
                    label=f"{role} lenient (plain)")
        ax.set_xticks([0, 1], ["plain", "concise"])
        ax.set_xlim(-0.4, 1.4)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{pid} · {ds}\ngap plain {r['gap_plain']:+.2f} → concise {r['gap_concise']:+.2f}", fontsize=8)
    axes[0][0].set_ylabel("accuracy (clean)")
    axes[0][-1].legend(fontsize=6, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def ce_vs_base_accuracy(sens, curve_fn, title: str):
    """Observed CE(aligned | base) per corruption against the base's mean corrupted accuracy, with the
    curve CE = E_a / (S (1 - acc_b)) through each point (what CE would be with the aligned model's
    errors fixed and only the base's accuracy moving); floor cells (headroom < 0.10) ringed."""
    pairs_ = list(dict.fromkeys(sens["pair"]))
    fig, axes = plt.subplots(1, len(pairs_), figsize=(4.6 * len(pairs_), 3.6), sharey=True, squeeze=False)
    datasets = list(dict.fromkeys(sens["dataset"]))
    colours = dict(zip(datasets, sns.color_palette("colorblind", len(datasets))))
    for ax, pid in zip(axes[0], pairs_):
        sub = sens[sens["pair"] == pid]
        for r in sub.itertuples():
            c = curve_fn(r.E_a, r.S)
            ax.plot(c["base_acc"], c["ce"], color=colours[r.dataset], alpha=0.25, linewidth=0.8)
        for ds in datasets:
            d = sub[sub["dataset"] == ds]
            ax.scatter(d["mean_acc_b"], d["ce"], color=colours[ds], s=22, label=ds, zorder=3)
            fl = d[d["floor"]]
            ax.scatter(fl["mean_acc_b"], fl["ce"], facecolors="none", edgecolors="k", s=80, zorder=4)
        ax.axhline(1, color="0.4", linestyle=":")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, min(4.0, max(2.0, float(np.nanmax(sub["ce"])) * 1.1)))
        ax.set_xlabel("base accuracy, mean over severities")
        ax.set_title(pid, fontsize=9)
    axes[0][0].set_ylabel("CE(aligned | base), eq. 1")
    axes[0][-1].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def text_interaction(cells, title: str):
    """Rows = pairs, columns = base / aligned: accuracy clean and corrupted (x), one line per text
    variant (none, mislead, truthful). Non-parallel none/mislead lines are the interaction."""
    pairs_ = list(dict.fromkeys(cells["pair"]))
    fig, axes = plt.subplots(len(pairs_), 2, figsize=(7.2, 2.8 * len(pairs_)), sharey=True, squeeze=False)
    styles = {"none": ("k", "-", "o"), "mislead": ("#D55E00", "--", "s"), "truthful": ("#009E73", ":", "^")}
    for i, pid in enumerate(pairs_):
        for j, role in enumerate(("base", "aligned")):
            ax = axes[i][j]
            sub = cells[(cells["pair"] == pid) & (cells["role"] == role)]
            for v, (colour, ls, marker) in styles.items():
                r = sub[sub["text"] == v].set_index("image").reindex(["clean", "corrupted"])
                if r["acc"].notna().any():
                    ax.plot([0, 1], r["acc"], linestyle=ls, marker=marker, color=colour, label=v)
            ax.set_xticks([0, 1], ["clean", "corrupted"])
            ax.set_xlim(-0.3, 1.3)
            ax.set_ylim(-0.02, 1.02)
            name = sub["model"].iloc[0] if len(sub) else ""
            ax.set_title(f"{pid} {role}: {name}", fontsize=8)
        axes[i][0].set_ylabel("accuracy")
    axes[0][-1].legend(title="text in prompt", fontsize=7, title_fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
